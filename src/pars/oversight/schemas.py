"""API shapes of oversight (CONTRACT §10); members beyond the contract are marked as extensions
only in their descriptions, never by changing a contract member."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from pars.inputs import InboundModel
from pars.oversight.alerts import ReviewOutcome
from pars.oversight.rules import Severity


class ReviewOut(BaseModel):
    at: datetime
    by: uuid.UUID | None = Field(description="the reviewer's user id")
    note: str | None
    outcome: ReviewOutcome | None


class AlertOut(BaseModel):
    id: uuid.UUID
    rule: str = Field(description="no_case_reference, broad_search, protected_field_probe, volume_spike, "
                      "off_hours_bulk, outside_scope_probe or repeated_person_lookup")  # fmt: skip
    agency: str
    user: uuid.UUID | None = Field(description="the user, when one user made every entry of the evidence")
    severity: Severity
    window_start: datetime
    window_end: datetime
    summary: str
    evidence: list[int] = Field(description="audit entries (seq) that show the pattern, ascending")
    reviewed: bool
    review: ReviewOut | None = Field(default=None, description="who reviewed it, when, with what note and outcome")
    raised_at: datetime
    details: dict[str, Any] = Field(description="the rule's measurements (counts, baseline, threshold)")


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_cursor: str | None


class ReviewIn(InboundModel):
    note: str = Field(min_length=1, max_length=4000)
    outcome: ReviewOutcome = Field(
        default=ReviewOutcome.NOTED,
        description="confirmed (misuse), dismissed (a lawful explanation) or noted; a high-severity alert counts "
        "against the agreement's purposes unless dismissed (docs/oversight.md)",
    )


class BreachOut(BaseModel):
    term: str
    summary: str
    evidence: list[int] = Field(description="audit entries (seq), ascending")
    rule: str = Field(description="the term as the report checks it")
    alerts: list[uuid.UUID] | None = Field(default=None, description="for purpose_limitation: the alerts standing")
    evidence_by_rule: dict[str, list[int]] | None = Field(
        default=None, description="for purpose_limitation: the standing alerts' evidence (audit seqs), by rule"
    )
    indicators: dict[str, list[int]] | None = Field(
        default=None,
        description="for purpose_limitation: the audit seqs of searches refused as ambiguous, too broad or for an "
        "unregistered case, and of lookups their case does not explain",
    )


class PeriodOut(BaseModel):
    from_: str = Field(alias="from", serialization_alias="from")
    to: str


class ComplianceOut(BaseModel):
    agreement_id: uuid.UUID
    agency: str
    terms: list[dict[str, Any]] = Field(description="the version(s) in force in the period, with when they were")
    period: PeriodOut
    queries: int
    disclosures: int = Field(description="records disclosed")
    refusals: int
    refusals_by_reason: dict[str, int]
    disclosures_by_field: dict[str, int]
    purposes: dict[str, int] = Field(description="queries by stated purpose")
    case_references: dict[str, int] = Field(description="answered queries with and without one; distinct ones")
    quota: dict[str, Any] = Field(description="daily limits, the busiest day's queries, days over the limit")
    alerts: int
    alerts_by_rule: dict[str, int]
    alerts_open: int
    purpose_limitation_evidence: dict[str, Any] = Field(
        description="refusals as ambiguous, as too broad and for an unregistered case; answered lookups that no "
        "subject of their case explains; alerts by rule; alerts standing against the stated purposes"
    )
    breaches: list[BreachOut]
    in_breach: bool


class CountsOut(BaseModel):
    queries: int
    refused: int
    refused_by_reason: dict[str, int]
    ambiguous_refusals: int = Field(description="name searches that matched several people and disclosed no one")
    records_disclosed: int
    persons_disclosed: int
    fields: dict[str, int]
    purposes: dict[str, int]
    alerts: int
    alerts_reviewed: int
    alerts_open: int
    alerts_by_rule: dict[str, int]
    detainers_received: int
    detainers_honoured: int


class MonthOut(CountsOut):
    month: str


class UnderAgreementOut(BaseModel):
    agreement_id: str
    version: int | None
    title: str | None
    purposes: list[str]
    records_disclosed: int


class AgencyReportOut(BaseModel):
    agency: str
    name: str
    months: list[MonthOut]
    totals: CountsOut
    agreements: list[UnderAgreementOut] = Field(description="the agreement versions records left under")


class PublishedCountsOut(BaseModel):
    arrests: int | str = Field(description="the count as a page shows it: a number, `fewer than 11` or `withheld`")
    persons_disclosed: int | str


class ImpactRowOut(BaseModel):
    race: str = Field(description="the group's words (FBI code lists), or `Not recorded or not in the list`")
    ethnicity: str
    arrests: int
    arrest_share: float
    persons_disclosed: int
    disclosure_share: float
    ratio: float | None = Field(description="null when the group had no arrests, is not recorded, or is suppressed")
    suppressed: bool = Field(description="extension: a count of this row is fewer than 11 or withheld on pages")
    published: PublishedCountsOut = Field(description="extension: the counts as pages publish them")


class TransparencyOut(BaseModel):
    period: PeriodOut
    generated_at: str
    timezone: str
    agencies: list[AgencyReportOut]
    disparate_impact: list[ImpactRowOut]
    disparate_impact_by_agency: dict[str, list[ImpactRowOut]]
    alerts: list[dict[str, Any]] = Field(description="the period's alerts, with their evidence")
