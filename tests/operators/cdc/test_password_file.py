"""``password.file``: a source's password read from a file, for both sources' options."""

import pytest

from operators.cdc.password_file import password_of
from operators.mysql.source_config import MySqlSourceConfig
from operators.postgres.source_config import InvalidSourceOption, PostgresSourceConfig
from paimon_py.exceptions import OptionError


def test_the_first_line_of_the_file_is_the_password(tmp_path):
    for text in ("s3cret\n", "s3cret\r\n", "s3cret", "s3cret\nignored\n"):
        (tmp_path / "pw").write_text(text)
        assert password_of({"password": "", "password.file": str(tmp_path / "pw")}) == "s3cret"
    assert password_of({"password": "given", "password.file": None}) == "given"


@pytest.mark.parametrize("password, content, message", [
    ("given", "s3cret", "password and password.file are both set — give only one of them"),
    ("", None, "cannot be read (No such file or directory) — name a readable file whose first line is the password"),
    ("", "", "has no password on its first line — write the password there"),
    ("", "\nsecond", "has no password on its first line"),
])
def test_refusals_say_what_to_do(tmp_path, password, content, message):
    path = tmp_path / "pw"
    if content is not None:
        path.write_text(content)
    with pytest.raises(OptionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        password_of({"password": password, "password.file": str(path)})


def test_both_sources_take_it_and_keep_only_the_password(tmp_path):
    (tmp_path / "pw").write_text("s3cret\n")
    common = {"hostname": "h", "username": "u", "password.file": str(tmp_path / "pw")}
    pg = PostgresSourceConfig.parse({**common, "database-name": "d", "slot.name": "s"}, table_required=False)
    my = MySqlSourceConfig.parse({**common, "database-name": "d"}, table_required=False)
    assert pg.password == my.password == "s3cret"
    with pytest.raises(InvalidSourceOption, match="password.file=.* cannot be read"):
        PostgresSourceConfig.parse({**common, "password.file": str(tmp_path / "missing"), "database-name": "d",
                                    "slot.name": "s"}, table_required=False)
