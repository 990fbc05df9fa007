from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from pars.catalog import (
    Catalog,
    GradeNotRecorded,
    Offense,
    SealingExclusion,
    Statute,
    UnknownStatute,
    get_catalog,
    parse_statute,
)
from pars.catalog.build import (
    SECTIONS_COLUMNS,
    SUBSECTIONS_COLUMNS,
    BuildError,
    build_catalog,
    main,
)
from pars.catalog.service import DATA_FILE, CatalogEntry

SHARED_DATA = Path("/work/shared/data")


def packaged_bytes() -> bytes:
    return resources.files("pars.catalog").joinpath("data").joinpath(DATA_FILE).read_bytes()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return get_catalog()


def s(text: str) -> Statute:
    return parse_statute(text)


# --- lookups against the real data -------------------------------------------------------------


def test_simple_assault(catalog: Catalog) -> None:
    offense = catalog.lookup(s("18 § 2701"))
    assert offense == catalog.lookup(Statute(18, "2701"))
    assert offense.description == "Simple Assault"
    assert "M2" in offense.grades
    assert offense.grades == {"F1", "M1", "M2", "M3"}
    assert offense.ordered_grades == ("F1", "M1", "M2", "M3")


def test_firearms_not_to_be_carried_without_a_license(catalog: Catalog) -> None:
    offense = catalog.lookup(s("18 § 6106"))
    assert "F3" in offense.grades
    assert "License" in offense.description
    assert catalog.lookup(s("18 § 6106 §§ A1")).grades == {"F3"}
    assert catalog.lookup(s("18 § 6106 §§ A2")).grades == {"F3", "M1"}


def test_burglary(catalog: Catalog) -> None:
    offense = catalog.lookup(s("18 § 3502"))
    assert offense.description == "Burglary"
    assert "F1" in offense.grades
    assert catalog.lookup(s("18 Pa.C.S. § 3502(a)(1)")).grades == {"F1"}


@pytest.mark.parametrize(
    ("statute", "grades", "subsections"),
    [
        (
            "18 § 6105",
            {"F2", "M1", "M3", "S"},
            {"A", "A1", "A2", "A2I", "B", "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"},
        ),
        ("18 § 6106", {"F3", "M1"}, {"A", "A1", "A2"}),
        ("18 § 6108", {"M1"}, set()),
        ("18 § 6110.2", {"F2", "M1"}, {"A"}),
        ("18 § 907", {"F3", "M1"}, {"A", "B", "C"}),
    ],
)
def test_firearms_statutes_for_the_demo(
    catalog: Catalog, statute: str, grades: set[str], subsections: set[str]
) -> None:
    section = s(statute)
    assert catalog.lookup(section).grades == grades
    recorded = {o.statute.subsection for o in catalog if o.statute.section_statute == section and o.statute.subsection}
    assert subsections <= recorded
    for subsection in recorded:
        # A subsection's grades are a subset of its section's.
        assert catalog.lookup(Statute(section.title, section.section, subsection)).grades <= grades


def test_made_up_statute_is_unknown(catalog: Catalog) -> None:
    with pytest.raises(UnknownStatute) as caught:
        catalog.lookup(s("18 § 99999"))
    assert caught.value.statute == Statute(18, "99999")
    assert "18 § 99999 is not in the catalog" in str(caught.value)
    assert isinstance(caught.value, LookupError)
    assert s("18 § 99999") not in catalog


def test_unrecorded_subsection_of_a_known_section_is_unknown(catalog: Catalog) -> None:
    with pytest.raises(UnknownStatute) as caught:
        catalog.lookup(s("18 § 2701 §§ Z9"))
    message = str(caught.value)
    assert "subsection Z9 of 18 § 2701 (Simple Assault)" in message
    assert "recorded subsections: A, A1, A2, A3, A4, B1, B2" in message


def test_section_known_only_through_subsections_is_still_known(catalog: Catalog) -> None:
    # 18 § 6110.2 is recorded with subsection A; the bare section is a known statute as well.
    assert catalog.lookup(s("18 § 6110.2")).statute == Statute(18, "6110.2")


def test_starred_subsections_merge_into_one_offense(catalog: Catalog) -> None:
    """The source lists `A1*`, `A1**`, … per prior-offense count; they are one statute here."""
    dui = catalog.lookup(s("75 § 3802 §§ A1***"))
    assert dui.statute == Statute(75, "3802", "A1")
    assert {"M", "M1", "M2"} <= dui.grades
    permitting = catalog.lookup(s("75 § 3802 §§ A1*P"))
    assert permitting.grades == {"S"}
    assert permitting.description.startswith("Permitting Violation")


