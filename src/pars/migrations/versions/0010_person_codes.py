"""person codes: free-text sex, race and ethnicity rewritten to their NCIC/UCR codes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 19:30:00.000000

Issue 15: the pages now offer only the code lists (`pars.records.codes`) and store the code. The
values entered before as free text ("Black", "black", "B ", "Non-Hispanic") are rewritten to
their code when the lists recognise them; anything else stays exactly as entered (CONTRACT §4:
the API keeps what a client sends), and the tables that compare groups read it as "not recorded
or not in the list". The lists' words and synonyms are frozen here, as they were when this ran:
a later change to the lists must not change what this migration did.

Downgrade leaves the codes: which spelling each record had is not kept, and a code is a valid
value for the column as it was.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_UNKNOWN = ("Unknown", "not known", "not recorded", "unk")
# column → code → (words, synonyms…), as `pars.records.codes` had them.
LISTS: dict[str, dict[str, tuple[str, ...]]] = {
    "sex": {
        "M": ("Male", "man"),
        "F": ("Female", "woman"),
        "X": ("Non-binary or another sex", "nonbinary", "non binary", "other"),
        "U": _UNKNOWN,
    },
    "race": {
        "W": ("White", "caucasian"),
        "B": ("Black or African American", "black", "african american"),
        "A": ("Asian",),
        "I": ("American Indian or Alaska Native", "american indian", "alaska native", "native american"),
        "P": ("Native Hawaiian or Other Pacific Islander", "native hawaiian", "pacific islander",
              "native hawaiian or pacific islander"),
        "U": _UNKNOWN,
    },
    "ethnicity": {
        "H": ("Hispanic or Latino", "hispanic", "latino", "latina", "latinx"),
        "N": ("Not Hispanic or Latino", "non hispanic", "not hispanic", "non hispanic or latino"),
        "U": _UNKNOWN,
    },
}  # fmt: skip


def key(value: str) -> str:
    return " ".join(value.replace("-", " ").casefold().split())


def code_for(column: str, value: str) -> str | None:
    for code, words in LISTS[column].items():
        if key(value) in {key(code), *(key(w) for w in words)}:
            return code
    return None


def upgrade() -> None:
    arrests = sa.table("arrests", sa.column("sex", sa.String), sa.column("race", sa.String),
                       sa.column("ethnicity", sa.String))  # fmt: skip
    connection = op.get_bind()
    for column in LISTS:
        stored = arrests.c[column]
        values = connection.execute(sa.select(stored).where(stored.is_not(None)).distinct()).scalars().all()
        for value in values:
            code = code_for(column, value)
            if code is not None and code != value:
                connection.execute(sa.update(arrests).where(stored == value).values({column: code}))


def downgrade() -> None:
    pass
