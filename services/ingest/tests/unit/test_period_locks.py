"""Ingest asks plans whether the monitoring periods of an upload are locked (ADR 0006),
against plans answered by an httpx MockTransport: a locked period refuses the upload with a
409 naming the period, the school and who reopens it; plans failing or silent refuses it
fail-closed with a 503 (a locked period must never change); ``SHKALA_PLANS_URL`` unset
means no check (a deployment without plans). In every refusal nothing is published. A
withdrawal (отзыв данных) changes its period like an upload and is checked the same way."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from shkala_contracts import Tenant
from shkala_contracts.formats import FORMATS
from shkala_ingest.adapters.period_locks import LockStateUnknown, PeriodLocks, locks_for, refusal
from shkala_ingest.domain.errors import ImportRejected
from shkala_ingest.domain.pseudonyms import Pseudonymiser
from shkala_ingest.domain.rows import RowBuilder
from shkala_ingest.entrypoints.errors import describe
from shkala_ingest.service_layer.imports import BatchSource, Ingestor
from shkala_ingest.service_layer.withdrawals import withdraw
from shkala_ingest.settings import Settings
from shkala_runtime.auth import Principal, Role, decode_token

from .fakes import FakeImportPublisher, FakeImportStore

SETTINGS = Settings()
PS = Pseudonymiser(b"k" * 32)
PLANS = "http://plans.test:8003"
SCHOOLS = {
    "sch-1": {"region_id": "demo", "municipality_id": "mo-1", "school_id": "sch-1"},
    "sch-2": {"region_id": "demo", "municipality_id": "mo-1", "school_id": "sch-2"},
}
SCHOOL = Principal(
    subject="s", role=Role.SCHOOL, region="demo", municipality="mo-1", school="sch-1"
)
MUNICIPALITY = Principal(subject="m", role=Role.MUNICIPALITY, region="demo", municipality="mo-1")


def hit(school: str, period: str) -> dict[str, Any]:
    """One locked pair as plans' ``POST /periods/locks/query`` answers it."""
    slug = period.replace("/", "-")
    return {
        "school_id": school,
        "municipality_id": "mo-1",
        "period": period,
        "period_id": f"period:{school}:{slug}",
        "locked_by": "demo",
        "reopen_by": "region",
    }


class Plans:
    """A stand-in plans service: records each request, answers with ``respond``."""

    def __init__(self, respond: Callable[[httpx.Request], httpx.Response]) -> None:
        self.requests: list[httpx.Request] = []
        self.respond = respond
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)

    def locks(self) -> PeriodLocks:
        return PeriodLocks(SETTINGS, PLANS, timeout_s=1.0, transport=self.transport)


def locked(*hits: dict[str, Any]) -> Plans:
    return Plans(lambda _: httpx.Response(200, json={"locked": list(hits)}))


def failing(exc: type[httpx.HTTPError]) -> Plans:
    def respond(request: httpx.Request) -> httpx.Response:
        raise exc("plans is down", request=request)

    return Plans(respond)


# --- the adapter ------------------------------------------------------------------------


async def test_one_question_per_import_with_a_region_token_and_its_answer_returned() -> None:
    plans = locked(hit("sch-1", "2025/26"))
    pairs = [("sch-2", "2025/26"), ("sch-1", "2025/26"), ("sch-1", "2025/26")]
    assert await plans.locks().locked(pairs) == [hit("sch-1", "2025/26")]
    (request,) = plans.requests
    assert request.method == "POST"
    assert str(request.url) == f"{PLANS}/periods/locks/query"
    assert json.loads(request.content) == {
        "items": [
            {"school_id": "sch-1", "period": "2025/26"},
            {"school_id": "sch-2", "period": "2025/26"},
        ]
    }
    scheme, token = request.headers["authorization"].split(" ", 1)
    assert scheme == "Bearer"
    who = decode_token(SETTINGS, token)
    assert who.role is Role.REGION
    assert who.region == SETTINGS.region_id
    assert who.subject == "shkala-ingest"


@pytest.mark.parametrize("status", [500, 502, 503, 401, 403, 404])
async def test_any_other_status_than_200_leaves_the_state_unknown(status: int) -> None:
    plans = Plans(lambda _: httpx.Response(status, json={"locked": []}))
    with pytest.raises(LockStateUnknown) as err:
        await plans.locks().locked([("sch-1", "2025/26")])
    assert err.value.reason == f"plans answered {status}"


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ReadTimeout, httpx.RemoteProtocolError])
async def test_plans_not_answering_leaves_the_state_unknown(exc: type[httpx.HTTPError]) -> None:
    with pytest.raises(LockStateUnknown) as err:
        await failing(exc).locks().locked([("sch-1", "2025/26")])
    assert err.value.reason == exc.__name__
    assert PLANS in str(err.value)  # the log says where; the reason shown to users does not
    assert PLANS not in err.value.reason


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>502 Bad Gateway</html>"),
        httpx.Response(200, json=[]),
        httpx.Response(200, json={}),
        httpx.Response(200, json={"locked": "sch-1"}),
        httpx.Response(200, json={"locked": [{"school_id": "sch-1"}]}),
    ],
)
async def test_a_200_that_is_not_the_documented_answer_is_not_taken_as_open(
    answer: httpx.Response,
) -> None:
    with pytest.raises(LockStateUnknown):
        await Plans(lambda _: answer).locks().locked([("sch-1", "2025/26")])


