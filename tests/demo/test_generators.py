"""The demonstration world's generators: reproducible, realistic, and valid against the reference data."""

from __future__ import annotations

import csv
import random
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pars.catalog import get_catalog, statute_from_parts
from pars.demo.people import (
    ETHNICITIES,
    RACES,
    Name,
    Person,
    plain_spelling,
    random_person,
    random_phone,
    random_victim,
    random_witness,
)
from pars.demo.places import (
    DEMO_CHARGE_MIX,
    DISTRICTS,
    FIREARMS_SECTIONS,
    PHILADELPHIA_ZIPS,
    PLAIN_OFFENSES,
    district_zips,
    incident_number,
    is_firearms_charge,
    random_address,
    random_arrest_details,
    random_charges,
    random_location,
    random_narrative,
)

CITY = ZoneInfo("America/New_York")
TODAY = date(2025, 3, 1)
REFERENCE_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "pa_charge_grades_crimes_w_subsection.csv"
FICTIONAL_PHONE = re.compile(r"(215|267|445|610|856)-555-01\d\d")
PERSON_KEYS = {
    "name",
    "aliases",
    "dob",
    "sex",
    "race",
    "ethnicity",
    "place_of_birth",
    "citizenship",
    "address",
    "phone",
    "sid",
    "fbi_number",
}


def _rng(seed: int) -> random.Random:
    # Seeded on purpose: the demo world must be reproducible, not unpredictable.
    return random.Random(seed)  # noqa: S311


def _age(dob: str, today: date) -> int:
    born = date.fromisoformat(dob)
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _people(seed: int, count: int) -> list[Person]:
    rng = _rng(seed)
    issued: set[str] = set()
    return [random_person(rng, today=TODAY, issued=issued) for _ in range(count)]


def _all_names(people: list[Person]) -> list[Name]:
    return [n for p in people for n in (p["name"], *p["aliases"])]


def _text(name: Name) -> str:
    return " ".join(part for part in (name["first"], name["middle"], name["last"]) if part)


def _has_script(text: str, script: str) -> bool:
    return any(unicodedata.name(c, "").startswith(script) for c in text)


def _world(seed: int) -> list[object]:
    """A slice of everything the demo draws, in one order, from one seed."""
    rng = _rng(seed)
    start = datetime(2025, 6, 1, 9, 30, tzinfo=CITY)
    out: list[object] = []
    for i in range(40):
        arrest = random_arrest_details(rng, arrested_at=start + timedelta(hours=7 * i), sequence=i)
        charges = random_charges(rng)
        first = charges[0]
        out += [
            random_person(rng, today=TODAY),
            arrest,
            charges,
            random_narrative(rng, PLAIN_OFFENSES[(first["title"], first["section"])], arrest["location"]),
            random_victim(rng, TODAY),
            random_witness(rng, TODAY),
            random_address(rng),
        ]
    return out


def test_one_seed_rebuilds_the_same_world() -> None:
    assert _world(2025) == _world(2025)
    assert _world(2025) != _world(2026)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), today=st.dates(date(1990, 1, 1), date(2060, 12, 31)))
def test_ages_stay_in_range_on_any_day(seed: int, today: date) -> None:
    rng = _rng(seed)
    for _ in range(20):
        assert 18 <= _age(random_person(rng, today=today)["dob"], today) <= 75
        assert 12 <= _age(random_victim(rng, today)["dob"], today) <= 85
        assert 18 <= _age(random_witness(rng, today)["dob"], today) <= 80


def test_ages_hold_on_a_leap_day_and_reach_both_ends() -> None:
    leap_day = date(2024, 2, 29)
    rng = _rng(3)
    ages = {_age(random_person(rng, today=leap_day)["dob"], leap_day) for _ in range(6000)}
    assert min(ages) == 18
    assert max(ages) >= 70
    assert max(ages) <= 75