def test_sealing_exclusion_is_kept_per_grade(catalog: Catalog) -> None:
    assault = catalog.lookup(s("18 § 2701"))
    assert assault.sealing_exclusion("m2") is SealingExclusion.EXCLUDED
    assert assault.sealing_exclusion("M3") is SealingExclusion.NONE
    restraint = catalog.lookup(s("18 § 2902"))
    assert restraint.sealing_exclusion("F2") is SealingExclusion.CONDITIONAL


# --- validate ----------------------------------------------------------------------------------


@pytest.mark.parametrize("grade", ["F3", "f3", " f3 ", "F3\n"])
def test_validate_accepts_recorded_grade_in_any_case(catalog: Catalog, grade: str) -> None:
    offense = catalog.validate(s("18 § 6106 §§ A1*"), grade)
    assert offense.statute == Statute(18, "6106", "A1")


def test_validate_names_the_recorded_grades(catalog: Catalog) -> None:
    with pytest.raises(GradeNotRecorded) as caught:
        catalog.validate(s("18 § 6106"), "f1")
    assert str(caught.value) == (
        "grade F1 is not recorded for 18 § 6106 (Firearms Not To Be Carried W/O License); recorded grades: F3, M1"
    )
    assert caught.value.recorded == ("F3", "M1")
    assert isinstance(caught.value, ValueError)


def test_validate_uses_the_subsection_grades(catalog: Catalog) -> None:
    # M1 is recorded for 18 § 6106 as a whole, but not for subsection (a)(1).
    catalog.validate(s("18 § 6106"), "M1")
    with pytest.raises(GradeNotRecorded, match=r"recorded grades: F3$"):
        catalog.validate(s("18 § 6106 §§ A1"), "M1")


def test_validate_unknown_statute(catalog: Catalog) -> None:
    with pytest.raises(UnknownStatute):
        catalog.validate(s("18 § 99999"), "F1")


def test_grades_are_listed_most_serious_first(catalog: Catalog) -> None:
    murder = catalog.lookup(s("18 § 2502"))
    assert murder.ordered_grades[:2] == ("H1", "H2")
    with pytest.raises(GradeNotRecorded, match=r"recorded grades: H1, H2"):
        catalog.validate(murder.statute, "S")


# --- search ------------------------------------------------------------------------------------


def test_search_by_statute_prefix_lists_sections_first(catalog: Catalog) -> None:
    results = catalog.search("18 § 61")
    displays = [o.statute.display for o in results]
    assert len(results) == 20
    assert all(d.startswith("18 § 61") for d in displays)
    assert {"18 § 6105", "18 § 6106", "18 § 6108", "18 § 6110.2"} <= set(displays)
    assert all(o.statute.subsection is None for o in results)  # there are more than 20 sections


def test_search_by_full_statute_lists_it_then_its_subsections(catalog: Catalog) -> None:
    displays = [o.statute.display for o in catalog.search("18 § 6106")]
    assert displays[0] == "18 § 6106"
    assert {"18 § 6106 §§ A", "18 § 6106 §§ A1", "18 § 6106 §§ A2"} <= set(displays)
    assert [o.statute.display for o in catalog.search("18 Pa.C.S. § 2701(b)")] == [
        "18 § 2701 §§ B1",
        "18 § 2701 §§ B2",
    ]


def test_search_by_title_alone_stays_in_that_title(catalog: Catalog) -> None:
    results = catalog.search("18", limit=50)
    assert len(results) == 50
    assert {o.statute.title for o in results} == {18}


def test_search_by_description_words(catalog: Catalog) -> None:
    results = catalog.search("ASSAULT simple")
    assert results[0].statute == Statute(18, "2701")
    assert all("simple" in o.description.lower() or o.statute.section == "2701" for o in results)
    assert catalog.search("burglary", limit=1)[0].statute == Statute(18, "3502")
    carry = catalog.search("carried license")
    assert carry[0].statute == Statute(18, "6106")


def test_search_limit_and_empty_queries(catalog: Catalog) -> None:
    assert len(catalog.search("firearm", limit=3)) == 3
    assert catalog.search("") == []
    assert catalog.search("   ") == []
    assert catalog.search("firearm", limit=0) == []
    assert catalog.search("zzzqqq") == []


# --- the catalog as a whole --------------------------------------------------------------------


def test_catalog_size_and_shape(catalog: Catalog) -> None:
    rows = json.loads(packaged_bytes())["statutes"]
    assert len(catalog) == len(rows) == 3268
    offenses = list(catalog)
    assert len(offenses) == len(catalog)
    sections = {o.statute for o in offenses if o.statute.subsection is None}
    assert len(sections) == 919
    for offense in offenses:
        assert offense.grades, offense.statute.display
        assert offense.description
        assert offense.statute.section_statute in sections
        assert parse_statute(offense.statute.display) == offense.statute


def test_get_catalog_is_loaded_once() -> None:
    assert get_catalog() is get_catalog()


