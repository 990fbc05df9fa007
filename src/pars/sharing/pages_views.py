"""What the agreements pages show, computed from what the sharing services return: an agreement's
state in words, its window in the city's dates, the time it has left, what a version changes from
the one before, and which governance acts the signed-in user may take, with the reason when not.

Nothing here decides anything: the state and the open acts are `pars.sharing.standing`'s, the
same the services check when a form is posted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pars.actors import Actor
from pars.auth.models import Agency
from pars.permissions import Permission
from pars.sharing import words
from pars.sharing.grants import Plan
from pars.sharing.models import Agreement, AgreementVersion
from pars.sharing.standing import (
    Act,
    AgreementState,
    LiftBallot,
    Opening,
    in_force_until,
    openings,
    standing_of,
)
from pars.sharing.vocabulary import VersionStatus

# The instant just before an exclusive end: `expires_at` at midnight means "through the day before".
_JUST_BEFORE = timedelta(microseconds=1)


@dataclass(frozen=True)
class State:
    """An agreement's state as words and a badge tone (the words carry the meaning, not colour)."""

    key: str  # proposed, approved, in_force, suspended, expired, terminated, rejected
    label: str
    tone: str  # good, warn, bad
    note: str = ""


@dataclass(frozen=True)
class Window:
    first_day: date
    last_day: date  # inclusive: the city day of the last instant before `expires_at`

    def __str__(self) -> str:
        return f"{self.first_day.isoformat()} to {self.last_day.isoformat()}"


@dataclass(frozen=True)
class Countdown:
    until: datetime
    text: str  # what the page says without JavaScript, e.g. "167 days left"

    @property
    def iso(self) -> str:
        return self.until.isoformat()


