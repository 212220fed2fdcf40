"""The management cycle of one direction, complete (seed 002's six steps), for a
municipality or for one of its schools: who owns it, goals with their target values and
dates, the indicators of the direction with their thresholds and targets, monitoring
coverage (which of the municipality's schools submitted and had the period approved, of how
many), analysis (schools on ШНОР/ШНСУ with their weakest ВПР tasks, recommendations per
school), measures with status, effectiveness. Each step carries the technological card's
duties for it. What could not be read (the catalogue, a school's ВПР tasks) is said in
``incomplete``, never left out silently. README "The management cycle view" says where each
figure comes from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from shkala_contracts import Tenant
from shkala_contracts.vocabulary import Direction
from shkala_plans.domain.cycle_card import CardStep
from shkala_plans.domain.cycle_steps import (
    a_year_later,
    coverage_by_year,
    indicator_targets_of,
    period_of,
    target_values,
    year_bounds,
)
from shkala_plans.domain.deadlines import occurrences
from shkala_plans.domain.model import NotFound, Roadmap
from shkala_plans.domain.periods import NotAllowed
from shkala_plans.domain.roster import Roster, people_named
from shkala_plans.service_layer import cycle_reads
from shkala_plans.service_layer.services import Deps, load
from shkala_runtime.auth import Principal


def _card(card: tuple[CardStep, ...], key: str) -> dict[str, Any] | None:
    step = next((s for s in card if s.key == key), None)
    return asdict(step) if step else None


async def _school_of(deps: Deps, who: Principal, municipality: str, school: str) -> None:
    """A school's view names a school of that municipality (else another municipality's
    school would show under this one: its lists and ВПР are not this municipality's)."""
    if (await deps.orgs.schools([school])).get(school) != (who.region, municipality):
        # which municipality it is in is not the caller's to learn
        raise NotFound(
            f"school {school} is not a school of municipality {municipality} in the org-unit"
            " registry"
        )


