from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from pars.records.numbers import (
    _DAMM,
    compact_tracking_number,
    display_tracking_number,
    docket_number,
    is_valid_tracking_number,
    tracking_number,
)

serials = st.integers(min_value=0, max_value=20_000_000)


def test_damm_table_is_totally_anti_symmetric() -> None:
    """The property that makes the check digit catch every adjacent swap."""
    for c, x, y in itertools.product(range(10), repeat=3):
        if x != y:
            assert _DAMM[_DAMM[c][x]][y] != _DAMM[_DAMM[c][y]][x]


@given(serials)
def test_every_issued_number_is_valid_and_displays_like_an_otn(serial: int) -> None:
    compact = tracking_number(serial)
    shown = display_tracking_number(compact)
    assert len(compact) == 8 and compact[0].isalpha() and compact[1:].isdigit()
    assert shown == f"{compact[0]} {compact[1:7]}-{compact[7]}"
    assert is_valid_tracking_number(compact) and is_valid_tracking_number(shown)
    assert compact_tracking_number(shown) == compact


@given(serials, st.integers(min_value=1, max_value=7), st.integers(min_value=1, max_value=9))
def test_check_digit_detects_every_single_digit_error(serial: int, position: int, delta: int) -> None:
    compact = tracking_number(serial)
    wrong = str((int(compact[position]) + delta) % 10)
    altered = compact[:position] + wrong + compact[position + 1 :]
    assert not is_valid_tracking_number(altered)


@given(serials, st.integers(min_value=1, max_value=6))
def test_check_digit_detects_adjacent_swaps(serial: int, position: int) -> None:
    compact = tracking_number(serial)
    a, b = compact[position], compact[position + 1]
    if a != b:
        swapped = compact[:position] + b + a + compact[position + 2 :]
        assert not is_valid_tracking_number(swapped)


def test_numbers_are_distinct_and_start_with_n() -> None:
    issued = {tracking_number(n) for n in range(1, 5001)}
    assert len(issued) == 5000
    assert all(t.startswith("N") for t in issued)
    assert tracking_number(1_000_000).startswith("O")


def test_malformed_tracking_numbers_are_not_valid() -> None:
    for text in ["", "N91765", "N 917652", "1 917652-1", "NN917652-1", "N 917652-12"]:
        assert not is_valid_tracking_number(text)


def test_docket_number_format() -> None:
    assert docket_number(7226, 2023) == "MC-51-CR-0007226-2023"
