from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pars.catalog import Statute, StatuteSyntaxError, parse_statute, statute_from_parts

# Shapes seen in the reference data, written independently of the module's own patterns.
sections = st.from_regex(r"[1-9][0-9]{0,4}(\.[0-9]{1,3})?(-[0-9]{1,3})?(-?[A-Z])?", fullmatch=True)
subsections = st.from_regex(r"[A-Z](\.?[0-9]{1,2})?(I{1,3}|IV|V)?(-[0-9]{1,2})?(\*P)?|[0-9]{1,3}", fullmatch=True)
statutes = st.builds(
    Statute,
    title=st.integers(min_value=1, max_value=9999),
    section=sections,
    subsection=st.none() | subsections,
)


def test_display_is_the_court_form() -> None:
    assert Statute(18, "2701", "A1").display == "18 § 2701 §§ A1"
    assert Statute(18, "2701", None).display == "18 § 2701"
    assert str(Statute(18, "6110.2", "A")) == "18 § 6110.2 §§ A"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18 § 2701 §§ A1", Statute(18, "2701", "A1")),
        ("18 § 2701 §§ A1*", Statute(18, "2701", "A1")),
        ("75 § 3802 §§ D1I****", Statute(75, "3802", "D1I")),
        ("  18   §  2701  §§   a1 *  ", Statute(18, "2701", "A1")),
        ("18 §2701", Statute(18, "2701", None)),
        ("18 § 2701", Statute(18, "2701", None)),
        ("18 § 2701*", Statute(18, "2701", None)),
        ("18 § 6110.2 §§ A", Statute(18, "6110.2", "A")),
        ("35 § 780-113 §§ A30", Statute(35, "780-113", "A30")),
        ("18 Pa.C.S. § 2701(a)(1)", Statute(18, "2701", "A1")),
        ("18 Pa.C.S.A. §2701 (a) (1)", Statute(18, "2701", "A1")),
        ("75 Pa.C.S. § 3802(d)(1)(i)", Statute(75, "3802", "D1I")),
        ("35 P.S. § 780-113(a)(30)", Statute(35, "780-113", "A30")),
        ("18 § 4915 §§ (A.1)(1)", Statute(18, "4915", "A.11")),
        ("75 § 3802 §§ A1*P", Statute(75, "3802", "A1*P")),
        ("18 § 2701 § A1", Statute(18, "2701", "A1")),
    ],
)
def test_parse_accepts_display_and_citation_forms(text: str, expected: Statute) -> None:
    assert parse_statute(text) == expected


@pytest.mark.parametrize(
    ("text", "message_part"),
    [
        ("", "statute is empty"),
        ("   ", "statute is empty"),
        ("2701", "cannot read '2701' as a statute"),
        ("18 2701", "cannot read '18 2701' as a statute"),
        ("LO § 5", "cannot read 'LO § 5'"),
        ("18 § 2701 §§", "'§§' after '18 § 2701' is not a subsection"),
        ("18 § 2701 §§ A$1", "'§§ A$1' after '18 § 2701' is not a subsection"),
        ("18 § 2701 §§ A1 B2", "is not a subsection"),
        ("18 § 2701(a", "is not a subsection"),
        ("0 § 2701", "title must be a positive integer"),
    ],
)
def test_parse_rejects_other_text_with_a_clear_message(text: str, message_part: str) -> None:
    with pytest.raises(StatuteSyntaxError) as caught:
        parse_statute(text)
    message = str(caught.value)
    assert message_part in message
    if "cannot read" in message:
        assert "18 § 2701 §§ A1" in message  # the message shows the expected form


def test_syntax_error_is_a_value_error() -> None:
    assert issubclass(StatuteSyntaxError, ValueError)
    with pytest.raises(ValueError, match="not a statute"):
        parse_statute("not a statute")


def test_statute_from_parts_normalises_like_the_parser() -> None:
    assert statute_from_parts(18, " 2701 ", "(a)(1)*") == Statute(18, "2701", "A1")
    assert statute_from_parts(75, "3802", "d1i**") == Statute(75, "3802", "D1I")
    assert statute_from_parts(18, "2701", "") == Statute(18, "2701", None)
    assert statute_from_parts(18, "2701", None) == Statute(18, "2701", None)
    assert statute_from_parts(18, "260.11a", None) == Statute(18, "260.11A", None)
    # One row of the source data writes the subsection into the section.
    assert statute_from_parts(73, "1943.5(1)", None) == Statute(73, "1943.5", "1")


@pytest.mark.parametrize(
    ("title", "section", "subsection", "message_part"),
    [
        (18, "2701(a)", "B", "already carries a subsection"),
        (18, "", None, "is not a statute section"),
        (18, "§2701", None, "is not a statute section"),
        (18, "2701", "??", "is not a statute subsection"),
        ("18", "2701", None, "title must be an integer"),
        (True, "2701", None, "title must be an integer"),
    ],
)
def test_statute_from_parts_rejects_bad_parts(
    title: object, section: str, subsection: str | None, message_part: str
) -> None:
    with pytest.raises(StatuteSyntaxError, match=message_part):
        statute_from_parts(title, section, subsection)  # type: ignore[arg-type]


def test_constructor_refuses_non_canonical_parts() -> None:
    # Otherwise Statute(18, "2701", "a1") would silently differ from the parsed "18 § 2701 §§ A1".
    with pytest.raises(StatuteSyntaxError, match="use statute_from_parts"):
        Statute(18, "2701", "a1")
    with pytest.raises(StatuteSyntaxError, match="use statute_from_parts"):
        Statute(18, "2701", "A1*")
    with pytest.raises(StatuteSyntaxError, match="use statute_from_parts"):
        Statute(18, "2701 ", None)
    with pytest.raises(StatuteSyntaxError, match="positive integer"):
        Statute(-18, "2701", None)


def test_section_statute_drops_the_subsection() -> None:
    assert Statute(18, "2701", "A1").section_statute == Statute(18, "2701", None)
    section = Statute(18, "2701", None)
    assert section.section_statute is section


@given(statutes)
def test_display_round_trips(statute: Statute) -> None:
    assert parse_statute(statute.display) == statute


@given(statutes, st.integers(min_value=0, max_value=4), st.sampled_from([" ", "  ", "\t", " \u00a0"]))
def test_court_decorations_do_not_change_the_statute(statute: Statute, stars: int, blank: str) -> None:
    """Trailing offense-count stars, odd white space and lower case all read as the same statute."""
    text = blank + statute.display.replace(" ", blank).lower() + "*" * stars + blank
    assert parse_statute(text) == statute


@given(statutes)
def test_statute_from_parts_keeps_canonical_parts(statute: Statute) -> None:
    assert statute_from_parts(statute.title, statute.section, statute.subsection) == statute


@given(st.text(max_size=40))
def test_arbitrary_text_parses_or_raises_syntax_error(text: str) -> None:
    try:
        statute = parse_statute(text)
    except StatuteSyntaxError as error:
        message = str(error)
        assert message
    else:
        assert parse_statute(statute.display) == statute