def test_a_datetime_for_today_still_gives_a_plain_date() -> None:
    person = random_person(_rng(1), today=datetime(2025, 3, 1, 12, tzinfo=UTC))
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", person["dob"])


def test_dc_numbers_follow_year_district_sequence() -> None:
    rng = _rng(11)
    start = datetime(2024, 1, 1, tzinfo=CITY)
    for sequence in range(0, 999_999, 997):
        arrested_at = start + timedelta(hours=sequence % 9000)
        arrest = random_arrest_details(rng, arrested_at=arrested_at, sequence=sequence)
        number = arrest["incident_number"]
        assert re.fullmatch(r"\d{10}", number)
        assert number[:2] == f"{arrested_at.year % 100:02d}"
        assert number[2:4] == arrest["district"].zfill(2)
        assert number[4:] == f"{sequence:06d}"
        assert arrest["district"] in DISTRICTS
        assert arrest["arresting_agency"] == "PPD"
        assert re.fullmatch(r"\d{4}", arrest["arresting_officer"])
        assert datetime.fromisoformat(arrest["arrested_at"]) == arrested_at
        assert datetime.fromisoformat(arrest["arrested_at"]).utcoffset() is not None


def test_every_district_appears_and_can_be_pinned() -> None:
    rng = _rng(5)
    when = datetime(2025, 5, 5, 14, tzinfo=CITY)
    seen = {random_arrest_details(rng, arrested_at=when, sequence=1)["district"] for _ in range(3000)}
    assert seen == set(DISTRICTS)
    pinned = random_arrest_details(rng, arrested_at=when, sequence=42, district="5")
    assert pinned["district"] == "5"
    assert pinned["incident_number"] == "2505000042"


def test_dc_year_is_the_city_year_not_the_utc_year() -> None:
    # 03:00 UTC on 1 January is still New Year's Eve in Philadelphia.
    assert incident_number(datetime(2026, 1, 1, 3, 0, tzinfo=UTC), "24", 1234) == "2524001234"
    assert incident_number(datetime(2026, 1, 1, 5, 30, tzinfo=UTC), "24", 1234) == "2624001234"


def test_dc_number_refuses_what_it_cannot_encode() -> None:
    aware = datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="offset"):
        incident_number(datetime(2025, 1, 1), "24", 1)  # noqa: DTZ001 - the naive value is the point
    with pytest.raises(ValueError, match="six digits"):
        incident_number(aware, "24", 1_000_000)
    with pytest.raises(ValueError, match="district"):
        incident_number(aware, "4", 1)


def test_every_demo_charge_is_valid_in_the_packaged_catalog() -> None:
    """What booking checks, so every demo arrest can be booked."""
    catalog = get_catalog()
    for c in DEMO_CHARGE_MIX:
        catalog.validate(statute_from_parts(c.title, c.section, c.subsection), c.grade)


def test_every_demo_charge_is_a_row_of_the_reference_grades() -> None:
    if not REFERENCE_CSV.exists():
        pytest.skip("reference data not present (../shared/data sits beside the checkout)")
    with REFERENCE_CSV.open(newline="", encoding="utf-8") as f:
        known = {(r["Title"], r["Section"], r["Subsection"], r["Grade"]) for r in csv.DictReader(f)}
    missing = [c for c in DEMO_CHARGE_MIX if (str(c.title), c.section, c.subsection or "", c.grade) not in known]
    assert missing == []


def test_charge_mix_is_usable() -> None:
    assert len(DEMO_CHARGE_MIX) >= 20
    assert len({(c.title, c.section, c.subsection) for c in DEMO_CHARGE_MIX}) == len(DEMO_CHARGE_MIX)
    assert all(c.weight > 0 for c in DEMO_CHARGE_MIX)
    assert all((c.title, c.section) in PLAIN_OFFENSES for c in DEMO_CHARGE_MIX)
    assert {c.section for c in DEMO_CHARGE_MIX if c.title == 18} >= set(FIREARMS_SECTIONS)


