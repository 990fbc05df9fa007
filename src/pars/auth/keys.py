"""API keys.

A key reads ``pars_<key_id>_<secret>``. The key id (10 letters and digits) is public: it names
the key in the audit trail and tells which key a wrong secret was tried against, so failures
can be counted and the key locked (CJIS Security Policy 5.5.3). The digest covers the whole key.

Keys are 256-bit random tokens, so they are stored as SHA-256 digests rather than argon2 hashes:
a slow hash protects guessable passwords, but nothing can guess a 256-bit secret, and a fast
digest lets every request authenticate with one indexed lookup. Passwords (web sign-in) use argon2.
"""

from __future__ import annotations

import hashlib
import secrets
import string

KEY_PREFIX = "pars_"
KEY_ID_LENGTH = 10
_KEY_ID_ALPHABET = string.ascii_letters + string.digits


def new_key() -> str:
    # The id avoids "_" (the separator) so that any secret, which may contain it, still parses.
    key_id = "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(KEY_ID_LENGTH))
    return f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def key_id_of(key: str) -> str | None:
    """The key id when ``key`` has the form of a PARS key, else None (an older key, or an
    administrator key chosen by the operator)."""
    if not key.startswith(KEY_PREFIX):
        return None
    key_id, separator, secret = key[len(KEY_PREFIX) :].partition("_")
    if not separator or not secret or len(key_id) != KEY_ID_LENGTH:
        return None
    if not all(c in _KEY_ID_ALPHABET for c in key_id):
        return None
    return key_id


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
