"""Every ingest write checks the tenant of every unit it names (issue 14), on the real broker
and database: the registry's re-parenting and renaming are refused with 403 and publish
nothing; the region's move of a school is an event of its own; facts for a foreign school
are refused on both write routes, for every role."""

from __future__ import annotations

import json

import pytest

from shkala_contracts import Envelope
from shkala_contracts.events.org_units import TOPIC as ORG_UNITS
from shkala_contracts.formats import FORMATS
from shkala_ingest.domain import templates
from shkala_runtime.settings import ServiceSettings

from .helpers import REGION, auth, ingest_settings, read_topic, register, running

SCHOOLS = [("mo-1", "sch-a"), ("mo-1", "sch-b"), ("mo-2", "sch-c")]
HEADER = "Код региона;Регион;Код МО;Муниципалитет;Код ОО;Наименование ОО;Тип ОО"
CONTEXT = "shkala.facts.school_context.v1"


def org_csv(*rows: tuple[str, str, str, str, str, str]) -> bytes:
    """(region, region name, municipality, municipality name, school, school name)."""
    lines = [HEADER] + [";".join((*r, "СОШ")) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def row(mun: str, school: str, name: str | None = None, **names: str) -> tuple[str, ...]:
    return (
        names.get("region_id", REGION),
        names.get("region_name", "Демо-область"),
        mun,
        names.get("municipality_name", f"МО {mun}"),
        school,
        name or f"Школа {school}",
    )


async def upload(client, headers, body: bytes, kind: str = "org-units"):
    return await client.post(
        f"/imports/{kind}", headers=headers, files={"file": ("f.csv", body, "text/csv")}
    )


def org_events(records, after=()) -> list[tuple[str, str, bytes]]:
    """(type, key, value) of the records not in ``after`` (by partition and offset), in log
    order per partition."""
    seen = {(r.partition, r.offset) for r in after}
    return [
        (Envelope.from_headers(r.headers).type, r.key.decode(), r.value)
        for r in sorted(records, key=lambda r: (r.partition, r.offset))
        if (r.partition, r.offset) not in seen
    ]


@pytest.fixture
def settings(test_settings: ServiceSettings):
    return ingest_settings(test_settings, region_id=REGION)


async def test_registry_refuses_reparenting_and_renaming_and_publishes_nothing(settings):
    async with running(settings) as client:
        await register(client, settings, SCHOOLS)
        before = await read_topic(settings, ORG_UNITS)
        mo1 = auth(settings, "municipality", municipality="mo-1")
        attempts = {
            # found: a municipality re-parented another municipality's school into its own
            "re-parent": org_csv(row("mo-1", "sch-a"), row("mo-1", "sch-c")),
            # found: the same upload renamed the region
            "rename region": org_csv(row("mo-1", "sch-a", region_name="Взломанная область")),
            "rename own municipality": org_csv(row("mo-1", "sch-a", municipality_name="Иное")),
            "rename a foreign school": org_csv(row("mo-2", "sch-c", "Чужая школа")),
            "register a municipality": org_csv(row("mo-9", "sch-z")),
            "give a school away": org_csv(row("mo-2", "sch-b")),
            "another region": org_csv(row("mo-1", "sch-a", region_id="other")),
        }
        for what, body in attempts.items():
            r = await upload(client, mo1, body)
            assert r.status_code == 403, (what, r.text)
            problem = r.json()
            assert r.headers["content-type"].startswith("application/problem+json")
            assert problem["errors"], what
            assert all(e["code"] == "forbidden" for e in problem["errors"]), what
        r = await upload(client, mo1, attempts["re-parent"])
        assert [e["row"] for e in r.json()["errors"]] == [3]  # the sch-c row, not sch-a's
        assert "mo-2" in r.json()["errors"][0]["reason"]
        # the same through the JSON route
        r = await client.post(
            "/batches/org-units",
            headers=mo1,
            json={
                "rows": [
                    {
                        "region_id": REGION,
                        "region_name": "Демо-область",
                        "municipality_id": "mo-1",
                        "municipality_name": "МО mo-1",
                        "school_id": "sch-c",
                        "name": "Школа sch-c",
                    }
                ]
            },
        )
        assert r.status_code == 403, r.text
        assert r.json()["errors"][0]["column"] == "municipality_id"
        # nothing reached the log
        assert len(await read_topic(settings, ORG_UNITS)) == len(before)

        # what a municipality may do: rename its own school, repeating the registered names
        r = await upload(client, mo1, org_csv(row("mo-1", "sch-a", "Гимназия № 1")))
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "completed"
        after = org_events(await read_topic(settings, ORG_UNITS), before)
        assert [(t, k) for t, k, _ in after] == [("ru.shkala.org.school_registered.v1", "sch-a")]


async def test_only_the_region_moves_a_school_and_the_move_is_its_own_event(settings):
    async with running(settings) as client:
        await register(client, settings, SCHOOLS)
        before = await read_topic(settings, ORG_UNITS)
        region = auth(settings, "region")
        r = await upload(client, region, org_csv(row("mo-1", "sch-c"), row("mo-1", "sch-a")))
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "completed", r.text
        new = org_events(await read_topic(settings, ORG_UNITS), before)
        moves = [(k, v) for t, k, v in new if t == "ru.shkala.org.school_moved.v1"]
        assert len(moves) == 1
        assert moves[0][0] == "sch-c"
        assert json.loads(moves[0][1]) == {
            "region_id": REGION,
            "school_id": "sch-c",
            "from_municipality_id": "mo-2",
            "to_municipality_id": "mo-1",
        }
        # on the school's partition, the move comes just before the new registration
        on_c = [t for t, k, _ in new if k == "sch-c"]
        assert on_c == ["ru.shkala.org.school_moved.v1", "ru.shkala.org.school_registered.v1"]
        # the registry follows: mo-2 lost the school, mo-1 has it
        mo2 = auth(settings, "municipality", municipality="mo-2")
        r = await upload(client, mo2, org_csv(row("mo-2", "sch-c", "Назад")))
        assert r.status_code == 403, r.text
        mo1 = auth(settings, "municipality", municipality="mo-1")
        r = await upload(client, mo1, org_csv(row("mo-1", "sch-c", "Теперь наша")))
        assert r.status_code == 202, r.text


def context_row(school: str) -> dict:
    return templates.sample_json_row(FORMATS["school-context"]) | {"school_id": school}


def context_csv(school: str) -> bytes:
    return templates.csv_text(
        FORMATS["school-context"],
        [[str(context_row(school).get(c.field, "")) for c in FORMATS["school-context"].columns]],
    ).encode()


# every ingest write route × role × own/other tenant (facts: the school names the tenant)
ROLES = {
    "school": ({"municipality": "mo-1", "school": "sch-a"}, "sch-a", "sch-b"),
    "municipality": ({"municipality": "mo-1"}, "sch-b", "sch-c"),
}


@pytest.mark.parametrize("route", ["/imports", "/batches"])
async def test_fact_writes_matrix(settings, route):
    async with running(settings) as client:
        await register(client, settings, SCHOOLS)
        for role, (claims, own, other) in ROLES.items():
            h = auth(settings, role, **claims)
            for school, expected in ((own, 202), (other, 403), (own + "-unregistered", 422)):
                before = len(await read_topic(settings, CONTEXT))
                if route == "/imports":
                    r = await upload(client, h, context_csv(school), "school-context")
                else:
                    r = await client.post(
                        "/batches/school-context", headers=h, json={"rows": [context_row(school)]}
                    )
                assert r.status_code == expected, (route, role, school, r.text)
                published = len(await read_topic(settings, CONTEXT)) - before
                assert published == (1 if expected == 202 else 0), (route, role, school)
        # the region writes for any registered school; a school never loads the registry
        r = await upload(client, auth(settings, "region"), context_csv("sch-c"), "school-context")
        assert r.status_code == 202, r.text
        school = auth(settings, "school", municipality="mo-1", school="sch-a")
        r = await upload(client, school, org_csv(row("mo-1", "sch-a")))
        assert r.status_code == 403
        # a school token whose municipality is not the registry's is not that school's
        liar = auth(settings, "school", municipality="mo-2", school="sch-a")
        r = await upload(client, liar, context_csv("sch-a"), "school-context")
        assert r.status_code == 403, r.text
