"""The Ed25519 key that signs checkpoints.

It lives in a file outside the database (``PARS_AUDIT_KEY_FILE``), so someone who can rewrite
the database still cannot sign a checkpoint for the rewritten trail. The file is PKCS#8 PEM,
readable by its owner only; a key any other account could read is refused, not used.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class AuditKeyError(RuntimeError):
    """The signing key is missing, unreadable or unsafe: a configuration error for start-up."""


def key_id_of(public_key: str) -> str:
    return hashlib.sha256(bytes.fromhex(public_key)).hexdigest()[:16]


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey
    public_key: str  # hex of the 32 raw bytes
    key_id: str

    def sign(self, message: bytes) -> str:
        return self.private_key.sign(message).hex()


def _public_hex(private_key: Ed25519PrivateKey) -> str:
    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def create_key_file(path: Path) -> bool:
    """Creates a new key at ``path`` (mode 0600) unless a file is there; True when it did.

    ``O_EXCL`` makes two concurrent ``pars init`` safe: one creates, the other sees the file.
    """
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return True


def load_signer(path: Path) -> Signer:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise AuditKeyError(f"the audit signing key {path} does not exist; `pars init` creates it") from exc
    if stat.S_IMODE(mode) & 0o077:
        raise AuditKeyError(
            f"the audit signing key {path} is readable by other accounts (mode {stat.S_IMODE(mode):04o}); "
            f"make it private with: chmod 600 {path}"
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise AuditKeyError(f"the audit signing key {path} cannot be read: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(f"the audit signing key {path} is not an Ed25519 key")
    public = _public_hex(key)
    return Signer(private_key=key, public_key=public, key_id=key_id_of(public))


def signature_valid(public_key: str, signature: str, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(bytes.fromhex(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True