async def test_pairs_plans_was_not_asked_about_are_ignored() -> None:
    plans = locked(hit("sch-1", "2024/25"), hit("sch-9", "2025/26"), hit("sch-1", "2025/26"))
    assert await plans.locks().locked([("sch-1", "2025/26")]) == [hit("sch-1", "2025/26")]


# --- the refusal ------------------------------------------------------------------------


def accepted(school: str, year: str | None, row: int) -> Any:
    return SimpleNamespace(
        row=row, year=year, tenant=Tenant(region="demo", municipality="mo-1", school=school)
    )


def with_locks(plans: Plans | None) -> Any:
    return SimpleNamespace(settings=SETTINGS, period_locks=plans.locks() if plans else None)


async def test_a_locked_period_is_a_409_naming_the_period_the_school_and_who_reopens() -> None:
    plans = locked(hit("sch-1", "2025/26"))
    rows = [accepted("sch-1", "2025/26", 2), accepted("sch-2", "2025/26", 3),
            accepted("sch-1", "2025/26", 4)]  # fmt: skip
    problem = await refusal(with_locks(plans), rows)
    assert problem is not None
    assert problem.status == 409
    assert problem.type == "urn:shkala:problem:period-locked"
    assert "2025/26" in problem.detail
    assert "sch-1" in problem.detail
    assert "sch-2" not in problem.detail  # its period is open
    assert "региональный оператор" in problem.detail
    ext = problem.extensions
    assert [p["reopen_by"] for p in ext["locked_periods"]] == ["region"]
    assert [(e["row"], e["column"], e["code"]) for e in ext["errors"]] == [
        (2, "academic_year", "period-locked"), (4, "academic_year", "period-locked"),
    ]  # fmt: skip
    assert "/periods/sch-1/2025-26/reopen" in ext["errors"][0]["reason"]
    assert ext["total_errors"] == 2


async def test_open_periods_and_rows_without_a_period_let_the_upload_through() -> None:
    plans = locked()
    assert await refusal(with_locks(plans), [accepted("sch-1", "2025/26", 2)]) is None
    assert len(plans.requests) == 1
    quiet = locked(hit("sch-1", "2025/26"))
    assert await refusal(with_locks(quiet), [accepted("sch-1", None, 2)]) is None
    assert quiet.requests == []  # no school year: no period to ask about


@pytest.mark.parametrize(
    "plans",
    [
        Plans(lambda _: httpx.Response(503, text="upstream unavailable")),
        failing(httpx.ConnectError),
        failing(httpx.ConnectTimeout),
    ],
)
async def test_plans_failing_refuses_with_a_503_that_says_plans_could_not_be_asked(
    plans: Plans,
) -> None:
    problem = await refusal(with_locks(plans), [accepted("sch-1", "2025/26", 2)])
    assert problem is not None
    assert problem.status == 503
    assert problem.type == "urn:shkala:problem:period-state-unknown"
    assert "plans" in problem.detail
    assert "could not be asked" in problem.detail
    assert "2025/26 школы sch-1" in problem.detail
    assert "nothing was published" in problem.detail
    assert PLANS not in problem.detail
    assert problem.extensions["periods"] == [{"school_id": "sch-1", "period": "2025/26"}]


def test_without_plans_url_there_is_no_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHKALA_PLANS_URL", raising=False)
    assert locks_for(SimpleNamespace(settings=SETTINGS, period_locks=None)) is None


def test_plans_url_set_makes_one_checker_with_its_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHKALA_PLANS_URL", PLANS + "/")
    monkeypatch.setenv("SHKALA_PLANS_TIMEOUT_S", "2.5")
    ingestor = SimpleNamespace(settings=SETTINGS, period_locks=None)
    made = locks_for(ingestor)
    assert made is not None
    assert (made.base_url, made.timeout_s) == (PLANS, 2.5)
    assert locks_for(ingestor) is made


# --- the import use case ----------------------------------------------------------------


def vpr_rows(school: str = "sch-1", year: str = "2025/26", n: int = 2) -> list[dict[str, Any]]:
    row = {"school_id": school, "subject": "математика", "academic_year": year, "grade": "5"}
    return [row | {"student_id": f"S-{i}", "mark": 4} for i in range(n)]


