"""Philadelphia places, arrests and charges for the demonstration world (CONTRACT §12).

Every function takes the caller's ``random.Random`` and nothing else that varies, so one seed
rebuilds the same world. Street blocks and district boundaries are approximate: good enough to
read like a Philadelphia arrest report, not a geocoder. Addresses are plausible blocks, not
chosen to match any real household.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, TypedDict
from zoneinfo import ZoneInfo

# The DC number carries the year as the police see it, which is city time: an arrest at
# 23:30 on 31 December is still last year's incident even though it is already January in UTC.
CITY_TZ = ZoneInfo("America/New_York")


class Address(TypedDict):
    street: str
    city: str
    state: str
    zip: str


class Arrest(TypedDict):
    arrested_at: str
    location: str
    district: str
    incident_number: str
    arresting_agency: str
    arresting_officer: str


class Charge(TypedDict):
    title: int
    section: str
    subsection: str | None
    grade: str
    counts: int


@dataclass(frozen=True)
class _District:
    area: str
    weight: float  # relative share of the city's arrests, roughly as busy as the district is
    zips: tuple[str, ...]
    # (street, lowest hundred-block, highest hundred-block) inside or next to the district.
    streets: tuple[tuple[str, int, int], ...]
    # Corners of streets that meet; an arrest location is one of these or a block of a street above.
    corners: tuple[tuple[str, str], ...]


_DISTRICTS: dict[str, _District] = {
    "1": _District(
        "Girard Estates, Packer Park",
        2,
        ("19145", "19148", "19112"),
        (
            ("S Broad St", 19, 33),
            ("Oregon Ave", 14, 26),
            ("Snyder Ave", 14, 25),
            ("S 20th St", 19, 29),
            ("Jackson St", 14, 25),
        ),
        (
            ("S Broad St", "Oregon Ave"),
            ("S 20th St", "Snyder Ave"),
            ("S 20th St", "Oregon Ave"),
            ("S Broad St", "Jackson St"),
        ),
    ),
    "2": _District(
        "Oxford Circle, Castor Gardens, Lawncrest",
        3,
        ("19111", "19149", "19124"),
        (
            ("Castor Ave", 52, 80),
            ("Oxford Ave", 50, 80),
            ("Roosevelt Blvd", 55, 80),
            ("Cottman Ave", 5, 25),
            ("Bustleton Ave", 50, 75),
        ),
        (
            ("Castor Ave", "Cottman Ave"),
            ("Castor Ave", "Roosevelt Blvd"),
            ("Oxford Ave", "Roosevelt Blvd"),
            ("Castor Ave", "Magee Ave"),
        ),
    ),
    "3": _District(
        "East Passyunk, Whitman, Pennsport",
        3,
        ("19147", "19148"),
        (
            ("E Passyunk Ave", 11, 19),
            ("S 9th St", 9, 27),
            ("Washington Ave", 1, 14),
            ("Snyder Ave", 1, 13),
            ("Oregon Ave", 1, 13),
            ("S Front St", 9, 30),
        ),
        (
            ("S 9th St", "Washington Ave"),
            ("S 9th St", "Christian St"),
            ("S 5th St", "Snyder Ave"),
            ("S Front St", "Oregon Ave"),
        ),
    ),
    "5": _District(
        "Roxborough, Manayunk, Andorra",
        1.5,
        ("19127", "19128"),
        (("Ridge Ave", 54, 90), ("Main St", 37, 44), ("Henry Ave", 50, 90), ("Green Ln", 1, 7)),
        (
            ("Ridge Ave", "Green Ln"),
            ("Main St", "Green Ln"),
            ("Ridge Ave", "Shurs Ln"),
            ("Ridge Ave", "Leverington Ave"),
        ),
    ),
    "6": _District(
        "Center City east, Old City, Chinatown",
        4,
        ("19106", "19107", "19123"),
        (
            ("Market St", 1, 13),
            ("Chestnut St", 1, 13),
            ("Walnut St", 1, 13),
            ("Arch St", 1, 13),
            ("N 2nd St", 1, 8),
            ("South St", 1, 8),
        ),
        (
            ("N 10th St", "Race St"),
            ("S 13th St", "Locust St"),
            ("N 8th St", "Market St"),
            ("S 2nd St", "Chestnut St"),
            ("S 4th St", "South St"),
        ),
    ),
    "7": _District(
        "Somerton, Bustleton",
        1.5,
        ("19115", "19116"),
        (("Bustleton Ave", 88, 126), ("Roosevelt Blvd", 90, 110), ("Red Lion Rd", 1, 30), ("Verree Rd", 80, 110)),
        (
            ("Bustleton Ave", "Red Lion Rd"),
            ("Roosevelt Blvd", "Red Lion Rd"),
            ("Bustleton Ave", "Byberry Rd"),
            ("Verree Rd", "Red Lion Rd"),
        ),
    ),
    "8": _District(
        "Torresdale, Parkwood, Academy Gardens",
        2,
        ("19114", "19154"),
        (("Frankford Ave", 83, 99), ("Academy Rd", 28, 40), ("Grant Ave", 25, 45)),
        (("Frankford Ave", "Grant Ave"), ("Frankford Ave", "Red Lion Rd"), ("Academy Rd", "Grant Ave")),
    ),
    "9": _District(
        "Center City west, Fairmount, Spring Garden",
        3,
        ("19103", "19130", "19102"),
        (
            ("Market St", 14, 23),
            ("Walnut St", 15, 23),
            ("Chestnut St", 15, 23),
            ("Spring Garden St", 15, 25),
            ("Fairmount Ave", 15, 25),
            ("N Broad St", 1, 9),
        ),
        (
            ("S 15th St", "Market St"),
            ("S 18th St", "Walnut St"),
            ("N 22nd St", "Fairmount Ave"),
            ("N Broad St", "Spring Garden St"),
            ("N 16th St", "JFK Blvd"),
        ),
    ),
    "12": _District(
        "Kingsessing, Paschall, Elmwood",
        6,
        ("19142", "19143", "19153"),
        (
            ("Woodland Ave", 54, 70),
            ("Elmwood Ave", 58, 73),
            ("Chester Ave", 54, 60),
            ("S 58th St", 16, 26),
            ("Lindbergh Blvd", 60, 84),
            ("S 61st St", 15, 27),
        ),
        (
            ("Woodland Ave", "S 58th St"),
            ("Woodland Ave", "S 65th St"),
            ("Elmwood Ave", "S 70th St"),
            ("Woodland Ave", "S 61st St"),
        ),
    ),
    "14": _District(
        "Germantown, Mount Airy, Chestnut Hill",
        5,
        ("19144", "19119", "19118", "19138"),
        (
            ("Germantown Ave", 48, 87),
            ("W Chelten Ave", 1, 6),
            ("E Chelten Ave", 1, 7),
            ("Wayne Ave", 48, 66),
            ("E Washington Ln", 1, 10),
            ("Stenton Ave", 60, 80),
        ),
        (
            ("Germantown Ave", "Chelten Ave"),
            ("Germantown Ave", "Washington Ln"),
            ("Wayne Ave", "Chelten Ave"),
            ("Germantown Ave", "Mt Pleasant Ave"),
            ("Stenton Ave", "Washington Ln"),
        ),
    ),
    "15": _District(
        "Frankford, Mayfair, Holmesburg, Tacony",
        5,
        ("19124", "19135", "19136", "19149"),
        (("Frankford Ave", 43, 80), ("Torresdale Ave", 43, 80), ("Cottman Ave", 18, 35), ("Harbison Ave", 50, 66)),
        (
            ("Frankford Ave", "Cottman Ave"),
            ("Frankford Ave", "Bridge St"),
            ("Frankford Ave", "Margaret St"),
            ("Torresdale Ave", "Cottman Ave"),
            ("Frankford Ave", "Rhawn St"),
        ),
    ),
    "16": _District(
        "Mantua, Belmont, Powelton, Mill Creek",
        3,
        ("19104", "19139"),
        (
            ("Lancaster Ave", 35, 48),
            ("Haverford Ave", 35, 52),
            ("W Girard Ave", 38, 52),
            ("Spring Garden St", 35, 40),
            ("Parkside Ave", 40, 52),
        ),
        (
            ("N 40th St", "Lancaster Ave"),
            ("N 41st St", "Haverford Ave"),
            ("Belmont Ave", "Parkside Ave"),
            ("N 38th St", "Lancaster Ave"),
        ),
    ),
    "17": _District(
        "Point Breeze, Grays Ferry",
        3,
        ("19145", "19146"),
        (
            ("Washington Ave", 15, 34),
            ("Tasker St", 15, 30),
            ("Wharton St", 15, 30),
            ("Federal St", 15, 30),
            ("S 20th St", 10, 19),
        ),
        (
            ("S 29th St", "Tasker St"),
            ("S 20th St", "Washington Ave"),
            ("Point Breeze Ave", "Federal St"),
            ("S 23rd St", "Wharton St"),
        ),
    ),
    "18": _District(
        "Cobbs Creek, Cedar Park, Walnut Hill",
        5,
        ("19143", "19139", "19104"),
        (
            ("Baltimore Ave", 40, 63),
            ("Chester Ave", 40, 58),
            ("Woodland Ave", 40, 54),
            ("Cedar Ave", 45, 60),
            ("S 52nd St", 1, 15),
            ("Springfield Ave", 45, 60),
        ),
        (
            ("S 52nd St", "Baltimore Ave"),
            ("S 60th St", "Baltimore Ave"),
            ("S 49th St", "Chester Ave"),
            ("S 50th St", "Woodland Ave"),
        ),
    ),
    "19": _District(
        "Overbrook, Wynnefield, Haddington",
        6,
        ("19131", "19139", "19151"),
        (
            ("Market St", 52, 63),
            ("Lancaster Ave", 50, 63),
            ("Haverford Ave", 52, 68),
            ("N 52nd St", 1, 18),
            ("Lansdowne Ave", 52, 70),
            ("City Ave", 40, 70),
        ),
        (
            ("N 52nd St", "Market St"),
            ("N 60th St", "Market St"),
            ("N 52nd St", "Lancaster Ave"),
            ("N 63rd St", "Lansdowne Ave"),
            ("N 54th St", "City Ave"),
        ),
    ),
    "22": _District(
        "Strawberry Mansion, Sharswood, Temple",
        7,
        ("19121", "19132", "19122"),
        (
            ("N Broad St", 15, 29),
            ("W Cecil B Moore Ave", 10, 33),
            ("W Lehigh Ave", 10, 33),
            ("Ridge Ave", 16, 30),
            ("W Susquehanna Ave", 10, 33),
            ("W Diamond St", 10, 33),
            ("W Dauphin St", 10, 33),
            ("N 22nd St", 15, 29),
        ),
        (
            ("N Broad St", "W Cecil B Moore Ave"),
            ("N 22nd St", "W Lehigh Ave"),
            ("N 29th St", "W Dauphin St"),
            ("N 33rd St", "W Diamond St"),
            ("N Broad St", "W Susquehanna Ave"),
        ),
    ),
    "24": _District(
        "Kensington, Port Richmond, Harrowgate",
        10,
        ("19134", "19125"),
        (
            ("Kensington Ave", 27, 37),
            ("E Allegheny Ave", 1, 33),
            ("Frankford Ave", 27, 38),
            ("Aramingo Ave", 25, 38),
            ("Richmond St", 26, 36),
            ("E Somerset St", 1, 20),
            ("E Cambria St", 1, 25),
        ),
        (
            ("Kensington Ave", "E Allegheny Ave"),
            ("Kensington Ave", "E Somerset St"),
            ("Kensington Ave", "E Cambria St"),
            ("Frankford Ave", "E Allegheny Ave"),
            ("Kensington Ave", "E Lehigh Ave"),
        ),
    ),
    "25": _District(
        "Fairhill, Hunting Park, Feltonville",
        9,
        ("19133", "19140", "19120", "19124"),
        (
            ("N 5th St", 27, 48),
            ("W Allegheny Ave", 1, 14),
            ("W Lehigh Ave", 1, 10),
            ("W Erie Ave", 1, 14),
            ("Rising Sun Ave", 38, 60),
            ("N Front St", 25, 50),
            ("Germantown Ave", 25, 35),
            ("Kensington Ave", 37, 44),
        ),
        (
            ("N 5th St", "W Allegheny Ave"),
            ("N 5th St", "W Lehigh Ave"),
            ("Germantown Ave", "W Lehigh Ave"),
            ("Rising Sun Ave", "Roosevelt Blvd"),
            ("N 2nd St", "W Indiana Ave"),
        ),
    ),
    "26": _District(
        "Fishtown, Olde Kensington, Norris Square",
        4,
        ("19125", "19122", "19123"),
        (
            ("Frankford Ave", 10, 26),
            ("E Girard Ave", 1, 13),
            ("W Girard Ave", 1, 10),
            ("N Front St", 10, 26),
            ("E York St", 1, 25),
            ("Kensington Ave", 19, 27),
            ("N 2nd St", 10, 25),
        ),
        (
            ("Frankford Ave", "E Girard Ave"),
            ("N Front St", "E Girard Ave"),
            ("N 2nd St", "W Diamond St"),
            ("N Front St", "Berks St"),
        ),
    ),
    "35": _District(
        "Olney, Logan, Oak Lane, Fern Rock",
        5,
        ("19120", "19141", "19126"),
        (
            ("N Broad St", 45, 69),
            ("W Olney Ave", 1, 20),
            ("N 5th St", 48, 60),
            ("Old York Rd", 48, 70),
            ("Ogontz Ave", 55, 80),
            ("N 11th St", 48, 70),
        ),
        (
            ("N Broad St", "W Olney Ave"),
            ("N 5th St", "W Olney Ave"),
            ("Ogontz Ave", "Cheltenham Ave"),
            ("Old York Rd", "W Olney Ave"),
        ),
    ),
    "39": _District(
        "Nicetown-Tioga, Allegheny West, East Falls",
        6,
        ("19132", "19140", "19129"),
        (
            ("W Hunting Park Ave", 10, 35),
            ("Germantown Ave", 30, 45),
            ("W Allegheny Ave", 14, 35),
            ("N 22nd St", 29, 40),
            ("Ridge Ave", 30, 45),
            ("W Erie Ave", 14, 25),
            ("N Broad St", 30, 45),
        ),
        (
            ("N Broad St", "W Erie Ave"),
            ("N 22nd St", "W Allegheny Ave"),
            ("Germantown Ave", "W Hunting Park Ave"),
            ("Ridge Ave", "Midvale Ave"),
            ("N Broad St", "W Venango St"),
        ),
    ),
}

DISTRICTS: tuple[str, ...] = tuple(_DISTRICTS)
PHILADELPHIA_ZIPS: frozenset[str] = frozenset(z for d in _DISTRICTS.values() for z in d.zips)


@dataclass(frozen=True)
class _Town:
    city: str
    state: str
    zips: tuple[str, ...]
    streets: tuple[tuple[str, int, int], ...]
    weight: float


# People arrested in Philadelphia often live just over the line; without a few of these the demo
# would hide the case where an address is outside the city.
_SUBURBS: tuple[_Town, ...] = (
    _Town("Upper Darby", "PA", ("19082",), (("Long Ln", 1, 9), ("Garrett Rd", 1, 15), ("Marshall Rd", 1, 20)), 4),
    _Town(
        "Camden",
        "NJ",
        ("08102", "08103", "08104", "08105"),
        (("Federal St", 1, 30), ("Broadway", 1, 30), ("Haddon Ave", 1, 30), ("Kaighn Ave", 1, 20)),
        3,
    ),
    _Town("Chester", "PA", ("19013",), (("Edgmont Ave", 1, 30), ("W 9th St", 1, 25), ("Crosby St", 1, 15)), 2),
    _Town("Norristown", "PA", ("19401",), (("W Main St", 1, 12), ("Markley St", 1, 10), ("Swede St", 1, 12)), 1),
    _Town("Darby", "PA", ("19023",), (("Main St", 1, 10), ("MacDade Blvd", 1, 10)), 1),
    _Town("Bensalem", "PA", ("19020",), (("Street Rd", 1, 40), ("Bristol Pike", 1, 40)), 1),
)

_SUBURB_SHARE = 0.12
_UNITS = ("Apt 1", "Apt 2", "Apt 3", "Apt 1F", "Apt 2R", "Fl 2", "Fl 3", "Unit 3B", "Rear")


def _district(district: str) -> _District:
    try:
        return _DISTRICTS[district]
    except KeyError:
        raise ValueError(f"unknown police district {district!r}; Philadelphia has {', '.join(DISTRICTS)}") from None


def district_zips(district: str) -> tuple[str, ...]:
    return _district(district).zips


def random_district(rng: random.Random) -> str:
    """A district drawn by how many arrests it makes (Kensington far more than Somerton)."""
    return rng.choices(DISTRICTS, weights=[d.weight for d in _DISTRICTS.values()])[0]


def _house(rng: random.Random, streets: tuple[tuple[str, int, int], ...]) -> str:
    name, low, high = rng.choice(streets)
    number = rng.randint(low, high) * 100 + rng.randint(1, 99)
    street = f"{number} {name}"
    if rng.random() < 0.1:
        street = f"{street} {rng.choice(_UNITS)}"
    return street


def random_address(rng: random.Random, district: str | None = None) -> Address:
    """A home address: in ``district`` when one is named, otherwise mostly in the city.

    About one address in eight without a district is in a nearby suburb or in Camden, NJ.
    """
    if district is None and rng.random() < _SUBURB_SHARE:
        town = rng.choices(_SUBURBS, weights=[t.weight for t in _SUBURBS])[0]
        return {
            "street": _house(rng, town.streets),
            "city": town.city,
            "state": town.state,
            "zip": rng.choice(town.zips),
        }
    place = _district(district if district is not None else random_district(rng))
    return {
        "street": _house(rng, place.streets),
        "city": "Philadelphia",
        "state": "PA",
        "zip": rng.choice(place.zips),
    }


def random_location(rng: random.Random, district: str) -> str:
    """Where an arrest happened, written the way reports do: a block or a corner."""
    place = _district(district)
    if rng.random() < 0.55:
        name, low, high = rng.choice(place.streets)
        return f"{rng.randint(low, high) * 100} block of {name}"
    first, second = rng.choice(place.corners)
    return f"{first} & {second}"


def incident_number(arrested_at: datetime, district: str, sequence: int) -> str:
    """The DC number: 2-digit year (city time), 2-digit district, 6-digit sequence."""
    if arrested_at.tzinfo is None:
        raise ValueError("arrested_at must carry an offset")
    if not 0 <= sequence <= 999_999:
        raise ValueError(f"DC sequence {sequence} does not fit in six digits")
    _district(district)
    year = arrested_at.astimezone(CITY_TZ).year % 100
    return f"{year:02d}{int(district):02d}{sequence:06d}"


def random_arrest_details(
    rng: random.Random,
    *,
    arrested_at: datetime,
    sequence: int,
    district: str | None = None,
) -> Arrest:
    """The CONTRACT §4 ``arrest`` object for an arrest at ``arrested_at`` (an aware datetime).

    ``sequence`` is the district's running incident count; callers keep it unique per district
    and year, because the DC number is the police's own key for the incident.
    """
    chosen = district if district is not None else random_district(rng)
    number = incident_number(arrested_at, chosen, sequence)
    return {
        "arrested_at": arrested_at.isoformat(),
        "location": random_location(rng, chosen),
        "district": chosen,
        "incident_number": number,
        "arresting_agency": "PPD",
        "arresting_officer": str(rng.randint(1001, 9899)),
    }


_NARRATIVES = (
    "Officers responded to a radio call for {offense} {where}. The complainant identified the "
    "defendant, who was taken into custody without incident.",
    "Police were flagged down {where} by a complainant who reported {offense}. Officers located "
    "the defendant nearby and placed the defendant under arrest.",
    "While on patrol {where}, officers investigated a report of {offense}; the defendant was "
    "taken into custody without incident.",
    "A 911 caller reported {offense} {where}. Responding officers stopped the defendant, who "
    "matched the description given, and made the arrest.",
    "Officers conducted a pedestrian stop {where} in connection with {offense}. The defendant "
    "was transported to the district for processing.",
    "Following a complaint of {offense} {where}, the defendant was arrested after a brief foot "
    "pursuit. No injuries were reported.",
    "Officers on bicycle patrol {where} observed conduct consistent with {offense} and detained the defendant.",
    "The complainant reported {offense} {where} and described the offender; the defendant was "
    "located a short distance away and taken into custody.",
    "Detectives developed information on {offense} {where}. The defendant was arrested on "
    "location and evidence was placed on a property receipt.",
)


def random_narrative(rng: random.Random, offense_description: str, location: str) -> str:
    """One or two plain sentences for the arrest; they name no person, only "the defendant"."""
    # A block reads "in the 3000 block of ...", a corner "at Kensington Ave & ...".
    where = f"in the {location}" if location[:1].isdigit() else f"at {location}"
    return rng.choice(_NARRATIVES).format(offense=offense_description, where=where)


class DemoCharge(NamedTuple):
    """One charge the demo may file; each (title, section, subsection, grade) is a row of the
    reference grade table, so the offense catalog accepts it."""

    title: int
    section: str
    subsection: str | None
    grade: str
    weight: int


# Weighted roughly like a Philadelphia arrest docket: drugs, assaults, thefts and guns dominate.
# Grades are spelled as the courts recorded them: drug-act offenses are the ungraded "F" and "M",
# and DUI exists only with its offense-count marker in the subsection ("A1*" = first offense).
DEMO_CHARGE_MIX: tuple[DemoCharge, ...] = (
    DemoCharge(35, "780-113", "A30", "F", 120),  # manufacture/deliver/possess with intent
    DemoCharge(35, "780-113", "A16", "M", 100),  # knowing possession
    DemoCharge(35, "780-113", "A32", "M", 35),  # paraphernalia
    DemoCharge(18, "2701", "A1", "M2", 90),  # simple assault
    DemoCharge(18, "2702", "A1", "F1", 50),  # aggravated assault, serious bodily injury
    DemoCharge(18, "2702", "A4", "F2", 20),  # aggravated assault with a deadly weapon
    DemoCharge(18, "2705", None, "M2", 40),  # recklessly endangering
    DemoCharge(18, "2706", "A1", "M1", 35),  # terroristic threats
    DemoCharge(18, "3701", "A1II", "F1", 30),  # robbery, threat of serious injury
    DemoCharge(18, "3502", "A1", "F1", 25),  # burglary, overnight accommodation, person present
    DemoCharge(18, "3503", "A1II", "F2", 15),  # criminal trespass, breaking in
    DemoCharge(18, "3921", "A", "M1", 45),  # theft by unlawful taking
    DemoCharge(18, "3925", "A", "M1", 35),  # receiving stolen property
    DemoCharge(18, "3929", "A1", "M2", 25),  # retail theft
    DemoCharge(18, "3934", "A", "M1", 10),  # theft from a motor vehicle
    DemoCharge(18, "3304", "A5", "M3", 15),  # criminal mischief
    DemoCharge(18, "4101", "A2", "F2", 8),  # forgery
    DemoCharge(18, "5104", None, "M2", 20),  # resisting arrest
    DemoCharge(18, "5503", "A1", "M3", 10),  # disorderly conduct, fighting
    DemoCharge(75, "3802", "A1*", "M", 25),  # DUI, general impairment, first offense
    DemoCharge(18, "6106", "A1", "F3", 55),  # carrying a firearm without a licence
    DemoCharge(18, "6108", None, "M1", 50),  # carrying a firearm on Philadelphia streets
    DemoCharge(18, "6105", "A1", "F2", 35),  # person not to possess a firearm
    DemoCharge(18, "907", "A", "M1", 40),  # possessing an instrument of crime
    DemoCharge(18, "6110.2", "A", "F2", 8),  # firearm with altered serial number
    DemoCharge(18, "2501", "A", "H1", 2),  # criminal homicide, rare
)

FIREARMS_SECTIONS: tuple[str, ...] = ("6105", "6106", "6108", "6110.2", "907")

# Plain words for narratives; the catalog's court abbreviations read badly in a sentence.
PLAIN_OFFENSES: dict[tuple[int, str], str] = {
    (35, "780-113"): "narcotics activity",
    (18, "2701"): "an assault",
    (18, "2702"): "a serious assault",
    (18, "2705"): "reckless endangerment",
    (18, "2706"): "threats",
    (18, "3701"): "a robbery",
    (18, "3502"): "a burglary",
    (18, "3503"): "a break-in",
    (18, "3921"): "a theft",
    (18, "3925"): "stolen property",
    (18, "3929"): "a retail theft",
    (18, "3934"): "a theft from a vehicle",
    (18, "3304"): "property damage",
    (18, "4101"): "a forged check",
    (18, "5104"): "a disturbance",
    (18, "5503"): "a fight",
    (75, "3802"): "an impaired driver",
    (18, "6106"): "a person with a gun",
    (18, "6108"): "a person with a gun",
    (18, "6105"): "a person with a gun",
    (18, "907"): "a person with a weapon",
    (18, "6110.2"): "a person with a gun",
    (18, "2501"): "a shooting",
}

# Charges travel in families (a gun arrest is 6105 + 6106 + 6108, a sale is A30 + A16), so the
# extra charges on an arrest mostly come from the first charge's family.
_FAMILIES: dict[tuple[int, str], str] = {
    **{(18, s): "firearms" for s in FIREARMS_SECTIONS},
    (35, "780-113"): "drugs",
    **{(18, s): "violence" for s in ("2701", "2702", "2705", "2706", "3701", "2501", "5104")},
    **{(18, s): "property" for s in ("3502", "3503", "3921", "3925", "3929", "3934", "3304", "4101")},
    (18, "5503"): "order",
    (75, "3802"): "order",
}
_SAME_FAMILY = 0.65


def is_firearms_charge(title: int, section: str) -> bool:
    return title == 18 and section in FIREARMS_SECTIONS


def _counts(rng: random.Random, charge: DemoCharge) -> int:
    if charge.grade.startswith("H"):
        return 1
    return rng.choices((1, 2, 3, 4), weights=(85, 10, 4, 1))[0]


def random_charges(rng: random.Random) -> list[Charge]:
    """One to three charges from DEMO_CHARGE_MIX, never two under the same title and section."""
    wanted = rng.choices((1, 2, 3), weights=(50, 32, 18))[0]
    picked = [rng.choices(DEMO_CHARGE_MIX, weights=[c.weight for c in DEMO_CHARGE_MIX])[0]]
    family = _FAMILIES[(picked[0].title, picked[0].section)]
    while len(picked) < wanted:
        used = {(c.title, c.section) for c in picked}
        pool = [c for c in DEMO_CHARGE_MIX if (c.title, c.section) not in used]
        kin = [c for c in pool if _FAMILIES[(c.title, c.section)] == family]
        if kin and rng.random() < _SAME_FAMILY:
            pool = kin
        picked.append(rng.choices(pool, weights=[c.weight for c in pool])[0])
    return [
        {
            "title": c.title,
            "section": c.section,
            "subsection": c.subsection,
            "grade": c.grade,
            "counts": _counts(rng, c),
        }
        for c in picked
    ]