def test_random_charges_are_distinct_and_often_enough_firearms() -> None:
    rng = _rng(8)
    mix = {(c.title, c.section, c.subsection, c.grade) for c in DEMO_CHARGE_MIX}
    draws = [random_charges(rng) for _ in range(3000)]
    for charges in draws:
        assert 1 <= len(charges) <= 3
        assert len({(c["title"], c["section"]) for c in charges}) == len(charges)
        for c in charges:
            assert (c["title"], c["section"], c["subsection"], c["grade"]) in mix
            assert c["counts"] >= 1
            assert set(c) == {"title", "section", "subsection", "grade", "counts"}
    with_firearm = sum(any(is_firearms_charge(c["title"], c["section"]) for c in charges) for charges in draws)
    assert with_firearm / len(draws) >= 0.15
    assert sum(len(charges) > 1 for charges in draws) > len(draws) / 3
    counts = [c["counts"] for charges in draws for c in charges]
    assert counts.count(1) / len(counts) > 0.75


def test_names_cover_the_city_scripts_and_marks() -> None:
    people = _people(4, 4000)
    texts = [_text(n) for n in _all_names(people)]
    for script in ("CJK UNIFIED IDEOGRAPH", "ARABIC LETTER", "HANGUL SYLLABLE"):
        assert any(_has_script(t, script) for t in texts), script
    for mark in ("ñ", "é", "ễ", "ł", "'", "-"):
        assert any(mark in t for t in texts), mark
    # Vietnamese marks stack (ễ is e + circumflex + tilde); the NFD form must carry combining marks.
    assert any(len([c for c in unicodedata.normalize("NFD", t) if unicodedata.combining(c)]) >= 2 for t in texts)
    primary = [_text(p["name"]) for p in people]
    non_latin = sum(any(_has_script(t, s) for s in ("CJK", "ARABIC", "HANGUL")) for t in primary)
    assert 0.005 <= non_latin / len(primary) <= 0.06
    assert sum(t.isascii() for t in primary) / len(primary) > 0.8


def test_native_script_names_keep_a_romanised_alias_and_an_asian_or_arab_profile() -> None:
    people = [p for p in _people(9, 6000) if not _text(p["name"]).isascii()]
    scripted = [p for p in people if any(_has_script(_text(p["name"]), s) for s in ("CJK", "HANGUL", "ARABIC"))]
    assert scripted
    with_roman = [p for p in scripted if any(_text(a).isascii() for a in p["aliases"])]
    assert len(with_roman) / len(scripted) > 0.6
    for p in scripted:
        if _has_script(_text(p["name"]), "CJK") or _has_script(_text(p["name"]), "HANGUL"):
            assert p["race"] in {
                "Asian",
                "Unknown",
                "American Indian or Alaska Native",
                "Native Hawaiian or Other Pacific Islander",
            }


def test_ethnicity_follows_the_name() -> None:
    people = _people(12, 5000)
    spanish = [p for p in people if p["name"]["last"] and re.search(r"(ez|ñ)", p["name"]["last"])]
    irish = [p for p in people if p["name"]["last"] and p["name"]["last"].startswith(("O'", "Mc"))]
    assert sum(p["ethnicity"] == "Hispanic" for p in spanish) / len(spanish) > 0.8
    assert sum(p["ethnicity"] == "Hispanic" for p in irish) / len(irish) < 0.1
    assert sum(p["race"] == "White" for p in irish) / len(irish) > 0.9