async def direction_cycle(
    deps: Deps,
    who: Principal,
    *,
    municipality: str,
    direction: Direction,
    school: str | None = None,
    period: str | None = None,
    today: dt.date | None = None,
    card: tuple[CardStep, ...] = (),
) -> dict[str, Any]:
    """The six steps of one direction for a municipality, or for one of its schools
    (``school``), as of ``period`` (else the academic year ``deps.today()`` falls in)."""
    tenant = Tenant(region=who.region, municipality=municipality, school=school)
    if not who.can_access(tenant):
        raise NotAllowed(f"{school or municipality} is outside the caller's tenant")
    today = today or deps.today()
    if period is not None:
        period = period_of(period.replace("-", "/"), today)  # 2025-26 as the periods' URLs
    year = period_of(period, today)
    if school:
        await _school_of(deps, who, municipality, school)
    base = {"region": who.region, "municipality": municipality}
    defs, catalogue_gap = await cycle_reads.definitions(deps)
    incomplete = [catalogue_gap] if catalogue_gap else []

    roster = await load(deps, Roster, Roster.id_for(municipality))
    people = {p.person_id: p for p in roster.people.values() if direction in p.directions}

    all_recs = await deps.store.index_find(
        {**base, "kind": "recommendation", "direction": direction.value}
    )
    recs = await cycle_reads.with_targets(
        deps,
        [
            d
            for d in all_recs
            if (not school or d.get("school") == school)
            and (not period or d.get("period") == period)
        ],
    )
    measures = await cycle_reads.with_links(
        deps,
        [
            d
            for d in await deps.store.index_find(
                {**base, "kind": "measure", "direction": direction.value}
            )
            if not school or school in d.get("target_schools", [])
        ],
    )

    goals: list[dict[str, Any]] = []
    sections: list[dict[str, Any]] = []
    indicator_targets: dict[str, dict[str, Any]] = {}
    in_year = year_bounds(year)
    for doc in await deps.store.index_find({**base, "kind": "roadmap"}):
        if school and doc.get("school") not in (None, school):
            continue
        if not school and doc.get("school"):
            continue  # the municipality's view: its own roadmaps (schools have their own)
        r = await load(deps, Roadmap, doc["_id"])
        for s in r.sections.values():
            if s.direction is not direction:
                continue
            named: list[str] = []
            for x in r.rows.values():
                if x.section_id != s.section_id:
                    continue
                if school and x.target_schools and school not in x.target_schools:
                    continue
                upcoming = [
                    d
                    for d in occurrences(x.deadline, r.starts_on or today, a_year_later(today))
                    if d >= today
                ]
                # a row aimed at some schools is measured by their recommendations only
                aimed = [
                    rec
                    for rec in recs
                    if not x.target_schools or rec.get("school") in x.target_schools
                ]
                targets = target_values(x.indicator_ids, defs, aimed, year)
                named.extend(x.indicator_ids)
                goals.append(
                    {
                        "roadmap_id": r.id,
                        "row_id": x.row_id,
                        "number": x.number,
                        "section_id": s.section_id,
                        "activity": x.activity,
                        "target": x.expected_result,
                        "target_values": targets,
                        "measurable": bool(targets),
                        "deadline": x.deadline.text,
                        "next_due": upcoming[0].isoformat() if upcoming else None,
                        "due_in_period": [d.isoformat() for d in occurrences(x.deadline, *in_year)],
                        "roadmap_years": {
                            "from_year": r.from_year,
                            "to_year": r.to_year,
                            "starts_on": r.starts_on.isoformat() if r.starts_on else None,
                        },
                        "status": x.status.value,
                        "overdue": bool(x.overdue_signalled) and not x.closed,
                        "responsible": [r2 for r2 in x.responsible if not r2.startswith("person:")],
                        "responsible_people": [
                            {
                                "person_id": p,
                                "duty": roster.people[p].duty.value if p in roster.people else None,
                                "position": roster.people[p].position
                                if p in roster.people
                                else None,
                            }
                            for p in people_named(x.responsible)
                        ],
                        "indicator_ids": list(x.indicator_ids),
                    }
                )
                for i in x.indicator_ids:
                    indicator_targets.setdefault(i, {"indicator_id": i, "from": ["roadmap"]})
            sections.append(
                {
                    "roadmap_id": r.id,
                    "section_id": s.section_id,
                    "title": s.title,
                    "coordinator": s.coordinator,
                    "executors": list(s.executors),
                    "indicator_ids": list(dict.fromkeys(named)),
                    "target_values": target_values(named, defs, recs, year),
                }
            )

    for m in measures:
        for i in m.get("indicator_ids", []):
            t = indicator_targets.setdefault(i, {"indicator_id": i, "from": []})
            t["from"] = sorted({*t["from"], "measure"})
    for rec in recs:
        if ind := rec.get("indicator_id"):
            t = indicator_targets.setdefault(ind, {"indicator_id": ind, "from": []})
            t["from"] = sorted({*t["from"], "recommendation"})
    for defn in defs.values():
        if defn.direction is direction:
            t = indicator_targets.setdefault(defn.id, {"indicator_id": defn.id, "from": []})
            t["from"] = sorted({*t["from"], "catalogue"})
    for ind, t in indicator_targets.items():
        t |= indicator_targets_of(ind, defs.get(ind), recs, measures, year)

    all_periods = await deps.store.index_find({**base, "kind": "period"})
    period_docs = [
        d
        for d in all_periods
        if (not school or d.get("school") == school) and (not period or d.get("period") == period)
    ]
    registered = [school] if school else await deps.orgs.schools_of(municipality)
    monitoring = coverage_by_year(period_docs, registered, year)

    # the schools the analysis looks at: the municipality's registered schools and any the
    # cycle names (a school at risk with no recommendation yet is the one to find)
    schools = (
        [school]
        if school
        else sorted(
            {*registered}
            | {x for m in measures for x in m.get("target_schools", [])}
            | {r["school"] for r in all_recs if r.get("school")}
            | {d["school"] for d in all_periods if d.get("school")}
        )
    )
    membership = await cycle_reads.membership(deps, schools)
    latest: dict[tuple[str, str], tuple[str, str]] = {}
    for sch, lst, p, change in membership:
        if period and p > period:
            continue
        if (sch, lst) not in latest or latest[(sch, lst)][0] < p:
            latest[(sch, lst)] = (p, change)
    at_risk = [
        {"school_id": s, "list": lst, "since": p}
        for (s, lst), (p, change) in sorted(latest.items())
        if change == "entered"
    ]
    # ВПР deficits of the period viewed, else of the year the school's listing was decided
    asked: dict[str, str] = {}
    for a in at_risk:
        asked[a["school_id"]] = period or max(a["since"], asked.get(a["school_id"], ""))
    deficits = await cycle_reads.deficits(deps, asked)
    incomplete += [d["note"] for d in deficits if d["status"] != "ok"]

    evaluations = {
        x["measure_id"]: x["verdict"]
        for x in await deps.store.index_find({**base, "kind": "evaluation"})
    }
    return {
        "municipality_id": municipality,
        "school_id": school,
        "direction": direction.value,
        "period": period,
        "as_of_period": year,
        "incomplete": incomplete,
        "owners": {
            "coordinators": sorted(p for p, x in people.items() if x.duty.value == "coordinator"),
            "executors": sorted(p for p, x in people.items() if x.duty.value == "executor"),
        },
        "steps": {
            "goals": {
                "card": _card(card, "goals"),
                "items": goals,
                "sections": sections,
                "incomplete": [catalogue_gap] if catalogue_gap else [],
            },
            "indicators": {
                "card": _card(card, "indicators"),
                "items": sorted(indicator_targets.values(), key=lambda x: x["indicator_id"]),
                "incomplete": [catalogue_gap] if catalogue_gap else [],
            },
            "monitoring": {
                "card": _card(card, "monitoring"),
                "periods": monitoring,
                "schools_of": len({*registered, *(d["school"] for d in period_docs)}),
            },
            "analysis": {
                "card": _card(card, "analysis"),
                "at_risk": at_risk,
                "deficits": deficits,
                "incomplete": [d["note"] for d in deficits if d["status"] != "ok"],
                "recommendations": [
                    {
                        "id": r["_id"],
                        "school_id": r.get("school"),
                        "period": r.get("period"),
                        "indicator_id": r.get("indicator_id"),
                        "indicator_value": r.get("indicator_value"),
                        "target_value": r.get("target_value"),
                        "status": r.get("status", "issued"),
                    }
                    for r in sorted(recs, key=lambda r: r["_id"])
                ],
            },
            "measures": {
                "card": _card(card, "measures"),
                "items": [
                    {
                        "id": m["_id"],
                        "title": m.get("title"),
                        "status": m.get("status", "planned"),
                        "target_schools": m.get("target_schools", []),
                        "baseline_period": m.get("baseline_period"),
                        "evaluation_period": m.get("evaluation_period"),
                    }
                    for m in sorted(measures, key=lambda m: m["_id"])
                ],
            },
            "effectiveness": {
                "card": _card(card, "effectiveness"),
                "items": [
                    {"measure_id": m["_id"], "verdict": evaluations.get(m["_id"])}
                    for m in sorted(measures, key=lambda m: m["_id"])
                ],
            },
        },
    }


