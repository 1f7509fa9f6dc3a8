"""A source's password from a file (``password.file``), so that it stays out of the process's
command line (``ps``) and out of Flink's client log, which records the Python driver's command
line under ``flink run``. The job reads the file once, on the client, before it checks anything;
the password then travels inside the job like one given with ``password``, so the file need not
exist on the TaskManagers. A secret mounted as a file (Kubernetes, Docker) is used as it is.
"""

from __future__ import annotations

from typing import Any, Mapping

from paimon_py.config_option import ConfigOption
from paimon_py.exceptions import OptionError

PASSWORD_OPTIONS = (
    ConfigOption("password", default="", description="Password (shown by `ps`: prefer `password.file`)"),
    ConfigOption("password.file", description="File whose first line is the password, read once at start "
                                              "(instead of `password`)"),
)
"""The password options every source declares (``--postgres_conf``, ``--mysql_conf``)."""


def password_of(values: Mapping[str, Any]) -> str:
    """The password of parsed source options: ``password``, or the first line of ``password.file``
    (``OptionError`` when both are set, or the file cannot be read or is empty)."""
    path = values["password.file"]
    if path is None:
        return values["password"]
    if values["password"]:
        raise OptionError("password and password.file are both set — give only one of them")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
        raise OptionError(f"password.file={path} cannot be read ({reason}) — name a readable file "
                          f"whose first line is the password") from None
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise OptionError(f"password.file={path} has no password on its first line — write the password there")
    return lines[0]
