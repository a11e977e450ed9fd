"""Secrets orderlink must read back, sealed under a key kept outside the database.

Webhook codes, client secrets and OAuth tokens are stored as SHA-256 digests: orderlink only
compares them. An application's `application_token` cannot be: every event delivery sends it
(_includes/auth-params-in-events.md). It is stored sealed with AES-256-GCM (`sealed:1:` and
base64 of nonce + ciphertext, bound to its portal and app), so a copy of the database alone does
not reveal it.

The key, 32 random bytes written as URL-safe base64, comes from the first of:
`--secret-key` / `ORDERLINK_SECRET_KEY` (several workers or hosts on one PostgreSQL database),
the file `--secret-key-file`, or a default file: beside the SQLite database (`orderlink.db` ->
`orderlink.db.key`), or `orderlink-secret.key` in the working directory for PostgreSQL. A key
file is created (mode 0600) only while the database holds nothing sealed yet: a missing or wrong
key is then a startup error (`SecretKeyError`), never a new key that would make every sealed
token unreadable. docs/decisions.md.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "sealed:1:"
_NONCE = 12
DEFAULT_POSTGRES_KEY_FILE = "orderlink-secret.key"


class SecretKeyError(Exception):
    """The secret key cannot be had, or does not open what the database holds."""


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def token_context(portal_id: int, app_id: int) -> str:
    """What an app's sealed application_token is bound to: it cannot be moved to another row."""
    return f"app_installs:{int(portal_id)}:{int(app_id)}"


def new_key_text() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


class Sealer:
    """Seals and opens values under one key; `context` binds a value to its row."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, value: str, context: str) -> str:
        if not value or is_sealed(value):
            return value
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, value.encode(), context.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, value: str, context: str) -> str:
        """The clear value; a value stored before sealing (not sealed) is returned as it is."""
        if not is_sealed(value):
            return value
        try:
            raw = base64.urlsafe_b64decode(value[len(PREFIX) :])
            return self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], context.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise SecretKeyError(
                "the secret key does not open the application tokens stored in this database: "
                "start with the key they were sealed with (--secret-key-file or "
                "ORDERLINK_SECRET_KEY)"
            ) from exc


@dataclass(frozen=True, slots=True)
class KeySource:
    """Where a store's key comes from: `key` (base64 text), else the file `path`; neither:
    a key for this process only (an in-memory database)."""

    key: str = ""
    path: str = ""

    @classmethod
    def for_database(cls, database: str, key: str = "", path: str = "") -> KeySource:
        if key or path:
            return cls(key=key, path=path)
        if database.startswith("sqlite:///"):
            file = database[len("sqlite:///") :]
            if not file or file == ":memory:":
                return cls(key=new_key_text())
            return cls(path=file + ".key")
        return cls(path=DEFAULT_POSTGRES_KEY_FILE)

    def sealer(self, *, may_create: bool) -> Sealer:
        """The key as a Sealer; the key file is created only when `may_create` (nothing sealed
        in the database yet)."""
        if self.key:
            return Sealer(_decode(self.key, "ORDERLINK_SECRET_KEY / --secret-key"))
        path = Path(self.path)
        try:
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            if not may_create:
                raise SecretKeyError(
                    f"the secret key file {path} is missing, and this database holds "
                    "application tokens sealed with it: restore the file, or give the key with "
                    "--secret-key-file / ORDERLINK_SECRET_KEY"
                ) from None
            text = _create(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise SecretKeyError(f"the secret key file {path} cannot be read: {exc}") from None
        return Sealer(_decode(text, str(path)))


def _decode(text: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        key = b""
    if len(key) != 32:
        raise SecretKeyError(
            f"{where}: a secret key is 32 bytes in URL-safe base64 (44 characters), as in a "
            "key file orderlink created"
        )
    return key


def _create(path: Path) -> str:
    """Write a new key atomically with mode 0600; a process that lost the race reads the
    winner's key, so workers starting together agree on one."""
    text = new_key_text()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as file:
                file.write(text + "\n")
                file.flush()
                os.fsync(file.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:
                return path.read_text(encoding="ascii").strip()
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
    except OSError as exc:
        raise SecretKeyError(f"the secret key file {path} cannot be created: {exc}") from None
    return text
