"""`driftline keys ...`: create prints the key once, list never shows it, revoke, generate."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from driftline.access.keystore import authenticate
from driftline.cli import app
from driftline.core.settings import DatabaseSettings
from driftline.core.storage import Database

KEY = re.compile(r"dl_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")


@pytest.fixture
def database(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    target = tmp_path / "keys.db"
    shutil.copyfile(sqlite_template, target)
    monkeypatch.setenv("DRIFTLINE_DATABASE__URL", f"sqlite:///{target}")
    return Database(DatabaseSettings(url=f"sqlite:///{target}"))


def test_create_list_revoke(database: Database) -> None:
    runner = CliRunner()
    created = runner.invoke(app, ["keys", "create", "-s", "ingest", "-m", "fraud", "--name", "srv"])
    assert created.exit_code == 0, created.output
    (key,) = KEY.findall(created.stdout)
    with database.read() as session:
        principal = authenticate(session, key)
    assert principal is not None and principal.scopes == {"ingest"}
    assert principal.models == {"fraud"}

    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0 and key not in listed.output
    assert (
        f"dl_{key[3:15]}_" in listed.output and "ingest\tfraud\tnever\tactive\tsrv" in listed.output
    )

    assert runner.invoke(app, ["keys", "revoke", str(principal.key_id)]).exit_code == 0
    with database.read() as session:
        assert authenticate(session, key) is None
    assert runner.invoke(app, ["keys", "revoke", "999"]).exit_code == 1
    database.dispose()


@pytest.mark.parametrize(
    "arguments",
    [
        ["-s", "root"],
        ["-s", "admin", "-m", "fraud"],
        ["-s", "read", "-m", "fraud"],
        ["-s", "ingest", "-m", "no such model!"],
        [],
    ],
)
def test_bad_key_specs_are_refused(database: Database, arguments: list[str]) -> None:
    result = CliRunner().invoke(app, ["keys", "create", *arguments])
    assert result.exit_code == 2
    assert not KEY.search(result.output)
    database.dispose()


def test_generate_prints_a_fresh_key_without_storing_it(database: Database) -> None:
    first = CliRunner().invoke(app, ["keys", "generate"]).stdout.strip()
    second = CliRunner().invoke(app, ["keys", "generate"]).stdout.strip()
    assert KEY.fullmatch(first) and KEY.fullmatch(second) and first != second
    assert "\t" not in CliRunner().invoke(app, ["keys", "list"]).output
    database.dispose()
