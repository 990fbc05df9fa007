"""One rule for which governance acts are open (`pars.sharing.standing`): the pages offer exactly
what the services accept, and a terminated agreement takes no vote, suspension, lift or
amendment (CONTRACT §6)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from pars.actors import SYSTEM, AnyActor
from pars.audit.chain import CheckpointPolicy
from pars.auth.schemas import AgencyIn, UserIn
from pars.auth.service import actor_for, agency_by_code, create_agency, create_user
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.errors import DomainError
from pars.permissions import Role
from pars.sharing import agreements
from pars.sharing.agreements import Policy
from pars.sharing.schemas import AgreementIn, TermsIn
from pars.sharing.standing import Act, openings
from pars.work import unit_of_work
from tests.conftest import User, audit_actions
from tests.sharing.conftest import TERMS

Make = Callable[..., dict[str, Any]]


def test_a_terminated_agreement_takes_no_vote_suspension_lift_or_amendment(
    client: TestClient, agreement: Make, governors: dict[str, User], session: Session, clock: FrozenClock
) -> None:
    agreement_id = agreement()["id"]
    url = f"/api/v1/agreements/{agreement_id}"
    city, dao = governors["CITY"].headers, governors["DAO"].headers
    amended = client.post(f"{url}/versions", json={k: v for k, v in TERMS.items() if k != "agency"}, headers=city)
    assert amended.status_code == 201  # version 2 waits for votes
    assert client.post(f"{url}/suspension", json={"reason": "review"}, headers=dao).status_code == 200
    ended = client.post(f"{url}/termination", json={"effective_at": clock.now().isoformat(), "reason": "ended"},
                        headers=city)  # fmt: skip
    assert ended.status_code == 200, ended.text
    before = client.get(url, headers=city).json()
    done = _governance_acts(session)

    fjd = governors["FJD"].headers
    attempts = {
        "vote": client.post(f"{url}/votes", json={"vote": "yes"}, headers=fjd),
        "suspend": client.post(f"{url}/suspension", json={"reason": "again"}, headers=fjd),
        "lift": client.delete(f"{url}/suspension", headers=fjd),
        "amend": client.post(f"{url}/versions", json={k: v for k, v in TERMS.items() if k != "agency"}, headers=fjd),
    }
    for act, response in attempts.items():
        assert response.status_code == 409, (act, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "terminat" in response.json()["detail"], (act, response.json())
    after = client.get(url, headers=city).json()
    assert after == before  # no vote, no suspension round, no lift, no version
    # Nothing was done, so no act of governance was recorded as done.
    assert _governance_acts(session) == done


def _governance_acts(session: Session) -> list[str]:
    """The acts of governance done (reads of the agreement aside)."""
    return [a for a, outcome in audit_actions(session) if a.startswith("agreement.") and a != "agreement.read"
            and outcome == "ok"]  # fmt: skip


# --- the pages' offer equals the services' answer ------------------------------------------------

ACTORS = ("DAO", "FJD", "CITY", "PPD")  # three stakeholders and a city agency that is not one
ACTS = st.tuples(st.sampled_from([*Act, "vote_no"]), st.sampled_from(ACTORS), st.integers(min_value=0, max_value=3))


def test_every_act_is_accepted_exactly_when_the_page_offers_it(
    db: Engine, clock: FrozenClock, policy: CheckpointPolicy
) -> None:
    factory = make_session_factory(db)
    rules = Policy(frozenset(), frozenset(), quorum=2)
    partners = (f"Q{n:04d}" for n in itertools.count())
    with unit_of_work(factory, clock, policy=policy) as session:
        people: dict[str, AnyActor] = {}
        for code in ACTORS:
            create_agency(session, SYSTEM, AgencyIn(code=code, name=code, kind="city", stakeholder=code != "PPD"))
            user, _ = create_user(session, SYSTEM, UserIn(agency=code, name=code, roles=[Role.GOVERNANCE]))
            people[code] = actor_for(user)

    @examples(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(steps=st.lists(ACTS, min_size=1, max_size=8))
    def check(steps: list[tuple[str, str, int]]) -> None:
        partner = next(partners)
        with unit_of_work(factory, clock, policy=policy) as session:
            create_agency(session, SYSTEM, AgencyIn(code=partner, name=partner, kind="partner"))
            proposal = AgreementIn.model_validate({**_terms(clock), "agency": partner})
            agreement_id = agreements.propose(session, people["CITY"], proposal, rules).id
        for act, who, hours in steps:
            clock.advance(timedelta(hours=hours))
            actor = people[who]
            with unit_of_work(factory, clock, policy=policy) as session:
                agreement = agreements.load(session, agreement_id)
                agency = agency_by_code(session, who)
                assert agency is not None
                offer = openings(agreement, agency, agreements.lift_ballots(session, agreement), clock.now())
            kind = Act.VOTE if act == "vote_no" else Act(act)
            refused = _outcome(factory, clock, policy, actor, act, agreement_id, rules)
            if refused is None or refused.status == 422:  # 422: open, then its terms were refused
                assert offer[kind].allowed, (act, who, refused)
            else:
                assert not offer[kind].allowed, (act, who, refused.detail)
                assert (refused.detail, refused.status) == (offer[kind].reason, offer[kind].status)

    check()


def _terms(clock: FrozenClock) -> dict[str, Any]:
    """Valid terms for 30 days from now (a proposal or an amendment)."""
    start = clock.now()
    window = {"effective_from": start.isoformat(), "expires_at": (start + timedelta(days=30)).isoformat()}
    return {k: v for k, v in TERMS.items() if k != "agency"} | window


def _outcome(
    factory: sessionmaker[Session], clock: FrozenClock, checkpoints: CheckpointPolicy, actor: AnyActor, act: str,
    agreement_id: uuid.UUID, policy: Policy,
) -> DomainError | None:  # fmt: skip
    """The service's refusal of the act, or None when it was done."""
    try:
        with unit_of_work(factory, clock, policy=checkpoints, actor=actor) as session:
            _perform(session, actor, act, agreement_id, TermsIn.model_validate(_terms(clock)), policy, clock)
    except DomainError as refused:
        return refused
    return None


def _perform(
    session: Session, actor: AnyActor, act: str, agreement_id: uuid.UUID, terms: TermsIn, policy: Policy,
    clock: FrozenClock,
) -> None:  # fmt: skip
    match act:
        case Act.VOTE | "vote_no":
            agreements.vote(session, actor, agreement_id, "no" if act == "vote_no" else "yes", policy)
        case Act.AMEND:
            agreements.amend(session, actor, agreement_id, terms, policy)
        case Act.SUSPEND:
            agreements.suspend(session, actor, agreement_id, "a reason")
        case Act.LIFT:
            agreements.vote_to_lift(session, actor, agreement_id, policy)
        case Act.TERMINATE:
            agreements.terminate(session, actor, agreement_id, clock.now(), "a reason")