def test_wrong_format_is_refused() -> None:
    document = json.loads(packaged_bytes())
    document["format"] = 99
    with pytest.raises(ValueError, match="rebuild it"):
        Catalog.from_json(json.dumps(document))


def test_a_catalog_can_be_built_from_offenses() -> None:
    offense = Offense(statute=Statute(18, "2701"), description="Simple Assault", grades=frozenset({"M2"}))
    small = Catalog([CatalogEntry(offense=offense, names=("Simple Assault",), charged=1)])
    assert len(small) == 1
    assert small.validate(Statute(18, "2701"), "m2") is offense
    with pytest.raises(ValueError, match="appears twice"):
        Catalog([CatalogEntry(offense=offense, names=(), charged=1)] * 2)


# --- the build ---------------------------------------------------------------------------------


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="shared reference data not present")
def test_packaged_file_is_what_the_build_produces(tmp_path: Path) -> None:
    output = tmp_path / DATA_FILE
    assert main(["--source", str(SHARED_DATA), "--output", str(output)]) == 0
    assert output.read_bytes() == packaged_bytes()


def write_csv(path: Path, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    lines = [",".join(columns)] + [",".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_build_rules_on_a_small_source(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "pa_charge_grades_crimes_wo_subsection.csv",
        SECTIONS_COLUMNS,
        [
            ("DUI", "75", "3802", "M", "10", "12", "83%", "0"),
            ("DUI", "75", "3802", "M1", "2", "12", "17%", "0"),
            ("Noise", "LO", "10-1", "S", "5", "5", "100%", "0"),
        ],
    )
    write_csv(
        tmp_path / "pa_charge_grades_crimes_w_subsection.csv",
        SUBSECTIONS_COLUMNS,
        [
            ("DUI  1st Off", "75", "3802", "A1*", "M", "6", "6", "100%", "12", "50%", "0"),
            ("DUI 2nd Off", "75", "3802", "a1**", "M1", "2", "2", "100%", "12", "17%", "1"),
            ("DUI", "75", "3802", "A1", "M", "1", "1", "100%", "12", "8%", "0"),
            ("Permitting\\\\Violation", "75", "3802", "A1*P", "S", "1", "1", "100%", "12", "8%", "0"),
            ("DUI", "75", "3802", "", "M", "3", "3", "100%", "12", "25%", "0"),
            ("Noise", "LO", "10-1", "A", "S", "5", "5", "100%", "5", "100%", "0"),
        ],
    )
    data, summary = build_catalog(tmp_path)
    assert summary.sections == 1
    assert summary.subsections == 2
    assert summary.dropped_titles == {"LO": 2}
    assert data == build_catalog(tmp_path)[0]  # deterministic

    small = Catalog.from_json(data)
    assert [o.statute.display for o in small] == ["75 § 3802", "75 § 3802 §§ A1", "75 § 3802 §§ A1*P"]
    section = small.lookup(Statute(75, "3802"))
    assert section.grades == {"M", "M1"}
    assert section.description == "DUI"
    merged = small.lookup(Statute(75, "3802", "A1"))
    assert merged.grades == {"M", "M1"}
    assert merged.description == "DUI 1st Off"  # most charges (6), white space collapsed
    assert merged.sealing_exclusion("M1") is SealingExclusion.EXCLUDED
    assert small.lookup(Statute(75, "3802", "A1*P")).description == "Permitting/Violation"

    row = json.loads(data)["statutes"][1]
    assert row == [
        75,
        "3802",
        "A1",
        [["DUI 1st Off", 6], ["DUI 2nd Off", 2], ["DUI", 1]],
        {"M": 7, "M1": 2},
        {"M1": 1},
    ]


def test_build_refuses_unexpected_columns(tmp_path: Path) -> None:
    write_csv(tmp_path / "pa_charge_grades_crimes_wo_subsection.csv", ("Name", "Title"), [("x", "18")])
    write_csv(tmp_path / "pa_charge_grades_crimes_w_subsection.csv", SUBSECTIONS_COLUMNS, [])
    with pytest.raises(BuildError, match="expected columns"):
        build_catalog(tmp_path)


def test_build_refuses_unexpected_grade(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "pa_charge_grades_crimes_wo_subsection.csv",
        SECTIONS_COLUMNS,
        [("Odd", "18", "2701", "3", "1", "1", "100%", "0")],
    )
    write_csv(tmp_path / "pa_charge_grades_crimes_w_subsection.csv", SUBSECTIONS_COLUMNS, [])
    with pytest.raises(BuildError, match="line 2: unexpected grade '3'"):
        build_catalog(tmp_path)


def test_build_command_reports_a_missing_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--source", str(tmp_path / "absent"), "--output", str(tmp_path / "out.json")])
    assert caught.value.code == 2
    assert "not found (run from the repository root or pass --source)" in capsys.readouterr().err
