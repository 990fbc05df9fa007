from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pars.records.names import name_key


def test_accents_case_and_spacing_are_ignored() -> None:
    assert name_key("  José   PEÑA ") == name_key("jose pena") == "jose pena"
    assert name_key("Nguyễn") == name_key("NGUYEN") == "nguyen"
    assert name_key("Smith-Jones") == "smith-jones"
    assert name_key("O'Brien") == "o'brien"


def test_other_scripts_match_themselves() -> None:
    assert name_key("王") == "王"
    assert name_key("محمد") == "محمد"


@given(st.text(max_size=40))
def test_the_key_is_idempotent(text: str) -> None:
    key = name_key(text)
    assert key is not None
    assert name_key(key) == key
