"""``FlinkRest``: a running job's custom metrics (``paimon_cdc.*``) through Flink's REST API,
summed over the subtasks of every vertex that has them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Optional


class FlinkRest:
    def __init__(self, address: str):
        self.address = address.rstrip("/")

    def get(self, path: str):
        return json.loads(self.get_bytes(path))

    def get_bytes(self, path: str) -> bytes:
        with urllib.request.urlopen(self.address + path, timeout=10) as response:
            return response.read()

    def running_job(self) -> Optional[str]:
        """The id of the one running job (None while none runs or the REST API is not up yet)."""
        try:
            jobs = self.get("/jobs")["jobs"]
        except (urllib.error.URLError, ConnectionError):
            return None
        running = [j["id"] for j in jobs if j["status"] == "RUNNING"]
        return running[0] if running else None

    def metrics(self, job: str, names: list[str]) -> dict[str, float]:
        """``names`` (e.g. ``paimon_cdc.records_read``) -> the sum over the subtasks reporting them;
        names nobody reports yet are missing."""
        out: dict[str, float] = {}
        for vertex in self.get(f"/jobs/{job}")["vertices"]:
            path = f"/jobs/{job}/vertices/{vertex['id']}/metrics"
            ids = [m["id"] for m in self.get(path) if any(m["id"].endswith("." + n) for n in names)]
            if not ids:
                continue
            for metric in self.get(f"{path}?get={','.join(ids)}"):
                name = next(n for n in names if metric["id"].endswith("." + n))
                out[name] = out.get(name, 0) + float(metric["value"])
        return out