async def management_cycle(
    deps: Deps,
    who: Principal,
    *,
    region: str,
    municipality: str,
    direction: Direction,
    period: str | None = None,
) -> dict[str, Any]:
    """The short summary of seed 002's six steps for one direction of one municipality
    (``GET /cycle/{m}/{d}``): coordinator and executors of its roadmap sections, goals
    (roadmap rows), indicators and their monitoring, recommendations, measures and their
    effectiveness. ``direction_cycle`` is the complete view."""
    who.require(Tenant(region=region, municipality=municipality))
    base = {"region": region, "municipality": municipality}
    coordinator: str | None = None
    executors: list[str] = []
    goals: list[dict[str, Any]] = []
    for doc in await deps.store.index_find({**base, "kind": "roadmap"}):
        r = await load(deps, Roadmap, doc["_id"])
        for s in r.sections.values():
            if s.direction is not direction:
                continue
            coordinator = coordinator or s.coordinator
            executors.extend(x for x in s.executors if x not in executors)
            goals.extend(
                {
                    "roadmap_id": r.id,
                    "row_id": x.row_id,
                    "number": x.number,
                    "activity": x.activity,
                    "deadline": x.deadline.text,
                    "status": x.status.value,
                    "overdue": bool(x.overdue_signalled) and not x.closed,
                }
                for x in r.rows.values()
                if x.section_id == s.section_id
            )
    recs = await deps.store.index_find(
        {**base, "kind": "recommendation", "direction": direction.value}
    )
    measures = await deps.store.index_find(
        {**base, "kind": "measure", "direction": direction.value}
    )
    indicator_ids = sorted({i for m in measures for i in m.get("indicator_ids", [])})
    schools = sorted({s for m in measures for s in m.get("target_schools", [])})
    periods = sorted({m[k] for m in measures for k in ("baseline_period", "evaluation_period")})
    values = await deps.values.values_for(schools, [period] if period else periods)
    measure_ids = {m["_id"] for m in measures}
    evaluations = {
        x["measure_id"]: x["verdict"]
        for x in await deps.store.index_find({**base, "kind": "evaluation"})
    }
    return {
        "municipality_id": municipality,
        "direction": direction.value,
        "coordinator": coordinator,
        "executors": executors,
        "goals": goals,
        "indicators": indicator_ids,
        "monitoring": {"values": len(values), "schools": schools, "periods": periods},
        "recommendations": [
            {"id": x["_id"], "school": x.get("school"), "indicator_id": x.get("indicator_id")}
            for x in recs
        ],
        "measures": [
            {
                "id": x["_id"],
                "title": x.get("title"),
                "evaluation_period": x.get("evaluation_period"),
            }
            for x in measures
        ],
        "effectiveness": [
            {"measure_id": k, "verdict": v} for k, v in evaluations.items() if k in measure_ids
        ],
    }
