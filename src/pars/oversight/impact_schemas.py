"""API shape of the impact preview (CONTRACT §6); members beyond the contract say so."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from pars.oversight.schemas import PeriodOut, PublishedCountsOut


class DisparateRowOut(BaseModel):
    race: str
    ethnicity: str
    arrests: int = Field(description="the period's arrests of this group (all arrests, sealed included)")
    arrest_share: float
    persons_disclosed: int = Field(description="people of this group the version admits, each once")
    disclosure_share: float
    ratio: float | None = Field(
        description="disclosure share over arrest share; null when the group had no arrests, is not recorded, "
        "or has a count of fewer than 11 (or withheld)"
    )
    suppressed: bool = Field(description="extension: a count of this row is fewer than 11 or withheld on pages")
    published: PublishedCountsOut = Field(description="extension: the counts as pages publish them")


class DifferenceOut(BaseModel):
    against_version: int
    arrests_added: int = Field(description="arrests of the period this version admits and the compared one does not")
    arrests_removed: int = Field(description="arrests the compared version admits and this one does not")
    fields_added: list[str]
    fields_removed: list[str]


class ImpactOut(BaseModel):
    agreement_id: str = Field(description="extension")
    agency: str = Field(description="extension: the partner agency")
    version: int
    status: str = Field(description="extension: the version's status (proposed, approved, …)")
    period: PeriodOut
    arrests: int = Field(description="arrests booked in the period that the version's scope admits (never sealed)")
    persons: int = Field(description="the different people of those arrests")
    fields: dict[str, int] = Field(
        description="per granted field, the admitted records that have a value for it (README: impact preview)"
    )
    disparate_impact: list[DisparateRowOut]
    difference: DifferenceOut | None = Field(
        description="against the version in force (or in force last), when that is another version"
    )
    received: dict[str, Any] | None = Field(
        description="the transparency report's counts for the agency over the part of the period the compared "
        "version was in force, with `version`, `period` and the compliance report's `breaches` and `breached_terms`"
    )
