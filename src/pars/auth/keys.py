"""API keys.

Keys are 256-bit random tokens, so they are stored as SHA-256 digests rather than argon2 hashes:
a slow hash protects guessable passwords, but nothing can guess a 256-bit key, and a fast digest
lets every request authenticate with one indexed lookup. Passwords (web sign-in) use argon2.
"""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "pars_"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
