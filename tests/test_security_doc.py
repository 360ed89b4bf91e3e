"""docs/security.md against the code: scopes, key format, limits, the files and settings it
cites, and who may reach which route (asked of the real app, without and with keys)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from fastapi.testclient import TestClient

from driftline.access.keys import PREFIX_BYTES, SECRET_BYTES, Scope, generate, parse_prefix
from driftline.api.app import create_app
from driftline.core.settings import Settings
from driftline.core.storage import Database
from tests.support.keys import add_key, bearer

ROOT = Path(__file__).parents[1]
DOC = (ROOT / "docs" / "security.md").read_text()
FLAT = " ".join(DOC.split())  # sentences as one line, whatever the wrapping
MiB = 1024 * 1024


def test_the_scope_table_is_the_code() -> None:
    rows = re.findall(r"^\| `(\w+)` \|", DOC, re.M)
    assert sorted(rows) == sorted(scope.value for scope in Scope)


def test_keys_look_and_are_stored_as_described() -> None:
    assert "`dl_<12 hex prefix>_<32 random bytes, base64url>`" in FLAT
    assert (PREFIX_BYTES * 2, SECRET_BYTES) == (12, 32)
    key = generate()
    assert re.fullmatch(r"dl_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", key.plaintext)
    assert parse_prefix(key.plaintext) == key.prefix  # the prefix is the lookup key
    assert "stored as SHA-256" in FLAT
    assert key.key_hash == hashlib.sha256(key.plaintext.encode()).hexdigest()


def test_limits_are_the_defaults() -> None:
    defaults = Settings()
    caps = re.search(r"JSON (\d+) MiB, ingest (\d+) MiB, reference uploads (\d+) MiB", FLAT)
    assert caps, "the body caps sentence moved; update this test"
    assert [int(c) * MiB for c in caps.groups()] == [
        defaults.auth.max_json_bytes,
        defaults.ingest.max_request_bytes,
        defaults.reference.max_bytes,
    ]
    depth = re.search(r"nest at most (\d+) levels", FLAT)
    assert depth and int(depth.group(1)) == defaults.auth.max_json_depth
    assert "multipart forms hold one file and four fields" in FLAT
    assert (defaults.auth.max_form_files, defaults.auth.max_form_fields) == (1, 4)
    assert "at most once a minute per key" in FLAT and defaults.auth.last_used_resolution_s == 60


def test_cited_files_exist_and_variables_are_settings() -> None:
    for path in re.findall(r"`((?:tests|prometheus)/[\w/.-]+)`", DOC):
        assert (ROOT / path).exists(), path
    fields = Settings.model_fields
    sdk = set(re.findall(r"`(DRIFTLINE_[A-Z_]+)`", (ROOT / "sdk" / "README.md").read_text()))
    section = ""
    for name in re.findall(r"`(DRIFTLINE_[A-Z_]+|__[A-Z_]+)", DOC):
        if name.startswith("__"):
            name = section + name
        section = name.rsplit("__", 1)[0]
        if name in sdk:
            continue  # the SDK's environment (sdk/README.md), not the service's settings
        parts = name.removeprefix("DRIFTLINE_").lower().split("__")
        model = fields[parts[0]].annotation if len(parts) == 2 else Settings
        assert parts[-1] in model.model_fields, f"{name} is not a setting"  # type: ignore[union-attr]


def test_who_may_reach_what(settings: Settings, database: Database) -> None:
    read, ingest = add_key(database, "read"), add_key(database, "ingest")
    with TestClient(create_app(settings, database)) as anyone:
        for public in ("/healthz", "/readyz", "/docs", "/openapi.json"):
            assert anyone.get(public).status_code == 200, public
        for private in ("/v1/models", "/metrics"):
            assert anyone.get(private).status_code == 401, private
        assert anyone.get("/v1/models", headers={"X-API-Key": read}).status_code == 200
        assert anyone.get("/metrics", headers=bearer(read)).status_code == 200
        # On-call work takes a read key: silencing; configuration takes admin.
        silence = {"matchers": {"model": "fraud"}, "comment": "x", "duration_minutes": 5}
        assert anyone.post("/v1/silences", json=silence, headers=bearer(read)).status_code == 201
        model = {"name": "fraud", "task": "regression", "features": []}
        assert anyone.post("/v1/models", json=model, headers=bearer(read)).status_code == 403
        assert anyone.get("/v1/models", headers=bearer(ingest)).status_code == 403
        assert (
            anyone.post("/v1/keys", json={}, headers=bearer("dl_0123_nonsense")).status_code == 401
        )
