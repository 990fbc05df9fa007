"""The sharing module's codes as the pages say them (issue 15): purposes, channels, record
statuses, version states, refusal reasons and the record's granted fields, in plain words for
people who are not engineers. The API keeps the codes; only pages use these."""

from __future__ import annotations

import re
from collections.abc import Callable

from jinja2 import Environment

from pars.records.codes import ETHNICITY, RACE, SEX, CodeList
from pars.records.fields import LABELS
from pars.records.schemas import Status
from pars.sharing.vocabulary import Channel, Purpose, Refused, VersionStatus

PURPOSES: dict[str, str] = {
    Purpose.CRIMINAL_INVESTIGATION: "Criminal investigation",
    Purpose.FUGITIVE_APPREHENSION: "Fugitive apprehension",
    Purpose.FIREARMS_INVESTIGATION: "Firearms investigation",
    Purpose.COUNTERTERRORISM: "Counterterrorism",
    Purpose.PROSECUTION: "Prosecution",
    Purpose.PRETRIAL_SERVICES: "Pretrial services",
    Purpose.CIVIL_IMMIGRATION_ENFORCEMENT: "Civil immigration enforcement",
}

CHANNELS: dict[str, str] = {
    Channel.QUERY: "Searches and record reads",
    Channel.FEED: "Real-time feed of events",
}

STATUSES: dict[str, str] = {
    Status.BOOKED: "Booked",
    Status.CHARGES_APPROVED: "Charges approved",
    Status.CHARGES_DECLINED: "Charges declined",
    Status.ARRAIGNED: "Arraigned",
    Status.COMMITTED: "Committed to jail",
    Status.RELEASED: "Released",
}

VERSION_STATES: dict[str, str] = {
    VersionStatus.PROPOSED: "proposed",
    VersionStatus.APPROVED: "approved",
    VersionStatus.REJECTED: "rejected",
    VersionStatus.SUPERSEDED: "replaced by a later version",
}

REFUSALS: dict[str, str] = {
    Refused.NO_AGREEMENT: "no agreement in force",
    Refused.CHANNEL: "channel not allowed",
    Refused.PURPOSE: "purpose not allowed",
    Refused.CASE_REFERENCE: "no case reference",
    Refused.PARAMETER: "searched by a field not granted",
    Refused.TOO_BROAD: "search too broad",
    Refused.QUOTA: "daily limit reached",
    Refused.OUT_OF_SCOPE: "record missing or outside the agreement",
    Refused.AMBIGUOUS: "name matched several people",
    Refused.UNREGISTERED_CASE: "case not registered",
}

CHARGE_STATUSES = {"proposed": "As booked (awaiting charging)", "approved": "Approved", "declined": "Declined"}
CUSTODY = {"in_custody": "In custody", "committed": "Committed to jail", "released": "Released"}
BAIL_TYPES = {"ROR": "Released on own recognizance (ROR)", "unsecured": "Unsecured bail", "monetary": "Monetary bail",
              "nonmonetary": "Non-monetary conditions", "denied": "Bail denied"}  # fmt: skip
DECISIONS = {"approved": "Charges approved", "declined": "Charges declined", "modified": "Charges modified"}


def money(value: float | int | str | None) -> str:
    """A dollar amount as people write it: 5000.0 → "$5,000.00"."""
    if value is None or value == "":
        return "—"
    return f"${float(value):,.2f}"


def name(value: dict[str, str | None] | None) -> str:
    """A name as the city's pages write it: "Last Suffix, First Middle"."""
    if not value:
        return "—"
    last = " ".join(p for p in (value.get("last"), value.get("suffix")) if p)
    given = " ".join(p for p in (value.get("first"), value.get("middle")) if p)
    return f"{last}, {given}" if given else last


def address(value: dict[str, str | None] | None) -> str:
    if not value:
        return "—"
    place = " ".join(p for p in (value.get("state"), value.get("zip")) if p)
    return ", ".join(p for p in (value.get("street"), value.get("city"), place) if p) or "—"


def coded(key: str, value: str) -> str:
    """A coded member of a shared record (by its key) in words."""
    if key in ("sex", "race", "ethnicity"):
        return {"sex": SEX, "race": RACE, "ethnicity": ETHNICITY}[key].label(value) or "—"
    maps: dict[str, dict[str, str]] = {"bail_type": BAIL_TYPES, "decision": DECISIONS}
    if key in maps:
        return maps[key].get(value, plain(value))
    return value


# Members whose label alone would be unclear in a list of granted fields.
_FIELD_WORDS = {
    "person.name": "Name",
    "person.identifiers": "Identifiers (SID, PPN, FBI number)",
    "arrest.arrested_at": "Arrest date and time",
    "arrest.location": "Arrest location",
    "arrest.district": "Police district",
    "arrest.incident_number": "Incident (DC) number",
    "charging": "Charging decision",
    "custody": "Custody and release",
}


def plain(code: str) -> str:
    """Any other code: its words, first letter capital (`off_hours_bulk` → "Off hours bulk")."""
    text = code.replace("_", " ").replace(".", " ").strip()
    return text[:1].upper() + text[1:]


def purpose(code: str) -> str:
    return PURPOSES.get(code, plain(code))


def channel(code: str) -> str:
    return CHANNELS.get(code, plain(code))


def status(code: str) -> str:
    return STATUSES.get(code, plain(code))


def refusal(code: str) -> str:
    return REFUSALS.get(code, plain(code).lower())


def field(path: str) -> str:
    """A granted field's name (`person.dob`, `charges`) as a label ("Date of birth", "Charges")."""
    if path in _FIELD_WORDS:
        return _FIELD_WORDS[path]
    member = path.rpartition(".")[2]
    return LABELS.get(member, plain(member))


_CODE = re.compile(r"\b[a-z]+(?:[._][a-z]+)+\b")


def _lower(label: str) -> str:
    """ "Place of birth" → "place of birth"; "SSN" stays."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _code(code: str) -> str:
    member = code.rpartition(".")[2]
    if code in _FIELD_WORDS or member in LABELS:
        return _lower(field(code))
    for table in (PURPOSES, STATUSES, REFUSALS):
        if code in table:
            return _lower(table[code])
    return code.replace("_", " ").replace(".", " ")


def said(text: str | None) -> str:
    """A sentence a service wrote, with its codes in words ("searched by place_of_birth" →
    "searched by place of birth")."""
    return _CODE.sub(lambda m: _code(m.group(0)), text or "")


def _coded(codes: CodeList) -> Callable[[str | None], str]:
    return lambda value: (codes.label(value) or "—") if value else "—"


def install(env: Environment) -> None:
    """Registers the words as Jinja filters (`{{ p | purpose }}`) on the pages' environment."""
    env.filters.update(
        {
            "purpose": purpose, "channel": channel, "status_words": status, "refusal": refusal, "field_label": field,
            "plain": plain, "version_state": lambda code: VERSION_STATES.get(code, plain(code).lower()),
            "race_words": _coded(RACE), "ethnicity_words": _coded(ETHNICITY), "sex_words": _coded(SEX),
            "money": money, "name_of": name, "address_of": address, "coded": coded,
            "charge_status": lambda v: CHARGE_STATUSES.get(v, plain(v)),
            "custody_words": lambda v: CUSTODY.get(v, plain(v)), "said": said,
        }
    )  # fmt: skip
