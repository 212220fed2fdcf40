"""Use cases of the proposals of targeted recommendations (предложения адресных рекомендаций,
seed 002 step 4): list the proposals of the caller's municipality or school for a period,
read one, accept one (its text and deadline possibly edited: it becomes a plans
recommendation through ``recommendations.issue_recommendation``, so the catalogue and tenant
checks apply) or dismiss one with a reason.

Proposals are derived on read (``domain/proposals.propose``) from the indicator values and
list memberships plans keeps from the indicators topic, the catalogue's thresholds and the ВПР
task deficits the indicators service answers; only the decision is stored (docs/adr/0013).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Protocol

from shkala_contracts import Tenant
from shkala_contracts.events.indicators import MembershipChange
from shkala_contracts.events.plans import ProposalAccepted
from shkala_plans.domain.deadlines import parse_deadline
from shkala_plans.domain.model import NotFound, Recommendation
from shkala_plans.domain.proposal_decision import ProposalDecision
from shkala_plans.domain.proposals import (
    Definition,
    Proposal,
    SchoolData,
    SchoolValue,
    TaskDeficit,
    propose,
    school_of,
)
from shkala_plans.service_layer import tenancy
from shkala_plans.service_layer.duties import require_direction
from shkala_plans.service_layer.indicator_refs import known_indicator
from shkala_plans.service_layer.recommendations import PLANNERS, issue_recommendation
from shkala_plans.service_layer.services import Deps, execute, load
from shkala_runtime.auth import Principal, Role, authorize

log = logging.getLogger(__name__)


class CitedValues(Protocol):
    """What proposals read of the stored indicator values (``adapters/indicator_values``)."""

    async def cited_for(
        self, period: str, schools: Iterable[str] | None = None
    ) -> list[dict[str, Any]]: ...

    async def lists_for(
        self, period: str, schools: Iterable[str] | None = None
    ) -> list[dict[str, Any]]: ...


class Definitions(Protocol):
    """The catalogue's names, directions and thresholds (``adapters/indicator_catalogue``)."""

    async def definitions(self) -> dict[str, Definition]: ...


class VprTasks(Protocol):
    """A school's ВПР task deficits (``adapters/vpr_tasks``); raises VprTasksUnavailable."""

    async def deficits(self, school: str, period: str) -> list[TaskDeficit]: ...


class VprTasksUnavailable(Exception):
    """The indicators service did not answer the ВПР tasks: proposals come without them."""


STATUSES = ("pending", "accepted", "dismissed")
VPR_REQUESTS_AT_ONCE = 8
"""ВПР task requests to indicators in flight at once while listing (one per school at risk)."""


async def _generate(
    deps: Deps, units: list[Tenant], period: str
) -> tuple[list[Proposal], list[str]]:
    """The proposals of the schools given (placed by the registry), and what could not be read."""
    if not units:
        return [], []
    values: CitedValues = deps.values  # type: ignore[assignment]
    catalogue: Definitions = deps.catalogue  # type: ignore[assignment]
    definitions = await catalogue.definitions()
    ids = [u.school for u in units if u.school]
    by_school: dict[str, list[SchoolValue]] = defaultdict(list)
    for d in await values.cited_for(period, ids):
        by_school[d["school"]].append(
            SchoolValue(
                d["indicator"],
                None if d.get("value") is None else float(d["value"]),
                d.get("numerator"),
                d.get("denominator"),
                d.get("definition_version"),
            )
        )
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for d in sorted(await values.lists_for(period, ids), key=lambda d: d["period"]):
        latest[(d["school"], d["list"])] = d
    lists: dict[str, dict[str, tuple[str, ...]]] = defaultdict(dict)
    for (school, risk_list), d in latest.items():
        if d["change"] == MembershipChange.ENTERED.value:
            lists[school][risk_list] = tuple(d.get("reasons") or ())
    vpr: VprTasks | None = deps.vpr_tasks
    incomplete: list[str] = []
    asking = asyncio.Semaphore(VPR_REQUESTS_AT_ONCE)

    async def of(u: Tenant) -> list[Proposal]:
        assert u.school is not None
        data = SchoolData(
            u.region, u.municipality or "", u.school, period, by_school[u.school], lists[u.school]
        )
        found = propose(data, definitions)
        if found and vpr is not None:  # at risk: its ВПР deficits are problem positions too
            try:
                async with asking:
                    deficits = await vpr.deficits(u.school, period)
            except VprTasksUnavailable as exc:
                log.warning("ВПР tasks of %s not read: %s", u.school, exc)
                incomplete.append(
                    f"ВПР по заданиям школы {u.school} не получены (сервис показателей не"
                    " ответил): предложения по дефицитам ВПР не показаны"
                )
            else:
                if deficits:
                    data = SchoolData(**{**data.__dict__, "deficits": deficits})
                    found = propose(data, definitions)
        return found

    out = [p for found in await asyncio.gather(*(of(u) for u in units)) for p in found]
    return out, sorted(incomplete)


