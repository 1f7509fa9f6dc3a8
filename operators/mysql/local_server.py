"""``LocalMariaDB``: a private MariaDB server for the demo job, the tests and the benchmark.

Started from the installed server binaries (``mariadb-install-db``, ``mariadbd``) in a temporary
data directory, listening on 127.0.0.1 on a free port, with the binlog settings the MySQL source
needs (``log_bin``, ``binlog_format=ROW``, ``binlog_row_image=FULL``,
``binlog_row_metadata=FULL``); stopped by its PID. ``settings`` override or add server options
(tests start servers with wrong settings on purpose). The machine's shared server on port 3306
is never touched.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Optional

from operators.cdc.loopback import loopback_port

ROOT_PASSWORD = "mariadb-root"

DEFAULT_SETTINGS = {
    "log-bin": "binlog", "server-id": "101", "binlog-format": "ROW", "binlog-row-image": "FULL",
    "binlog-row-metadata": "FULL", "innodb-buffer-pool-size": "256M", "innodb-flush-log-at-trx-commit": "2",
    "sync-binlog": "0", "innodb-doublewrite": "0", "max-connections": "100", "character-set-server": "utf8mb4",
    "collation-server": "utf8mb4_general_ci", "max-allowed-packet": "64M",
}


def find_binary(*names: str) -> str:
    for name in names:
        for directory in (os.environ.get("MARIADB_BIN", ""), "/usr/sbin", "/usr/bin", "/usr/local/bin"):
            path = os.path.join(directory, name) if directory else ""
            if path and os.access(path, os.X_OK):
                return path
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError(f"MariaDB server binaries ({', '.join(names)}) not found: install the mariadb-server "
                            f"package or set MARIADB_BIN to their directory")


@dataclass
class LocalMariaDB:
    """A private MariaDB server. ``settings``: server options (``name: value``; a value of None
    leaves a default option out)."""

    settings: dict[str, Optional[str]] = field(default_factory=dict)
    base_dir: Optional[str] = None
    port: int = 0
    process: Optional[subprocess.Popen] = None

    @property
    def socket_path(self) -> str:
        return os.path.join(self.base_dir, "mariadb.sock")

    def conf(self, database: str = "") -> dict[str, str]:
        """The job's ``--mysql_conf`` values (root credentials); ``database``: database-name."""
        values = {"hostname": "127.0.0.1", "port": str(self.port), "username": "root", "password": ROOT_PASSWORD}
        if database:
            values["database-name"] = database
        return values

    def connect(self, database: Optional[str] = None, **kwargs):
        """A pymysql connection as root over TCP (autocommit)."""
        import pymysql
        return pymysql.connect(host="127.0.0.1", port=self.port, user=kwargs.pop("user", "root"),
                               password=kwargs.pop("password", ROOT_PASSWORD), database=database,
                               autocommit=True, **kwargs)

    def start(self) -> "LocalMariaDB":
        self.base_dir = self.base_dir or tempfile.mkdtemp(prefix="local-mariadb-")
        data_dir = os.path.join(self.base_dir, "data")
        user = ["--user=mysql"] if os.geteuid() == 0 else []
        if user:
            shutil.chown(self.base_dir, "mysql", "mysql")
        self._check([find_binary("mariadb-install-db", "mysql_install_db"), "--no-defaults", f"--datadir={data_dir}",
                     "--auth-root-authentication-method=normal", "--skip-test-db", *user])
        self.port = self.port or loopback_port()
        self._launch()
        self._wait_ready()
        self._set_root_password()
        return self

    def _check(self, args: list[str]) -> None:
        result = subprocess.run(args, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{os.path.basename(args[0])} failed:\n{result.stdout}{result.stderr}")

    def _wait_ready(self, timeout_s: float = 60.0) -> None:
        import pymysql
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"MariaDB exited at start:\n{self.log_tail()}")
            try:
                pymysql.connect(unix_socket=self.socket_path, user="root", connect_timeout=2).close()
                return
            except pymysql.err.OperationalError as e:
                if e.args[0] == 1045:  # answering (the root password is set already)
                    return
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _set_root_password(self) -> None:
        import pymysql
        conn = pymysql.connect(unix_socket=self.socket_path, user="root", autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute("ALTER USER 'root'@'localhost' IDENTIFIED BY %s", (ROOT_PASSWORD,))
                cur.execute("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'")
                cur.execute("ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY %s", (ROOT_PASSWORD,))
                cur.execute("GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION")
        finally:
            conn.close()

    def log_tail(self, chars: int = 3000) -> str:
        try:
            with open(os.path.join(self.base_dir, "server.log"), errors="replace") as f:
                return f.read()[-chars:]
        except OSError:
            return ""

    def execute(self, sql: str, params=None, database: Optional[str] = None) -> list[tuple]:
        """Runs one statement in autocommit; returns the rows it produced (if any)."""
        conn = self.connect(database)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return list(cur.fetchall()) if cur.description else []
        finally:
            conn.close()

    def kill(self) -> None:
        """kill -9 of the server (tests of a crashed source)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def restart(self) -> None:
        """Stops the server (normal shutdown) and starts it again on the same port and data."""
        self._shutdown()
        self._launch()
        self._wait_ready()

    def _launch(self) -> None:
        """Starts ``mariadbd`` on the data directory and port (without waiting for it)."""
        user = ["--user=mysql"] if os.geteuid() == 0 else []
        options = {**DEFAULT_SETTINGS, **self.settings}
        args = [find_binary("mariadbd", "mysqld"), "--no-defaults", f"--datadir={os.path.join(self.base_dir, 'data')}",
                f"--port={self.port}", "--bind-address=127.0.0.1", f"--socket={self.socket_path}",
                f"--pid-file={os.path.join(self.base_dir, 'mariadb.pid')}",
                f"--log-error={os.path.join(self.base_dir, 'server.log')}", "--skip-name-resolve", *user]
        args += [f"--{name}={value}" if value != "" else f"--{name}"
                 for name, value in options.items() if value is not None]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)

    def _shutdown(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def stop(self) -> None:
        """Normal shutdown by PID (SIGKILL after 30 s), then remove the files."""
        self._shutdown()
        self.process = None
        if self.base_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> "LocalMariaDB":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
