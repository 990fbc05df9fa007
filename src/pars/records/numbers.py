"""Human-facing numbers: OTN-style tracking numbers, PPNs and Municipal Court docket numbers.

The tracking number's check digit uses the Damm algorithm: its table is a totally anti-symmetric
quasigroup of order 10, so it detects every single-digit substitution and every swap of two
adjacent digits (Luhn misses 09↔90). The letter takes part as its two-digit alphabet index, which
catches most changed letters; not all can be caught, since 26 letters share 10 check values.
"""

from __future__ import annotations

import re
import string

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from pars.records.models import Counter

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

LETTERS = string.ascii_uppercase
# Philadelphia's OTNs seen in court records start with N; numbering starts there and rolls on
# to the next letter after 999,999.
FIRST_LETTER = "N"
# PPNs are drawn as 7 digits with leading zeros (`intake`).
PPN_DIGITS = 7
_TRACKING = re.compile(r"^\s*([A-Z])\s*(\d{6})\s*-?\s*(\d)\s*$")


def damm_digit(digits: str) -> int:
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return interim


def _payload(letter: str, six: str) -> str:
    return f"{LETTERS.index(letter):02d}{six}"


def tracking_number(serial: int) -> str:
    """The compact form (`N9176521`) of the serial-th tracking number."""
    letter_index, number = divmod(serial + LETTERS.index(FIRST_LETTER) * 1_000_000, 1_000_000)
    letter = LETTERS[letter_index % 26]
    six = f"{number:06d}"
    return f"{letter}{six}{damm_digit(_payload(letter, six))}"


def is_valid_tracking_number(text: str) -> bool:
    match = _TRACKING.match(text.upper())
    if not match:
        return False
    letter, six, check = match.groups()
    return damm_digit(_payload(letter, six)) == int(check)


def compact_tracking_number(text: str) -> str | None:
    """Accepts `N 917652-1` or `N9176521`; None when malformed or the check digit is wrong."""
    if not is_valid_tracking_number(text):
        return None
    match = _TRACKING.match(text.upper())
    assert match is not None
    return "".join(match.groups())


def display_tracking_number(compact: str) -> str:
    return f"{compact[0]} {compact[1:7]}-{compact[7]}"


def docket_number(index: int, year: int) -> str:
    """Municipal Court, county 51 (Philadelphia), criminal: `MC-51-CR-0007226-2023`."""
    return f"MC-51-CR-{index:07d}-{year}"


def next_value(session: Session, name: str) -> int:
    """Draws the next value of a named counter inside the caller's transaction.

    One statement, an upsert that increments: the first draw inserts 1, later ones add 1 under
    the row lock that the conflict takes, so concurrent bookings on PostgreSQL never draw the
    same number (and a rolled-back transaction gives its number back)."""
    return next_values(session, name)[name]


def next_values(session: Session, *names: str) -> dict[str, int]:
    """Draws the next value of each named counter (distinct names) in one statement, as
    `next_value` draws one. The rows are taken in the order of their names, whatever the order
    given, so two transactions drawing the same counters never wait for each other in a cycle."""
    ordered = tuple(sorted(names))
    statement = _DRAWS[len(ordered)]
    rows = session.execute(statement, {f"name_{i}": name for i, name in enumerate(ordered)})
    return {name: int(value) for name, value in rows}


# The draws, by number of counters (a booking draws at most two). Plain SQL that SQLite (3.35 and
# later) and PostgreSQL read alike: a multi-row VALUES built with SQLAlchemy's constructs has no
# cache key and would be compiled again at every draw.
_DRAWS = {
    1: text(
        "INSERT INTO counters (name, value) VALUES (:name_0, 1) "
        "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING name, value"
    ),
    2: text(
        "INSERT INTO counters (name, value) VALUES (:name_0, 1), (:name_1, 1) "
        "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING name, value"
    ),
}


def current_value(session: Session, name: str) -> int:
    return session.execute(select(Counter.value).where(Counter.name == name)).scalar() or 0
