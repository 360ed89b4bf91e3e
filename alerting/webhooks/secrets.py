"""Encryption at rest of webhook signing secrets and custom headers (Fernet: AES-CBC + HMAC).

The key comes from ``DRIFTLINE_SECRET_KEY`` (one or more Fernet keys, comma-separated, newest
first: the first encrypts, all decrypt, so keys can be rotated). When it is unset a key file
(``secret_key_file``) is used, created with mode 0600 on first use: fine for one embedded
process, but replicas each create their own file unless they share the setting, and one
cannot read what another wrote. Multi-replica deployments must set ``DRIFTLINE_SECRET_KEY``.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from driftline.core.errors import DriftlineError
from driftline.core.settings import Settings

__all__ = ["SecretBox", "SecretKeyError", "load_box", "new_key"]


class SecretKeyError(DriftlineError, ValueError):
    """The key is malformed, or a stored value was encrypted with another key."""


def new_key() -> str:
    """A new random Fernet key, as ``DRIFTLINE_SECRET_KEY`` expects it."""
    return Fernet.generate_key().decode()


class SecretBox:
    """Encrypts and decrypts small values with the configured key(s)."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise SecretKeyError("no secret key given")
        try:
            self._fernet = MultiFernet([Fernet(key.strip().encode()) for key in keys])
        except ValueError as exc:
            raise SecretKeyError(
                "DRIFTLINE_SECRET_KEY must be Fernet keys (32 url-safe base64 bytes), "
                "comma-separated; make one with: python -c "
                '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
            ) from exc

    def encrypt(self, value: str) -> bytes:
        return self._fernet.encrypt(value.encode())

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken as exc:
            # Never include the token or the key in the message: it ends up in logs.
            raise SecretKeyError(
                "a stored secret cannot be decrypted: it was encrypted with another key "
                "(is DRIFTLINE_SECRET_KEY the same on every replica?)"
            ) from exc

    def encrypt_json(self, value: Any) -> bytes:
        return self.encrypt(json.dumps(value, separators=(",", ":")))

    def decrypt_json(self, token: bytes) -> Any:
        return json.loads(self.decrypt(token))


def _key_file(path: Path) -> str:
    """The key stored at ``path``, created atomically (0600) by the first process to get here."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(new_key() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    try:
        # link() fails when the file exists: two processes starting at once agree on one key.
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return path.read_text().strip()


def load_box(settings: Settings) -> SecretBox:
    """The box for ``settings``: the ``secret_key`` setting, else the key file."""
    given = settings.secret_key.get_secret_value() if settings.secret_key else ""
    if given.strip():  # an empty variable (as compose files often pass) counts as unset
        keys = given.split(",")
    else:
        keys = [_key_file(Path(settings.secret_key_file).expanduser())]
    return SecretBox([key for key in keys if key.strip()])
