"""``LocalPostgres``: a private PostgreSQL server for the demo job, the tests and the benchmark.

Started from the installed server binaries (``initdb``, ``postgres``) in a temporary data
directory, listening on 127.0.0.1 on a free port with ``wal_level=logical``; stopped by the PID
of its postmaster. PostgreSQL refuses to run as root, so under root the server runs as the
``postgres`` system user (created by the Debian package).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Optional

from operators.cdc.loopback import loopback_port

SUPERUSER = "postgres"
PASSWORD = "postgres"


def find_bin_dir() -> str:
    """Directory of ``initdb``/``postgres``: ``$PG_BIN``, else the newest /usr/lib/postgresql/*/bin."""
    if os.environ.get("PG_BIN"):
        return os.environ["PG_BIN"]
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    for directory in reversed(candidates):
        if os.path.exists(os.path.join(directory, "initdb")):
            return directory
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(found)
    raise FileNotFoundError("PostgreSQL server binaries (initdb, postgres) not found: install "
                            "the postgresql package or set PG_BIN to their directory")


@dataclass
class LocalPostgres:
    """A private PostgreSQL server. ``settings`` are extra ``postgresql.conf`` parameters."""

    settings: dict[str, str] = field(default_factory=dict)
    base_dir: Optional[str] = None
    port: int = 0
    process: Optional[subprocess.Popen] = None

    @property
    def dsn(self) -> str:
        return self.dsn_for("postgres")

    def dsn_for(self, database: str, user: str = SUPERUSER, password: str = PASSWORD) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={database} user={user} password={password}"

    def conf(self, database: str = "postgres") -> dict[str, str]:
        """The job's ``--postgres_conf`` values for ``database`` (superuser credentials)."""
        return {"hostname": "127.0.0.1", "port": str(self.port), "username": SUPERUSER,
                "password": PASSWORD, "database-name": database}

    def start(self) -> "LocalPostgres":
        bin_dir = find_bin_dir()
        self.base_dir = self.base_dir or tempfile.mkdtemp(prefix="local-postgres-")
        data_dir = os.path.join(self.base_dir, "data")
        user = self._run_as()
        if user:
            os.chmod(self.base_dir, 0o755)
            shutil.chown(self.base_dir, user.pw_uid, user.pw_gid)
        pwfile = os.path.join(self.base_dir, "pwfile")
        with open(pwfile, "w") as f:
            f.write(PASSWORD)
        if user:
            shutil.chown(pwfile, user.pw_uid, user.pw_gid)
        self._check([os.path.join(bin_dir, "initdb"), "-D", data_dir, "-U", SUPERUSER,
                     "--pwfile", pwfile, "-A", "scram-sha-256", "--no-sync", "-E", "UTF8",
                     "--locale", "C"], user)
        self.port = self.port or loopback_port()
        params = {"listen_addresses": "127.0.0.1", "port": str(self.port),
                  "unix_socket_directories": self.base_dir, "wal_level": "logical",
                  "max_replication_slots": "10", "max_wal_senders": "10", "fsync": "off",
                  "synchronous_commit": "off", "full_page_writes": "off",
                  "shared_buffers": "128MB", "max_connections": "50"}
        params.update(self.settings)
        args = [os.path.join(bin_dir, "postgres"), "-D", data_dir]
        for key, value in params.items():
            args += ["-c", f"{key}={value}"]
        log = open(os.path.join(self.base_dir, "server.log"), "ab")
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True, **self._user_kwargs(user))
        log.close()
        self._wait_ready()
        return self

    def _run_as(self):
        return pwd.getpwnam("postgres") if os.geteuid() == 0 else None

    @staticmethod
    def _user_kwargs(user) -> dict:
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}

    def _check(self, args: list[str], user) -> None:
        result = subprocess.run(args, capture_output=True, text=True, **self._user_kwargs(user))
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:1])} failed:\n{result.stdout}{result.stderr}")

    def _wait_ready(self, timeout_s: float = 30.0) -> None:
        import psycopg2
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited at start:\n{self.log_tail()}")
            try:
                psycopg2.connect(self.dsn, connect_timeout=2).close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            with open(os.path.join(self.base_dir, "server.log"), errors="replace") as f:
                return f.read()[-chars:]
        except OSError:
            return ""

    def execute(self, sql: str, params=None, database: str = "postgres") -> list[tuple]:
        """Runs one statement in autocommit; returns the rows it produced (if any)."""
        import psycopg2
        conn = psycopg2.connect(self.dsn_for(database))
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def stop(self) -> None:
        """Fast shutdown by the postmaster's PID (SIGKILL after 20 s), then remove the files."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
        if self.base_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> "LocalPostgres":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
