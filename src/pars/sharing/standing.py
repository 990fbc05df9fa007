"""An agreement's standing at an instant, and which governance acts are open on it (CONTRACT §6).

One definition for everyone who asks: the services refuse an act that is closed (409, or 403 when
it is the asking agency that may not: only stakeholders vote, suspend and lift), and the pages
show the open acts and say, with the same words, why the others are closed. A page can never
offer what the service refuses, nor the service allow what the page hides.

"Terminated" is a termination that has taken effect: until its instant an agreement scheduled to
end is still voted on, suspended and lifted; amending it or terminating it again is closed as soon
as a termination is recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pars.auth.models import Agency
from pars.errors import Conflict, Forbidden
from pars.sharing.grants import Plan
from pars.sharing.models import Agreement, AgreementVersion
from pars.sharing.vocabulary import VersionStatus


class AgreementState(StrEnum):
    PROPOSED = "proposed"  # no version approved yet; one waits for votes
    APPROVED = "approved"  # approved, not in force yet
    IN_FORCE = "in_force"
    SUSPENDED = "suspended"
    EXPIRED = "expired"  # every approved version's window has ended
    TERMINATED = "terminated"
    REJECTED = "rejected"  # no version approved, none waiting


@dataclass(frozen=True)
class Standing:
    """``since``: when it was terminated or suspended, when it takes effect (approved), or the end
    of its last window (expired). ``terminates_at``: a termination recorded for a later instant."""

    state: AgreementState
    since: datetime | None = None
    terminates_at: datetime | None = None


def terminated(agreement: Agreement, instant: datetime) -> bool:
    return agreement.terminated_at is not None and agreement.terminated_at <= instant


def standing_of(agreement: Agreement, plan: Plan, instant: datetime) -> Standing:
    """``plan``: the agreement compiled exactly as the gate compiles it (`compile_agreement`)."""
    if terminated(agreement, instant):
        return Standing(AgreementState.TERMINATED, agreement.terminated_at)
    if agreement.suspended:
        return Standing(AgreementState.SUSPENDED, agreement.suspended_at)
    if plan.in_force_at(instant) is not None:
        return Standing(AgreementState.IN_FORCE, terminates_at=agreement.terminated_at)
    return _not_in_force(agreement, plan, instant)


def _not_in_force(agreement: Agreement, plan: Plan, instant: datetime) -> Standing:
    later = [grant.starts for grant in plan.grants if grant.starts > instant]
    if later:
        return Standing(AgreementState.APPROVED, min(later))
    if plan.grants:
        return Standing(AgreementState.EXPIRED, max(grant.ends for grant in plan.grants))
    if pending_version(agreement) is not None:
        return Standing(AgreementState.PROPOSED)
    return Standing(AgreementState.REJECTED)


def in_force_until(agreement: Agreement, plan: Plan, instant: datetime) -> datetime | None:
    """When disclosure under the agreement stops if nothing changes, or None when it is not in
    force: the end of the grant in force, carried on through approved versions that follow on
    without a gap, cut short by a termination already scheduled."""
    grant = plan.in_force_at(instant)
    if grant is None:
        return None
    end = grant.ends
    extended = True
    while extended:
        extended = False
        for later in plan.grants:
            if later.starts <= end < later.ends:
                end, extended = later.ends, True
    if agreement.terminated_at is not None:
        end = min(end, agreement.terminated_at)
    return end


def pending_version(agreement: Agreement) -> AgreementVersion | None:
    """The newest proposed version: the one votes go to."""
    proposed = [v for v in agreement.versions if v.status == VersionStatus.PROPOSED]
    return proposed[-1] if proposed else None


# --- which governance acts are open ------------------------------------------------------------


@dataclass(frozen=True)
class LiftBallot:
    """A stakeholder's vote to lift one suspension of an agreement (each suspension is a round)."""

    round: int
    agency: str
    user_id: uuid.UUID | None
    at: datetime


class Act(StrEnum):
    VOTE = "vote"
    AMEND = "amend"
    SUSPEND = "suspend"
    LIFT = "lift"
    TERMINATE = "terminate"


@dataclass(frozen=True)
class Opening:
    """Whether an act is open; when it is not, why, in words a page shows as they are, and
    whether the refusal is about the asking agency (403) or the agreement's state (409)."""

    allowed: bool
    reason: str = ""
    status: int = 409


OPEN = Opening(True)


def openings(
    agreement: Agreement, agency: Agency, ballots: Sequence[LiftBallot], instant: datetime
) -> dict[Act, Opening]:
    """Every governance act of ``agency`` (the asker's, whose role allows governing) on
    ``agreement`` at ``instant``; ``ballots``: the agreement's votes to lift (`lift_ballots`).
    Who asks is checked before the agreement's state, so a non-stakeholder learns only that."""
    code = agency.code
    not_stakeholder = Opening(
        False, f"your agency ({code}) is not a stakeholder: only stakeholder agencies vote and suspend", 403
    )
    ended = Opening(False, "the agreement has been terminated")
    pending = pending_version(agreement)
    if not agency.stakeholder:
        vote = not_stakeholder
    elif terminated(agreement, instant):
        vote = ended
    elif pending is None:
        vote = Opening(False, "no version is waiting for votes")
    elif mine := next((v for v in pending.votes if v.agency_id == agency.id), None):
        vote = Opening(False, f"{code} has already voted {mine.vote} on version {pending.version}")
    else:
        vote = OPEN
    if agreement.terminated_at is not None:
        amend = Opening(False, "a termination is recorded: propose a new agreement instead")
        terminate = Opening(False, "a termination is already recorded")
    else:
        amend = terminate = OPEN
    if not agency.stakeholder:
        suspend = lift = not_stakeholder
    elif terminated(agreement, instant):
        suspend = lift = ended
    elif agreement.suspended:
        suspend = Opening(False, "the agreement is already suspended")
        voted = any(b.round == agreement.suspension_round and b.agency == code for b in ballots)
        lift = Opening(False, f"{code} has already voted to lift this suspension") if voted else OPEN
    else:
        suspend, lift = OPEN, Opening(False, "the agreement is not suspended")
    return {Act.VOTE: vote, Act.AMEND: amend, Act.SUSPEND: suspend, Act.LIFT: lift, Act.TERMINATE: terminate}


def require_open(
    act: Act, agreement: Agreement, agency: Agency, ballots: Sequence[LiftBallot], instant: datetime
) -> None:
    """The services' check before they act: a closed act is refused with the page's words."""
    opening = openings(agreement, agency, ballots, instant)[act]
    if opening.allowed:
        return
    if opening.status == 403:
        raise Forbidden(opening.reason)
    raise Conflict(opening.reason)
