"""The dotted field names of the arrest record (CONTRACT §4): what agreements grant and what
disclosures name. `id`, `tracking_number` and `status` are always present and not grantable."""

from __future__ import annotations

ALWAYS_PRESENT = ("id", "tracking_number", "status")

PERSON_MEMBERS = (
    "name", "aliases", "dob", "sex", "race", "ethnicity", "place_of_birth", "citizenship",
    "address", "phone", "ssn", "identifiers",
)  # fmt: skip
ARREST_MEMBERS = (
    "arrested_at", "location", "district", "incident_number", "arresting_agency", "arresting_officer",
)  # fmt: skip
TOP_LEVEL = ("charges", "charging", "arraignment", "custody", "narrative", "victims", "witnesses")

RECORD_FIELDS: tuple[str, ...] = (
    *(f"person.{m}" for m in PERSON_MEMBERS),
    *(f"arrest.{m}" for m in ARREST_MEMBERS),
    *TOP_LEVEL,
)
