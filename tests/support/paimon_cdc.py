"""Runs the ``paimon-cdc`` console command in a child process, as a user would (``run_console``), once
a sync job has published a position (``wait_published``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from operators.cdc.source_position import POSITIONS_DIRECTORY
from tests.support.jobs import Job
from tests.support.paths import ROOT
from tests.support.waiting import wait_until


@dataclass
class ConsoleRun:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_console(*args: str, timeout: float = 300) -> ConsoleRun:
    """``paimon-cdc <args>``; its exit code, stdout and stderr."""
    result = subprocess.run([sys.executable, "-m", "operators.console.main", *args], capture_output=True, text=True,
                            timeout=timeout, cwd=ROOT)
    return ConsoleRun(result.returncode, result.stdout, result.stderr)


def wait_published(warehouse: str, job: Job, timeout: float = 120) -> None:
    """Until the job has published a source position in ``warehouse`` (its first checkpoint is in the lake)."""
    directory = os.path.join(warehouse, POSITIONS_DIRECTORY)
    wait_until(lambda: os.path.isdir(directory) and os.listdir(directory), timeout, "a published position", job.output)
