"""API keys for tests: a fixed admin key the fixtures store, and a helper to add others."""

from __future__ import annotations

from driftline.access.keys import Scope
from driftline.access.keystore import KeySpec, create_key
from driftline.core.storage import Database

__all__ = ["TEST_ADMIN_KEY", "add_key", "bearer"]

# Well-formed (dl_<12 hex>_<43+ base64url>) so it can also be DRIFTLINE_BOOTSTRAP_ADMIN_KEY.
TEST_ADMIN_KEY = "dl_0123456789ab_" + "test-admin-key-not-secret-0123456789abcdefgh"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def add_key(
    database: Database,
    *scopes: str,
    models: list[str] | None = None,
    plaintext: str | None = None,
) -> str:
    """Store a key with ``scopes`` and return it."""
    spec = KeySpec(name="test", scopes=[Scope(s) for s in scopes], models=models)
    with database.write() as session:
        return create_key(session, spec, plaintext=plaintext).key