def test_people_have_the_contract_shape() -> None:
    people = _people(6, 2000)
    for p in people:
        assert set(p) == PERSON_KEYS
        for name in (p["name"], *p["aliases"]):
            assert set(name) == {"first", "middle", "last", "suffix"}
            assert name["first"]
            assert name["last"]
        assert len(p["aliases"]) <= 2
        assert p["name"] not in p["aliases"]
        assert p["sex"] in {"M", "F", "X"}
        assert p["race"] in RACES
        assert p["ethnicity"] in ETHNICITIES
        assert p["place_of_birth"]
        assert re.fullmatch(r"[A-Z]{2}", p["citizenship"])
        assert p["sid"] is None or re.fullmatch(r"\d{7}-\d", p["sid"])
        assert p["fbi_number"] is None or re.fullmatch(r"\d{6}[A-Z]{2}\d", p["fbi_number"])
        assert set(p["address"]) == {"street", "city", "state", "zip"}
    races = {p["race"] for p in people}
    assert {"Black", "White", "Asian", "Unknown"} <= races
    black = sum(p["race"] == "Black" for p in people) / len(people)
    assert 0.35 < black < 0.7
    assert any(p["citizenship"] != "US" for p in people)
    assert any(p["name"]["suffix"] for p in people)
    assert any(p["name"]["middle"] for p in people)


def test_one_issued_set_keeps_identifiers_unique() -> None:
    people = _people(13, 4000)
    ids = [i for p in people for i in (p["sid"], p["fbi_number"]) if i]
    assert len(ids) == len(set(ids))


def test_phone_numbers_are_fictional() -> None:
    rng = _rng(21)
    phones = [random_phone(rng) for _ in range(500)]
    phones += [p["phone"] for p in _people(21, 500)]
    phones += [random_victim(rng, TODAY)["phone"] for _ in range(200)]
    phones += [random_witness(rng, TODAY)["phone"] for _ in range(200)]
    assert all(FICTIONAL_PHONE.fullmatch(phone) for phone in phones)


def test_addresses_are_philadelphia_with_some_neighbours() -> None:
    rng = _rng(17)
    for district in DISTRICTS:
        for _ in range(20):
            address = random_address(rng, district)
            assert address["city"] == "Philadelphia"
            assert address["state"] == "PA"
            assert address["zip"] in district_zips(district)
            assert re.match(r"\d+ \S", address["street"])
    anywhere = [random_address(rng) for _ in range(3000)]
    in_city = [a for a in anywhere if a["city"] == "Philadelphia"]
    assert 0.8 < len(in_city) / len(anywhere) < 0.95
    assert all(a["zip"] in PHILADELPHIA_ZIPS for a in in_city)
    assert all(re.fullmatch(r"\d{5}", a["zip"]) for a in anywhere)
    assert {"NJ", "PA"} <= {a["state"] for a in anywhere}
    with pytest.raises(ValueError, match="district"):
        random_address(rng, "4")


def test_locations_read_like_a_block_or_a_corner() -> None:
    rng = _rng(19)
    locations = [random_location(rng, "24") for _ in range(200)]
    assert any(re.fullmatch(r"\d+00 block of .+", loc) for loc in locations)
    assert "Kensington Ave & E Allegheny Ave" in locations
    assert all(re.fullmatch(r"\d+00 block of .+|.+ & .+", loc) for loc in locations)


def test_narratives_are_short_varied_and_name_no_one() -> None:
    rng = _rng(23)
    texts = {random_narrative(rng, "a robbery", "3000 block of Kensington Ave") for _ in range(300)}
    assert len(texts) >= 6
    for text in texts:
        assert "a robbery" in text
        assert "in the 3000 block of Kensington Ave" in text
        assert 1 <= text.count(". ") + 1 <= 2
        assert text.endswith(".")
    corner = random_narrative(rng, "a theft", "Frankford Ave & E Girard Ave")
    assert "at Frankford Ave & E Girard Ave" in corner


def test_plain_spelling_drops_every_mark() -> None:
    assert plain_spelling("Nguyễn Thị Đặng") == "Nguyen Thi Dang"
    assert plain_spelling("Łukasz Wiśniewski") == "Lukasz Wisniewski"
    assert plain_spelling("José Peña Muñoz") == "Jose Pena Munoz"
    assert plain_spelling("王伟") == "王伟"
