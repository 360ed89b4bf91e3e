"""Fixtures: every storage test runs on SQLite and on a real PostgreSQL.

PostgreSQL comes from ``DRIFTLINE_TEST_DATABASE_URL`` or, when unset, a throwaway server the
suite starts itself. A missing server fails the tests with how to provide one; nothing skips.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import make_url

from driftline.api.app import create_app
from driftline.core.security_settings import RateLimitSettings
from driftline.core.settings import DatabaseSettings, Settings
from driftline.core.storage import Database, upgrade
from driftline.core.storage.tables import Base
from tests.support import postgres
from tests.support.keys import TEST_ADMIN_KEY, add_key, bearer

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of an empty, migrated PostgreSQL database for the session."""
    given = os.environ.get("DRIFTLINE_TEST_DATABASE_URL")
    if given:
        url = _per_worker(given)
        server = None
    else:
        server = postgres.start()
        server.create_database("driftline_test")
        url = server.url("driftline_test")
    database = Database(DatabaseSettings(url=url))
    try:
        database.ping()
    except Exception as exc:
        pytest.fail(f"cannot reach the test PostgreSQL at {url}: {exc}. {postgres.HOW_TO}")
    upgrade(database)
    database.dispose()
    yield url
    if server is not None:
        postgres.stop(server)


def _per_worker(url: str) -> str:
    """Under pytest-xdist (``make test`` runs two workers) each worker truncates its database
    between tests, so each gets its own: ``<database>_gw0``, ``<database>_gw1``, created on the
    given server when missing."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    admin = parsed.set(drivername="postgresql", database="postgres")
    try:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        pytest.fail(
            f"cannot create the worker database {name!r} on {redacted(url)}: {exc}. The user "
            "needs CREATEDB, or run the tests in one process: make test PYTEST_ARGS="
        )
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    database = Database(DatabaseSettings(url=f"sqlite:///{path}"))
    upgrade(database)
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


def _truncate_all(database: Database) -> None:
    names = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "driftline.db"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def database(database_url: str, backend: str) -> Iterator[Database]:
    """A migrated, empty database on each backend."""
    database = Database(DatabaseSettings(url=database_url))
    if backend == "postgresql":
        _truncate_all(database)
    yield database
    database.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Rate limits (on by default with PostgreSQL) are tested on their own, not in every test.
    return Settings(
        database=DatabaseSettings(url=database_url), rate_limit=RateLimitSettings(enabled=False)
    )


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    """The API, called with an admin key (tests of access control use their own clients)."""
    add_key(database, "admin", plaintext=TEST_ADMIN_KEY)
    with TestClient(create_app(settings, database), headers=bearer(TEST_ADMIN_KEY)) as test_client:
        yield test_client


def redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


# --- a per-backend line in the summary, so the report shows both backends ran -------------

_by_backend: Counter[tuple[str, str]] = Counter()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        for name in BACKENDS:
            if (
                f"[{name}" in report.nodeid
                or f"-{name}]" in report.nodeid
                or f"-{name}-" in report.nodeid
            ):
                _by_backend[(name, report.outcome)] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _by_backend:
        return
    terminalreporter.section("storage tests by backend")
    for name in BACKENDS:
        counts = {outcome: n for (b, outcome), n in _by_backend.items() if b == name}
        line = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "none ran"
        terminalreporter.write_line(f"{name}: {line}")
