"""Keyed hashes of identifying values: how PARS recognises a person again without keeping who.

A search's subject (on the audit trail) and a registered case's subjects (in the database) are
HMACs of normalised names and dates, under keys derived from the audit signing key. That key
lives outside the database, so neither the trail nor the cases table can be tested against a
list of names and birth dates. Each use has its own domain string, so a case subject's hash and
a search subject's hash of the same values differ and cannot be joined.

Every writing session has the key (``pars.work.unit_of_work`` requires the signer); a session
without it raises `OutsideUnitOfWork` rather than write a search without its subject.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Mapping
from enum import StrEnum

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy.orm import Session

from pars.audit.chain import session_policy


class Domain(StrEnum):
    SEARCH_SUBJECT = "pars.search-subject.v1"
    CASE_SUBJECT = "pars.case-subject.v1"


Hasher = Callable[[Mapping[str, str]], str]

_KEYS: dict[tuple[str, Domain], bytes] = {}
_LOCK = threading.Lock()


def hasher(session: Session, domain: Domain) -> Hasher:
    """A function from values (name → normalised value) to their keyed hash (32 hex digits).
    The key is derived once per signer and domain."""
    signer = session_policy(session).signer
    key = _KEYS.get((signer.key_id, domain))
    if key is None:
        raw = signer.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        with _LOCK:
            key = _KEYS.setdefault((signer.key_id, domain), hashlib.sha256(domain.encode() + b"\0" + raw).digest())

    def digest(values: Mapping[str, str]) -> str:
        message = json.dumps(dict(values), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]

    return digest