def ingestor(plans: Plans | None) -> tuple[Ingestor, FakeImportStore, FakeImportPublisher]:
    store, pub = FakeImportStore(SCHOOLS), FakeImportPublisher()
    ing = Ingestor(
        SETTINGS, store, pub, PS, reader=None,  # type: ignore[arg-type]
        describe=describe,
    )  # fmt: skip
    if plans is not None:
        ing.period_locks = plans.locks()  # type: ignore[attr-defined]
    return ing, store, pub


async def upload(ing: Ingestor, rows: list[dict[str, Any]], who: Principal = SCHOOL) -> Any:
    return await ing.submit(
        kind="vpr", principal=who, source=BatchSource(rows), idempotency_key=None,
        dry_run=False, respond_async=False,
    )  # fmt: skip


async def test_an_upload_into_a_locked_period_publishes_nothing_and_can_be_sent_again() -> None:
    answers = [{"locked": [hit("sch-1", "2025/26")]}, {"locked": []}]
    plans = Plans(lambda _: httpx.Response(200, json=answers.pop(0)))
    ing, store, pub = ingestor(plans)
    status, body, _ = await upload(ing, vpr_rows())
    assert status == 409
    assert body["status"] == "rejected"
    assert body["problem"]["type"] == "urn:shkala:problem:period-locked"
    assert {e["row"] for e in body["problem"]["errors"]} == {1, 2}
    assert pub.committed == []
    assert store.streams == {}  # no fact version recorded either
    assert store.claims == {}  # the refusal does not hold the file's idempotency claim
    # reopened: the same file goes through
    status, body, replayed = await upload(ing, vpr_rows())
    assert (status, body["status"], replayed) == (202, "completed", False)
    assert len(pub.committed) == 2
    assert len(plans.requests) == 2


@pytest.mark.parametrize(
    "plans",
    [Plans(lambda _: httpx.Response(502, text="bad gateway")), failing(httpx.ConnectError)],
)
async def test_an_upload_while_plans_fails_is_a_503_and_publishes_nothing(plans: Plans) -> None:
    ing, store, pub = ingestor(plans)
    status, body, _ = await upload(ing, vpr_rows(n=3))
    assert status == 503
    assert body["status"] == "rejected"
    assert body["problem"]["type"] == "urn:shkala:problem:period-state-unknown"
    assert "could not be asked" in body["problem"]["detail"]
    assert pub.committed == []
    assert store.streams == {}
    assert store.claims == {}


async def test_a_dry_run_into_a_locked_period_is_refused_too() -> None:
    ing, _, pub = ingestor(locked(hit("sch-1", "2025/26")))
    status, body, _ = await ing.submit(
        kind="vpr", principal=SCHOOL, source=BatchSource(vpr_rows()), idempotency_key=None,
        dry_run=True, respond_async=False,
    )  # fmt: skip
    assert (status, body["status"]) == (409, "rejected")
    assert pub.committed == []


async def test_without_plans_url_an_upload_is_published_unasked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SHKALA_PLANS_URL", raising=False)
    ing, _, pub = ingestor(None)
    status, body, _ = await upload(ing, vpr_rows(), MUNICIPALITY)
    assert (status, body["status"]) == (202, "completed"), body
    assert len(pub.committed) == 2


# --- withdrawals change a period too --------------------------------------------------------


async def test_a_withdrawal_from_a_locked_period_is_refused_and_publishes_nothing() -> None:
    store, pub = FakeImportStore(SCHOOLS), FakeImportPublisher()
    (row,) = vpr_rows(n=1)
    fact = RowBuilder(FORMATS["vpr"], PS).from_json(1, row).fact
    assert fact is not None
    store.streams["sch-1"] = {fact.originator_id(): ("h", 1)}
    key = {k: v for k, v in row.items() if k != "mark"}
    plans = locked(hit("sch-1", "2025/26"))
    ing = SimpleNamespace(settings=SETTINGS, period_locks=plans.locks())

    async def attempt() -> Any:
        return await withdraw(
            kind="vpr", principal=SCHOOL, rows=[key], reason="ошибка", store=store,
            publisher=pub, pseudonymiser=PS, source="/t", topic_name=lambda t: t,  # type: ignore[arg-type]
            periods=lambda rows: refusal(ing, rows),
        )  # fmt: skip

    with pytest.raises(ImportRejected) as err:
        await attempt()
    assert err.value.code == "period-locked"
    assert "2025/26" in err.value.detail
    assert "sch-1" in err.value.detail
    assert [e["row"] for e in err.value.extensions["errors"]] == [1]
    assert pub.committed == []
    assert store.streams["sch-1"][fact.originator_id()] == ("h", 1)
    assert json.loads(plans.requests[0].content)["items"] == [
        {"school_id": "sch-1", "period": "2025/26"}
    ]
    ing.period_locks = failing(httpx.ConnectError).locks()
    with pytest.raises(ImportRejected) as err:
        await attempt()
    assert err.value.code == "period-state-unknown"
    assert pub.committed == []
    ing.period_locks = locked().locks()  # reopened
    assert (await attempt())["withdrawn"] == 1
    assert len(pub.committed) == 1
