"""The dotted field names of the arrest record (CONTRACT §4): what agreements grant and what
disclosures name, and how pages label and show the members. All derived from the record's one
definition (`pars.records.record`); `id`, `tracking_number` and `status` are always present and
not grantable."""

from __future__ import annotations

from pars.records import shape
from pars.records.record import ArrestRecord, RecordHead

ALWAYS_PRESENT: tuple[str, ...] = tuple(RecordHead.model_fields)

# The grantable members in the record's order: granted whole, or (person, arrest) member by member.
GRANTABLE = shape.grantable(ArrestRecord, RecordHead)
_BY_NAME = {member.name: member for member in GRANTABLE}

PERSON_MEMBERS: tuple[str, ...] = _BY_NAME["person"].members or ()
ARREST_MEMBERS: tuple[str, ...] = _BY_NAME["arrest"].members or ()
TOP_LEVEL: tuple[str, ...] = tuple(member.name for member in GRANTABLE if member.members is None)

RECORD_FIELDS: tuple[str, ...] = tuple(path for member in GRANTABLE for path in member.paths)

# Member name → label, for pages that show a record member by member; every grantable member and
# the head have one (`shape.labels` refuses a definition where one lacks it).
LABELS: dict[str, str] = shape.labels(ArrestRecord, RecordHead)
# The members that hold an instant, which pages show in the city's time.
INSTANTS: frozenset[str] = shape.instants(ArrestRecord)