def city_day(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def window_of(version: AgreementVersion, zone: ZoneInfo) -> Window:
    return Window(city_day(version.effective_from, zone), city_day(version.expires_at - _JUST_BEFORE, zone))


def time_left(delta: timedelta) -> str:
    days = delta // timedelta(days=1)
    if days >= 1:
        return f"{days} day{'s' if days != 1 else ''} left"
    hours = delta // timedelta(hours=1)
    if hours >= 1:
        return f"{hours} hour{'s' if hours != 1 else ''} left"
    return "less than an hour left"


def countdown_of(agreement: Agreement, plan: Plan, instant: datetime) -> Countdown | None:
    end = in_force_until(agreement, plan, instant)
    return None if end is None else Countdown(end, time_left(end - instant))


# Each state's words and tone, and its note: {since} is the standing's instant as a city day,
# {last} the last day of an expired window, {ends} a scheduled termination's day.
_WORDS = {
    AgreementState.TERMINATED: ("terminated", "bad", "ended on {since}"),
    AgreementState.SUSPENDED: ("suspended", "bad", "since {since}"),
    AgreementState.IN_FORCE: ("in force", "good", "terminates on {ends}"),
    AgreementState.APPROVED: ("approved", "warn", "takes effect on {since}"),
    AgreementState.EXPIRED: ("expired", "bad", "ended on {last}"),
    AgreementState.PROPOSED: ("proposed", "warn", "waiting for stakeholder votes"),
    AgreementState.REJECTED: ("rejected", "bad", "no version was approved"),
}


def state_of(agreement: Agreement, plan: Plan, instant: datetime, zone: ZoneInfo) -> State:
    """The agreement's standing (`pars.sharing.standing`) in words."""
    standing = standing_of(agreement, plan, instant)
    label, tone, note = _WORDS[standing.state]
    since, ends = standing.since, standing.terminates_at
    if ("{ends}" in note and ends is None) or ("{" in note and "{ends}" not in note and since is None):
        return State(standing.state, label, tone)
    days = {
        "since": "" if since is None else city_day(since, zone).isoformat(),
        "last": "" if since is None else city_day(since - _JUST_BEFORE, zone).isoformat(),
        "ends": "" if ends is None else city_day(ends, zone).isoformat(),
    }
    return State(standing.state, label, tone, note.format(**days))


VERSION_TONES = {"proposed": "warn", "approved": "good", "rejected": "bad", "superseded": ""}


def shown_version(agreement: Agreement, plan: Plan, instant: datetime) -> AgreementVersion:
    """The version a list row describes: the one in force, else the newest approved, else the
    newest."""
    grant = plan.in_force_at(instant)
    by_number = {v.version: v for v in agreement.versions}
    if grant is not None:
        return by_number[grant.version]
    approved = [v for v in agreement.versions if v.approved_at is not None]
    return (approved or agreement.versions)[-1]


# --- what one version changes from the one before ---------------------------------------------


@dataclass(frozen=True)
class Item:
    text: str
    # Said in words beside the <ins>/<del>: "added"/"removed" for list members, "was"/"now" for
    # a value that changed, "" when the item is the same in both versions.
    mark: str = ""


@dataclass(frozen=True)
class Change:
    term: str
    before: list[Item]
    after: list[Item]
    summary: str  # in words: "no change", "added 1, removed 2", "changed"

    @property
    def changed(self) -> bool:
        return self.summary != "no change"


ANY = "any (no restriction)"


def _list_change(
    term: str, before: Sequence[Any] | None, after: Sequence[Any] | None, say: Callable[[str], str] = str
) -> Change:
    """`say` turns a code (a purpose, a field) into the words shown."""
    if before is None and after is None:
        return Change(term, [Item(ANY)], [Item(ANY)], "no change")
    if before is None or after is None:
        old = [Item(ANY, "was")] if before is None else [Item(say(str(x)), "removed") for x in before]
        new = [Item(ANY, "now")] if after is None else [Item(say(str(x)), "added") for x in after]
        return Change(term, old, new, "changed")
    old_set, new_set = {str(x) for x in before}, {str(x) for x in after}
    old = [Item(say(str(x)), "" if str(x) in new_set else "removed") for x in before]
    new = [Item(say(str(x)), "" if str(x) in old_set else "added") for x in after]
    added, removed = len(new_set - old_set), len(old_set - new_set)
    words = [f"added {added}" if added else "", f"removed {removed}" if removed else ""]
    return Change(term, old, new, ", ".join(w for w in words if w) or "no change")


def _value_change(term: str, before: str, after: str) -> Change:
    if before == after:
        return Change(term, [Item(before)], [Item(after)], "no change")
    return Change(term, [Item(before, "was")], [Item(after, "now")], "changed")


def _quota(version: AgreementVersion) -> str:
    return "no limit" if version.daily_query_limit is None else f"{version.daily_query_limit} a day"


def changes(before: AgreementVersion, after: AgreementVersion, zone: ZoneInfo) -> list[Change]:
    """Every term side by side; the template marks added and removed items with <ins>/<del> and
    the words "added"/"removed"."""
    old_window, new_window = window_of(before, zone), window_of(after, zone)
    return [
        _value_change("Title", before.title, after.title),
        _value_change("Document", before.document_ref or "—", after.document_ref or "—"),
        _list_change("Purposes", before.purposes, after.purposes, words.purpose),
        _list_change("Fields", before.fields, after.fields, words.field),
        _list_change("Channels", before.channels, after.channels, words.channel),
        *(
            _list_change(f"Records of these {key}", before.scope.get(key), after.scope.get(key))
            for key in ("grades", "titles", "sections")
        ),
        _list_change(
            "Records of these statuses", before.scope.get("statuses"), after.scope.get("statuses"), words.status
        ),
        _value_change("First day", old_window.first_day.isoformat(), new_window.first_day.isoformat()),
        _value_change("Last day", old_window.last_day.isoformat(), new_window.last_day.isoformat()),
        _value_change(
            "Case reference",
            "required" if before.require_case_reference else "not required",
            "required" if after.require_case_reference else "not required",
        ),
        _value_change(
            "Registered case",
            "required" if before.require_registered_case else "not required",
            "required" if after.require_registered_case else "not required",
        ),
        _value_change("Daily query limit", _quota(before), _quota(after)),
    ]


# --- a version and its votes as shown ------------------------------------------------------------


@dataclass(frozen=True)
class VoteView:
    agency: str
    user: str | None  # None for a partner reader: partners see agencies, not the city's people
    vote: str
    at: datetime


@dataclass(frozen=True)
class VersionView:
    version: AgreementVersion
    window: Window
    tone: str
    votes: list[VoteView]
    yes: int
    no: int
    changes: list[Change] | None  # None for version 1
    in_force: bool


def version_views(
    agreement: Agreement, plan: Plan, instant: datetime, zone: ZoneInfo, names: dict[uuid.UUID, str] | None
) -> list[VersionView]:
    """Newest first. `names` maps voters' user ids to names, None when the reader may not see them."""
    grant = plan.in_force_at(instant)
    views = []
    previous: AgreementVersion | None = None
    for version in agreement.versions:
        votes = [
            VoteView(v.agency.code, _name(names, v.user_id), v.vote, v.at)
            for v in version.votes
        ]  # fmt: skip
        views.append(
            VersionView(
                version=version,
                window=window_of(version, zone),
                tone=VERSION_TONES.get(version.status, ""),
                votes=votes,
                yes=sum(v.vote == "yes" for v in votes),
                no=sum(v.vote == "no" for v in votes),
                changes=None if previous is None else changes(previous, version, zone),
                in_force=grant is not None and grant.version == version.version,
            )
        )
        previous = version
    return list(reversed(views))


def _name(names: dict[uuid.UUID, str] | None, user_id: uuid.UUID | None) -> str | None:
    if names is None:
        return None
    return names.get(user_id, "—") if user_id is not None else "—"


# --- the history of suspensions and termination -------------------------------------------------


@dataclass(frozen=True)
class Event:
    at: datetime
    text: str


def history(agreement: Agreement, ballots: list[LiftBallot], quorum: int, instant: datetime) -> list[Event]:
    """Proposals, approvals, suspensions, votes to lift, lifts and the termination, oldest first.
    Only the latest suspension's reason is kept on the agreement; earlier ones are on the audit
    trail (`agreement.suspend` entries)."""
    events: list[Event] = []
    for version in agreement.versions:
        events.append(Event(version.proposed_at, f"Version {version.version} proposed."))
        if version.approved_at is not None:
            events.append(Event(version.approved_at, f"Version {version.version} approved by quorum."))
        if version.status == VersionStatus.REJECTED and version.votes:
            events.append(Event(version.votes[-1].at, f"Version {version.version} rejected: quorum out of reach."))
    if agreement.suspended_at is not None:
        reason = agreement.suspension_reason or "no reason given"
        events.append(Event(agreement.suspended_at, f"Suspended. Reason: {reason}"))
    rounds: dict[int, int] = {}
    for ballot in ballots:
        rounds[ballot.round] = rounds.get(ballot.round, 0) + 1
        events.append(Event(ballot.at, f"{ballot.agency} voted to lift the suspension."))
        if rounds[ballot.round] == quorum:
            events.append(Event(ballot.at, "Suspension lifted: quorum of stakeholders voted to lift it."))
    if agreement.terminated_at is not None:
        verb = "Terminated" if agreement.terminated_at <= instant else "Termination scheduled"
        events.append(Event(agreement.terminated_at, f"{verb}. Reason: {agreement.termination_reason or '—'}"))
    return sorted(events, key=lambda e: e.at)


# --- which governance acts the reader may take ----------------------------------------------------


def actions_for(
    actor: Actor, agency: Agency | None, agreement: Agreement, ballots: list[LiftBallot], instant: datetime
) -> dict[Act, Opening] | None:
    """None for readers who may not govern (oversight, partners): they see no forms at all. For
    the others, every act open or closed with its reason, as the services decide it
    (`pars.sharing.standing.openings`)."""
    if not actor.may(Permission.GOVERN_AGREEMENTS) or agency is None:
        return None
    return openings(agreement, agency, ballots, instant)


def lift_votes_now(agreement: Agreement, ballots: list[LiftBallot]) -> int:
    """Votes to lift the current suspension so far."""
    return sum(b.round == agreement.suspension_round for b in ballots) if agreement.suspended else 0