async def _units_in_scope(
    deps: Deps, who: Principal, period: str, municipality: str | None, school: str | None
) -> list[Tenant]:
    """The registered schools with values or list records for the period that the caller
    reaches, narrowed by the filters (a filter outside the caller's tenant is a 403)."""
    if school is not None:
        (unit,) = await tenancy.school_units(deps.orgs, [school])
        authorize(who, [unit], action="see the proposals of")
        if municipality is not None and unit.municipality != municipality:
            return []
        return [unit]
    if municipality is not None:
        authorize(
            who,
            [Tenant(region=who.region, municipality=municipality)],
            action="see the proposals of",
        )
    if who.role is Role.SCHOOL:
        assert who.school is not None
        return await _units_in_scope(deps, who, period, municipality, who.school)
    values: CitedValues = deps.values  # type: ignore[assignment]
    seen = {d["school"] for d in await values.cited_for(period)}
    seen |= {d["school"] for d in await values.lists_for(period)}
    placed = await deps.orgs.schools(sorted(seen))
    units = [Tenant(region=r, municipality=m, school=s) for s, (r, m) in sorted(placed.items())]
    return [
        u
        for u in units
        if who.can_access(u) and (municipality is None or u.municipality == municipality)
    ]


async def list_proposals(
    deps: Deps,
    who: Principal,
    *,
    period: str,
    municipality: str | None = None,
    school: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """The proposals for the period within the caller's tenant, each with its status: pending
    (generated now, no decision), accepted or dismissed (as it was when decided)."""
    units = await _units_in_scope(deps, who, period, municipality, school)
    proposals, incomplete = await _generate(deps, units, period)
    query = tenancy.scoped_query(who, ProposalDecision.kind, school=school)
    query["period"] = period
    if municipality:
        query["municipality"] = municipality
    decided = {d["_id"]: d for d in await deps.store.index_find(query)}
    rows: list[dict[str, Any]] = []
    for p in proposals:
        if p.id in decided:
            continue
        rows.append({**p.describe(), "status": "pending", "version": 0})
    if status != "pending":  # a decision is never pending: not read when only those are asked
        for pid in sorted(decided):
            rows.append((await load(deps, ProposalDecision, pid)).describe())
    if status is not None:
        rows = [r for r in rows if r["status"] == status]
    at_risk = sorted({p.school for p in proposals})
    return {
        "period": period,
        "schools_at_risk": at_risk,
        "proposals": rows,
        "by_status": {s: sum(r["status"] == s for r in rows) for s in STATUSES},
        "incomplete": incomplete,
    }


async def _proposal(deps: Deps, who: Principal, proposal_id: str) -> tuple[Tenant, Proposal | None]:
    school, period = school_of(proposal_id)
    known = await deps.orgs.schools([school])
    if school not in known:
        raise NotFound(f"{proposal_id} does not exist (school {school} is not registered)")
    region, municipality = known[school]
    unit = Tenant(region=region, municipality=municipality, school=school)
    authorize(who, [unit], action="see the proposals of")
    found, _ = await _generate(deps, [unit], period)
    return unit, next((p for p in found if p.id == proposal_id), None)


async def get_proposal(deps: Deps, who: Principal, proposal_id: str) -> dict[str, Any]:
    decision = await load(deps, ProposalDecision, proposal_id)
    if decision.decided is not None:
        authorize(who, [tenancy.owner_of(decision)], action="see")
        return decision.describe()
    _, p = await _proposal(deps, who, proposal_id)
    if p is None:
        raise NotFound(f"{proposal_id} is not proposed by the data of its period (any more)")
    return {**p.describe(), "status": "pending", "version": 0}


async def _undecided(deps: Deps, who: Principal, proposal_id: str, what: str) -> Proposal:
    """The proposal as the data propose it now, for a planner who may act on its school."""
    unit, p = await _proposal(deps, who, proposal_id)
    authorize(who, [unit], roles=PLANNERS, action=f"{what} a proposal for")
    if p is None:
        raise NotFound(f"{proposal_id} is not proposed by the data of its period (any more)")
    require_direction(who, p.direction, f"{what} this proposal")
    return p


def _actor(who: Principal) -> tuple[str, str]:
    return (who.duty or who.role).value, who.school or who.municipality or who.region


def recommendation_id_for(proposal_id: str) -> str:
    """The recommendation an accepted proposal becomes: one id per proposal, so an accept
    retried after a failure issues it once."""
    return "recommendation:p" + proposal_id.rsplit("~", 1)[-1]


async def accept_proposal(
    deps: Deps,
    who: Principal,
    proposal_id: str,
    *,
    text: str | None = None,
    deadline: str | None = None,
) -> tuple[dict[str, Any], Recommendation]:
    """Record the acceptance, then issue the recommendation (tenant, direction and catalogue
    checked first, so a refused accept records nothing). An accept whose recommendation was
    not issued (indicators or the store failed between the two writes) is completed by
    accepting again."""
    decision = await load(deps, ProposalDecision, proposal_id)
    if isinstance(decision.decided, ProposalAccepted):
        rec = await load(deps, Recommendation, decision.decided.recommendation_id)
        if rec.issued is None:
            authorize(who, [tenancy.owner_of(decision)], roles=PLANNERS, action="complete")
            require_direction(who, decision.decided.direction, "complete this proposal")
            return decision.describe(), await _issue(deps, who, decision.decided)
    if decision.decided is not None:
        authorize(who, [tenancy.owner_of(decision)], action="see")
        decision.require_undecided()
    p = await _undecided(deps, who, proposal_id, "accept")
    parsed = parse_deadline(deadline) if deadline and deadline.strip() else None
    await tenancy.authorize_new_plan(
        deps.orgs,
        who,
        region=p.region,
        municipality=p.municipality,
        school=p.school,
        roles=PLANNERS,
        what="a recommendation (issued to schools, not by them)",
    )
    if p.indicator_id is not None:
        await known_indicator(deps.catalogue, p.indicator_id, "indicator_id")
    decision, events = await execute(
        deps,
        ProposalDecision,
        proposal_id,
        lambda a: a.decide_accept(
            p,
            recommendation_id=recommendation_id_for(proposal_id),
            text=text,
            deadline=parsed,
            actor=_actor(who),
        ),
        expected_version=0,
        must_exist=False,
    )
    accepted = events[0]
    assert isinstance(accepted, ProposalAccepted)
    return decision.describe(), await _issue(deps, who, accepted)


async def _issue(deps: Deps, who: Principal, a: ProposalAccepted) -> Recommendation:
    cited = next((c for c in a.cited if c.indicator_id == a.indicator_id), None)
    text = a.text + (f" Срок: {a.deadline.text}." if a.deadline else "")
    assert a.region_id is not None
    assert a.municipality_id is not None
    assert a.school_id is not None
    return await issue_recommendation(
        deps,
        who,
        region=a.region_id,
        municipality=a.municipality_id,
        school=a.school_id,
        direction=a.direction,
        period=a.period,
        text=text,
        indicator_id=a.indicator_id,
        indicator_value=cited.value if cited else None,
        target_value=cited.threshold if cited else None,
        recommendation_id=a.recommendation_id,
    )


async def dismiss_proposal(
    deps: Deps, who: Principal, proposal_id: str, *, reason: str
) -> dict[str, Any]:
    decision = await load(deps, ProposalDecision, proposal_id)
    if decision.decided is not None:
        authorize(who, [tenancy.owner_of(decision)], action="see")
        decision.require_undecided()
    p = await _undecided(deps, who, proposal_id, "dismiss")
    decision, _ = await execute(
        deps,
        ProposalDecision,
        proposal_id,
        lambda a: a.decide_dismiss(p, reason=reason, actor=_actor(who)),
        expected_version=0,
        must_exist=False,
    )
    return decision.describe()
