"""The controlled code lists: words shown, NCIC/UCR codes stored, and every spelling a clerk
might have typed before the lists existed recognised as its code."""

from __future__ import annotations

import importlib.util

import pytest

from pars.migrate import MIGRATIONS
from pars.records.codes import ETHNICITY, PERSON_CODES, RACE, SEX


@pytest.mark.parametrize(
    ("codes", "typed", "code"),
    [
        (RACE, "B", "B"), (RACE, "Black", "B"), (RACE, " black ", "B"), (RACE, "African-American", "B"),
        (RACE, "Black or African American", "B"), (RACE, "caucasian", "W"), (RACE, "unknown", "U"),
        (RACE, "UNKNOWN", "U"), (ETHNICITY, "Non-Hispanic", "N"), (ETHNICITY, "not  hispanic", "N"),
        (ETHNICITY, "Latina", "H"), (SEX, "male", "M"), (SEX, "f", "F"), (SEX, "Non-binary", "X"),
    ],
)  # fmt: skip
def test_spellings_are_recognised(codes: object, typed: str, code: str) -> None:
    found = codes.classify(typed)  # type: ignore[attr-defined]
    assert found is not None and found.code == code


def test_unlisted_text_is_not_guessed() -> None:
    assert RACE.classify("Martian") is None and RACE.classify(None) is None
    assert RACE.label("Martian") == "Martian"  # shown as entered
    assert RACE.label(None) is None
    assert RACE.label("B") == "Black or African American" and ETHNICITY.label("h") == "Hispanic or Latino"


def test_choices_are_codes_with_words_and_unique() -> None:
    for codes in PERSON_CODES.values():
        choices = codes.choices()
        assert len({c for c, _ in choices}) == len(choices) == len({w for _, w in choices})
        for code, words in choices:
            assert codes.classify(code).code == code  # type: ignore[union-attr]
            assert codes.classify(words).code == code  # type: ignore[union-attr]
            assert codes.label(code) == words


def test_the_migration_knows_what_the_lists_know() -> None:
    """0010 froze the lists' words and synonyms; as long as the lists say the same, it agrees."""
    spec = importlib.util.spec_from_file_location("person_codes", MIGRATIONS / "versions" / "0010_person_codes.py")
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    for name, codes in PERSON_CODES.items():
        for code in codes.codes:
            for text in (code.code, code.label, *code.synonyms):
                assert migration.code_for(name, text) == code.code
