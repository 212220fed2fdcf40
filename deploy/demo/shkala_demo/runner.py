"""`make demo`, step by step, against the four running services (`make up` started them).

1. generate the demo region into ``.local/demo/<seed>/`` unless it is already there;
2. start the local webhook receiver and subscribe it in notify (so it sees what follows);
3. upload every file through ingest (org units first), with progress from ``GET /imports/{id}``;
4. show the plans templates and create a roadmap per municipality from one of them;
5. wait for indicators to list ШНОР schools, then take a measure on each;
6. print where to look, and run until Ctrl-C.

Every step is idempotent: a second run reuses the files, ingest answers identical uploads with
the first import, and roadmaps, measures and the subscription are not created twice.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from shkala_demo.files import Written, write_region
from shkala_demo.receiver import Receiver, describe, new_secret
from shkala_demo.world import DEFAULT, TINY, RegionSpec, build_region
from shkala_runtime.auth import Role, issue_token
from shkala_runtime.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[3]
PORTS = {"ingest": 8001, "indicators": 8002, "plans": 8003, "notify": 8004}
SIZES = {"tiny": TINY, "default": DEFAULT}
TEMPLATE = "romny-2021-2025"  # the nine directions, 70 rows
SHNOR = "ШНОР"
WEBHOOK_EVENTS = (  # what a person would want to hear about (not every value or roadmap row)
    "ru.shkala.indicators.list_membership_changed.v1",
    "ru.shkala.indicators.objectivity_flag_raised.v1",
    "ru.shkala.plans.roadmap_created.v1",
    "ru.shkala.plans.roadmap_row_status_changed.v1",
    "ru.shkala.plans.roadmap_row_overdue.v1",
    "ru.shkala.plans.recommendation_issued.v1",
    "ru.shkala.plans.measure_taken.v1",
    "ru.shkala.plans.effectiveness_evaluated.v1",
)
TERMINAL = ("completed", "validated", "rejected", "failed")


class DemoError(Exception):
    """A step failed; the message says what and where to look."""


# --------------------------------------------------------------------------- output


class Console:
    """Progress lines: redrawn in place on a terminal, one line every few seconds otherwise."""

    def __init__(self, stream: Any = None, every_s: float = 5.0) -> None:
        self.stream = stream or sys.stdout
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every_s = every_s
        self._last = 0.0
        self._open = False

    def line(self, text: str) -> None:
        self.clear()
        print(text, file=self.stream, flush=True)

    def status(self, text: str, *, force: bool = False) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K" + text)
            self.stream.flush()
            self._open = True
        elif force or time.monotonic() - self._last >= self.every_s:
            self._last = time.monotonic()
            print(text, file=self.stream, flush=True)

    def clear(self) -> None:
        if self._open:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._open = False


OUT = Console()


def step(title: str) -> None:
    OUT.line(f"\n▶ {title}")


# --------------------------------------------------------------------------- configuration


@dataclass
class Config:
    size: str = "default"
    local: Path = ROOT / ".local"
    host: str = "127.0.0.1"
    receiver_port: int = 8099
    wait_s: float = 1800.0
    all_events: bool = False
    ports: dict[str, int] = field(default_factory=lambda: dict(PORTS))

    @property
    def spec(self) -> RegionSpec:
        return SIZES[self.size]

    @property
    def region_dir(self) -> Path:
        return self.local / "demo" / str(self.spec.seed)

    def url(self, service: str) -> str:
        return f"http://{self.host}:{self.ports[service]}"

    @classmethod
    def from_env(cls, size: str | None = None) -> Config:
        size = (size or os.environ.get("SHKALA_DEMO_SIZE") or "default").lower()
        if size not in SIZES:
            raise DemoError(f"SHKALA_DEMO_SIZE must be one of {', '.join(SIZES)}, not {size!r}")
        local = Path(os.environ.get("SHKALA_LOCAL_DIR") or ROOT / ".local")
        wait = float(os.environ.get("SHKALA_DEMO_WAIT_S") or (300 if size == "tiny" else 1800))
        return cls(
            size=size,
            local=local,
            wait_s=wait,
            all_events=os.environ.get("SHKALA_DEMO_EVENTS", "").lower() == "all",
        )


# --------------------------------------------------------------------------- 1. the region


@dataclass
class RegionInfo:
    """What the demo needs to know about the generated region (``demo.json`` beside the files)."""

    region_id: str
    region_name: str
    years: list[str]
    municipalities: dict[str, str]  # id -> name
    schools: dict[str, dict[str, str]]  # id -> {name, municipality}
    files: dict[str, str]  # kind -> file name, in upload order
    rows: dict[str, int]
    metadata: dict[str, Any]
    spec: dict[str, Any]

    @property
    def latest(self) -> str:
        return self.years[-1]


def spec_dict(spec: RegionSpec) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(spec)))


def load_region(out: Path, spec: RegionSpec) -> RegionInfo | None:
    """The region already written into ``out`` for this spec, or None."""
    marker = out / "demo.json"
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
        info = RegionInfo(**data)
    except (OSError, ValueError, TypeError):
        return None
    if info.spec != spec_dict(spec) or not all((out / f).is_file() for f in info.files.values()):
        return None
    return info


def upload_order(kinds: list[str]) -> list[str]:
    """Org units first (every fact names a registered school), then the rest as written."""
    return sorted(kinds, key=lambda k: k != "org-units")


def prepare_region(out: Path, spec: RegionSpec) -> RegionInfo:
    if info := load_region(out, spec):
        total = sum(info.rows.values())
        OUT.line(f"  reusing {out} ({len(info.files)} files, {total:,} rows)")
        return info
    started = time.perf_counter()
    OUT.line(
        f"  generating seed {spec.seed}: {spec.municipalities} municipalities, {spec.schools} "
        f"schools, {spec.students:,} students into {out}"
    )
    region = build_region(spec)

    def progress(kind: str, n: int) -> None:
        OUT.status(f"    … {kind}: {n:,} rows")

    def done(w: Written) -> None:
        OUT.line(
            f"    {w.path.name:<28} {w.rows:>10,} rows  {w.path.stat().st_size / 1e6:7.1f} MB"
            f"  [{time.perf_counter() - started:.0f}s]"
        )

    written = write_region(region, out, "csv", progress=progress, on_written=done)
    info = RegionInfo(
        region_id=region.id,
        region_name=region.name,
        years=list(spec.years),
        municipalities={m.id: m.name for m in region.municipalities},
        schools={
            s.id: {"name": s.name, "municipality": region.municipalities[s.municipality].id}
            for s in region.schools
        },
        files={w.kind: w.path.name for w in sorted(written, key=lambda w: w.kind != "org-units")},
        rows={w.kind: w.rows for w in written},
        metadata=region.metadata(),
        spec=spec_dict(spec),
    )
    (out / "demo.json").write_text(
        json.dumps(dataclasses.asdict(info), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    OUT.line(
        f"  wrote {len(written)} files, {sum(info.rows.values()):,} rows "
        f"in {time.perf_counter() - started:.0f}s"
    )
    return info


# --------------------------------------------------------------------------- HTTP


def problem_text(response: httpx.Response) -> str:
    try:
        return json.dumps(response.json(), ensure_ascii=False, indent=2)
    except ValueError:
        return response.text[:2000]


def expect(response: httpx.Response, *ok: int, what: str) -> Any:
    if response.status_code not in ok:
        raise DemoError(
            f"{what}: HTTP {response.status_code} from {response.request.method} "
            f"{response.request.url}\n{problem_text(response)}"
        )
    return response.json() if response.content else None


class Api:
    """Thin clients of the four services with one bearer token."""

    def __init__(self, cfg: Config, token: str) -> None:
        self.cfg = cfg
        headers = {"Authorization": f"Bearer {token}"}
        self.c = {
            name: httpx.Client(base_url=cfg.url(name), headers=headers, timeout=60.0)
            for name in cfg.ports
        }

    def close(self) -> None:
        for c in self.c.values():
            c.close()

    def check_ready(self) -> None:
        down = []
        for name, c in self.c.items():
            try:
                if c.get("/ready", timeout=5).status_code != 200:
                    down.append(f"{name} (not ready)")
            except httpx.HTTPError:
                down.append(f"{name} (no answer on {c.base_url})")
        if down:
            raise DemoError(
                "services not running: " + ", ".join(down) + " — start them with `make up` "
                "(logs in .local/logs/)"
            )


# --------------------------------------------------------------------------- 2. the receiver


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def subscribe(api: Api, receiver: Receiver, all_events: bool) -> dict[str, Any]:
    notify = api.c["notify"]
    existing = expect(notify.get("/subscriptions"), 200, what="list subscriptions")
    for sub in existing:
        if sub.get("url") == receiver.url:  # an earlier run's: its secret is gone
            expect(notify.delete(f"/subscriptions/{sub['id']}"), 204, 404, what="delete old")
    body: dict[str, Any] = {
        "url": receiver.url,
        "secret": receiver.secret,
        "description": "make demo: local receiver",
    }
    if not all_events:
        body["filters"] = {"event_types": list(WEBHOOK_EVENTS)}
    response = notify.post("/subscriptions", json=body)
    if response.status_code == 422 and "target-refused" in response.text:
        raise DemoError(
            "notify refuses the loopback receiver: start notify with "
            "SHKALA_WEBHOOK_ALLOW_NETWORKS='[\"127.0.0.0/8\"]' (deploy/local/services.sh does)\n"
            + problem_text(response)
        )
    created: dict[str, Any] = expect(response, 201, what="create the subscription")
    return created


# --------------------------------------------------------------------------- 3. uploads


def progress_text(kind: str, state: dict[str, Any], elapsed: float) -> str:
    p = state.get("progress") or {}
    expected = p.get("rows_expected") or 0
    done = (p.get("rows_published") or 0) + (p.get("rows_unchanged") or 0)
    pct = f" {100 * done / expected:3.0f}%" if expected else ""
    rate = f" {done / elapsed:,.0f} rows/s" if elapsed > 0 and done else ""
    return (
        f"    {kind:<20} {state.get('status', '?'):<10}{pct} read {p.get('rows_read', 0):,}"
        f" validated {p.get('rows_validated', 0):,} published {p.get('rows_published', 0):,}"
        f" unchanged {p.get('rows_unchanged', 0):,} / ~{expected:,}{rate} [{elapsed:.0f}s]"
    )


def upload(
    api: Api, kind: str, path: Path, *, poll_s: float = 0.5, stall_s: float = 600.0
) -> dict[str, Any]:
    """Upload one file (answer at once), then poll the import until it ends."""
    ingest = api.c["ingest"]
    started = time.perf_counter()
    OUT.status(f"    {kind:<20} uploading {path.stat().st_size / 1e6:.1f} MB…")
    with path.open("rb") as fh:
        response = ingest.post(
            f"/imports/{kind}",
            files={"file": (path.name, fh, "text/csv")},
            headers={"Prefer": "respond-async"},
            timeout=httpx.Timeout(600.0, connect=10.0),
        )
    if response.status_code >= 400:
        OUT.clear()
        raise DemoError(
            f"ingest rejected {path.name} (HTTP {response.status_code}):\n" + problem_text(response)
        )
    state = response.json()
    replayed = response.headers.get("Idempotent-Replayed") == "true"
    last_change, last_progress = time.monotonic(), None
    while state.get("status") not in TERMINAL:
        OUT.status(progress_text(kind, state, time.perf_counter() - started))
        time.sleep(poll_s)
        r = ingest.get(f"/imports/{state['import_id']}")
        state = expect(r, 200, what=f"import {state['import_id']}")
        if state.get("progress") != last_progress:
            last_change, last_progress = time.monotonic(), state.get("progress")
        elif time.monotonic() - last_change > stall_s:
            raise DemoError(
                f"import {state['import_id']} of {path.name} made no progress for {stall_s:.0f}s "
                "(did ingest restart mid-import? see services/ingest/README.md, Known limits)"
            )
    elapsed = time.perf_counter() - started
    OUT.line(progress_text(kind, state, elapsed) + (" (same file as before)" if replayed else ""))
    if state["status"] in ("rejected", "failed"):
        raise DemoError(
            f"ingest {state['status']} {path.name}:\n"
            + json.dumps(state.get("problem") or state, ensure_ascii=False, indent=2)
        )
    return state


def merge_positions(into: dict[str, dict[str, int]], answer: dict[str, Any]) -> None:
    """Collect an import answer's ``log_positions`` ({topic: {partition: last offset}})."""
    for topic, parts in (answer.get("log_positions") or {}).items():
        for part, offset in (parts or {}).items():
            known = into.setdefault(topic, {})
            known[str(part)] = max(int(offset), known.get(str(part), -1))


def after_params(positions: dict[str, dict[str, int]]) -> list[str]:
    """The positions as the indicators API's ``after=<topic>:<partition>:<offset>``."""
    return [f"{t}:{p}:{off}" for t, parts in sorted(positions.items()) for p, off in parts.items()]


def upload_region(api: Api, info: RegionInfo, out: Path) -> dict[str, Any]:
    started = time.perf_counter()
    totals: dict[str, Any] = {"rows": 0, "published": 0, "unchanged": 0, "positions": {}}
    for kind in upload_order(list(info.files)):
        state = upload(api, kind, out / info.files[kind])
        merge_positions(totals["positions"], state)
        p = state.get("progress") or {}
        totals["rows"] += p.get("rows_read", 0)
        totals["published"] += p.get("rows_published", 0)
        totals["unchanged"] += p.get("rows_unchanged", 0)
    seconds = time.perf_counter() - started
    OUT.line(
        f"  uploaded {len(info.files)} files: {totals['rows']:,} rows, {totals['published']:,} "
        f"events published, {totals['unchanged']:,} unchanged, in {seconds:.0f}s "
        f"({totals['rows'] / max(seconds, 1e-9):,.0f} rows/s)"
    )
    return totals | {"seconds": seconds}


def wait_visible(
    api: Api, positions: dict[str, dict[str, int]], timeout_s: float
) -> tuple[bool, dict[str, Any]]:
    """Read-your-writes: ask indicators to answer once every uploaded record is applied and
    visible (``after=…``, up to 10 s per request), until it is or ``timeout_s`` passed."""
    params = [("after", a) for a in after_params(positions)] + [("wait_ms", "10000")]
    deadline = time.monotonic() + timeout_s
    fresh: dict[str, Any] = {}
    while True:
        try:
            r = api.c["indicators"].get("/catalogue", params=params, timeout=30)
            fresh = (r.json().get("freshness") or {}).get("after") or {}
        except (httpx.HTTPError, ValueError):
            fresh = {}
        if fresh.get("satisfied"):
            return True, fresh
        missing = fresh.get("missing") or {}
        lag = sum(m.get("lag", 0) for m in missing.values())
        OUT.status(f"    indicators: {lag:,} records still to apply")
        if time.monotonic() > deadline:
            return False, fresh
        if not fresh:
            time.sleep(1)


# --------------------------------------------------------------------------- 4. plans


def choose_template(templates: list[dict[str, Any]], wanted: str = TEMPLATE) -> dict[str, Any]:
    if not templates:
        raise DemoError(
            "plans has no templates (its seeds did not load; see .local/logs/plans.log)"
        )
    by_id = {t["id"]: t for t in templates}
    return by_id.get(wanted) or max(templates, key=lambda t: (t.get("rows", 0), t["id"]))


def roadmap_title(municipality: str, template: dict[str, Any]) -> str:
    return f"{municipality}: дорожная карта (по шаблону «{template['title']}»)"


def create_roadmaps(api: Api, info: RegionInfo) -> dict[str, str]:
    plans = api.c["plans"]
    templates = expect(plans.get("/templates"), 200, what="list templates")
    OUT.line(f"  {len(templates)} templates from the seed roadmaps (loaded by plans at start):")
    for t in templates:
        OUT.line(
            f"    {t['id']:<24} {t.get('sections', 0):>2} sections {t.get('rows', 0):>3} rows "
            f"({t.get('needs_review', 0)} to review)  {t['title']}"
        )
    template = choose_template(templates)
    created, kept = 0, 0
    roadmaps: dict[str, str] = {}
    for mun_id, name in info.municipalities.items():
        title = roadmap_title(name, template)
        have = expect(
            plans.get("/roadmaps", params={"municipality_id": mun_id}), 200, what="list roadmaps"
        )
        found = next((r for r in have if r.get("title") == title and not r.get("school_id")), None)
        if found:
            kept += 1
            roadmaps[mun_id] = found["id"]
            continue
        body = {"municipality_id": mun_id, "title": title, "template_id": template["id"]}
        r = expect(plans.post("/roadmaps", json=body), 201, what=f"roadmap of {mun_id}")
        roadmaps[mun_id] = r["id"]
        created += 1
        OUT.status(f"    roadmaps: {created} created")
    OUT.line(
        f"  roadmaps from «{template['id']}»: {created} created, {kept} already there "
        f"({len(info.municipalities)} municipalities)"
    )
    return roadmaps


# --------------------------------------------------------------------------- 5. ШНОР, measures

METRIC_RE = re.compile(r"^(shkala_[a-z_]+)\{([^}]*)\}\s+([0-9.eE+-]+)$")


def projection_progress(indicators: httpx.Client) -> tuple[float | None, float | None]:
    """(events consumed, messages behind) of the indicators service from /metrics, if known."""
    try:
        text = indicators.get("/metrics/", timeout=5, follow_redirects=True).text
    except httpx.HTTPError:
        return None, None
    consumed = lag = None
    for line in text.splitlines():
        m = METRIC_RE.match(line)
        if not m:
            continue
        if m.group(1) == "shkala_events_consumed_total":
            consumed = (consumed or 0) + float(m.group(3))
        elif m.group(1) == "shkala_consumer_lag":
            lag = (lag or 0) + float(m.group(3))
    return consumed, lag


def list_members(
    indicators: httpx.Client, name: str, period: str, timeout_s: float = 10.0
) -> tuple[list[dict[str, Any]] | None, str]:
    """The list's members, or (None, why not) while indicators cannot answer."""
    try:
        r = indicators.get(f"/lists/{quote(name)}", params={"period": period}, timeout=timeout_s)
    except httpx.HTTPError as exc:
        return None, f"the list did not answer ({type(exc).__name__})"
    if r.status_code != 200:
        return None, f"the list answered {r.status_code}"
    try:
        members = r.json().get("members") or []
    except (ValueError, AttributeError):
        return None, "the list answered something unexpected"
    return [m for m in members if isinstance(m, dict) and m.get("school_id")], ""


def wait_for_list(
    api: Api,
    name: str,
    period: str,
    timeout_s: float,
    *,
    poll_s: float = 3.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, Any]]:
    """Poll until the list has members and the projection caught up: the consumer lag is 0 in
    two polls running, or the members stayed the same for three polls (the lag gauge counts
    the commit marker that ends an import's transaction as a message, so after the last
    import it can stay at one per partition). After ``timeout_s`` go on with the members so
    far, or fail if there are none.
    """
    indicators = api.c["indicators"]
    started = clock()
    members: list[dict[str, Any]] = []
    previous: list[str] | None = None
    stable = caught_up = 0
    while True:
        answer, why = list_members(indicators, name, period)
        if answer is not None:
            members = answer
        consumed, lag = projection_progress(indicators)
        ids = sorted(m["school_id"] for m in members)
        stable = stable + 1 if answer is not None and ids and ids == previous else 0
        caught_up = caught_up + 1 if lag == 0 and answer is not None else 0
        previous = ids
        elapsed = clock() - started
        parts = [f"    {name} {period}: {len(ids)} schools"]
        if consumed is not None:
            total = f" of ~{consumed + lag:,.0f}" if lag is not None else ""
            parts.append(f"indicators applied {consumed:,.0f}{total} events")
        if why:
            parts.append(why)
        text = ", ".join(parts) + f" [{elapsed:.0f}s]"
        OUT.status(text)
        if ids and (caught_up >= 2 or stable >= 3):
            OUT.line(text)
            return members
        if elapsed > timeout_s:
            OUT.line(text)
            if ids:
                OUT.line(
                    f"  indicators still projecting after {timeout_s:.0f}s; going on with the "
                    f"{len(ids)} {name} schools listed so far"
                )
                return members
            raise DemoError(
                f"no {name} schools for {period} after {timeout_s:.0f}s "
                f"({why or 'the list is empty'}). Is indicators consuming? See "
                ".local/logs/indicators.log; wait longer with SHKALA_DEMO_WAIT_S=…"
            )
        sleep(poll_s)


def next_period(period: str) -> str:
    start = int(period[:4]) + 1
    return f"{start}/{(start + 1) % 100:02d}"


def measure_title(school_id: str, school_name: str) -> str:
    return f"Адресная поддержка школы с низкими результатами: {school_name} ({school_id})"


def linked_indicators(
    reasons: list[Any], catalogue: dict[str, dict[str, Any]]
) -> list[dict[str, str]]:
    """The reasons a school is listed, as measure indicators with their better direction."""
    out = []
    for r in reasons:
        ind = catalogue.get(r if isinstance(r, str) else str(r))
        if ind and ind.get("better") in ("up", "down", "higher", "lower"):
            better = "higher" if ind["better"] in ("up", "higher") else "lower"
            out.append({"indicator_id": ind["id"], "better": better})
    return out or [
        {"indicator_id": "vpr_mark2_share_math", "better": "lower"},
        {"indicator_id": "vpr_mark2_share_rus", "better": "lower"},
    ]


def take_measures(
    api: Api, info: RegionInfo, members: list[dict[str, Any]], period: str
) -> list[str]:
    plans, indicators = api.c["plans"], api.c["indicators"]
    try:
        described = indicators.get("/catalogue").json().get("indicators", [])
        catalogue = {i["id"]: i for i in described if isinstance(i, dict) and "id" in i}
    except (httpx.HTTPError, ValueError, AttributeError):
        catalogue = {}
    existing: dict[str, set[str]] = {}
    ids, kept = [], 0
    for m in members:
        sid = m["school_id"]
        school = info.schools.get(sid, {})
        mun = m.get("municipality_id") or school.get("municipality")
        if not mun:
            continue
        if mun not in existing:
            cycle = expect(plans.get(f"/cycle/{mun}/low_results"), 200, what="management cycle")
            existing[mun] = {x.get("title") for x in cycle.get("measures", [])}
        title = measure_title(sid, school.get("name", sid))
        if title in existing[mun]:
            kept += 1
            continue
        linked = linked_indicators(m.get("reasons") or [], catalogue)
        body: dict[str, Any] = {
            "municipality_id": mun,
            "title": title,
            "direction": "low_results",
            "target_schools": [sid],
            "indicators": linked,
            "baseline_period": period,
            "evaluation_period": next_period(period),
        }
        r = expect(plans.post("/measures", json=body), 201, what=f"measure on {sid}")
        ids.append(r["id"])
        OUT.line(
            f"    measure on {sid} {school.get('name', '')}: "
            + ", ".join(i["indicator_id"] for i in linked)
        )
    OUT.line(
        f"  measures: {len(ids)} taken, {kept} already there (baseline {period}, "
        f"evaluated in {next_period(period)})"
    )
    return ids


# --------------------------------------------------------------------------- 6. where to look


def where_to_look(cfg: Config, info: RegionInfo, members: list[dict[str, Any]], sub_id: str) -> str:
    settings = ServiceSettings()
    sid = members[0]["school_id"] if members else next(iter(info.schools))
    mun = (members[0].get("municipality_id") if members else None) or info.schools[sid][
        "municipality"
    ]
    region = issue_token(settings, Role.REGION, region=info.region_id)
    mun_token = issue_token(settings, Role.MUNICIPALITY, region=info.region_id, municipality=mun)
    school_token = issue_token(
        settings, Role.SCHOOL, region=info.region_id, municipality=mun, school=sid
    )
    ind, period = cfg.url("indicators"), info.latest
    web = os.environ.get("SHKALA_DEMO_WEB_URL", "http://127.0.0.1:8005")
    lines = [
        "",
        f"The workspace (рабочее место): {web}/login — one-click development sign-in:",
        f"  region        {web}/login/dev/region",
        f"  municipality  {web}/login/dev/municipality?municipality={quote(mun)}",
        f"  school        {web}/login/dev/school?school={quote(sid)}",
        f"  public page   {web}/public (no sign-in)",
        "",
        "Shkala is running with the demo region. Where to look:",
    ]
    for name in cfg.ports:
        lines.append(f"  {name:<11} API docs  {cfg.url(name)}/docs")
    lines += [
        f"  events      {ROOT / 'contracts' / 'asyncapi.json'} (AsyncAPI 3.0: topics, envelopes,"
        " payloads; JSON Schemas in contracts/schemas/)",
        "  traces      Jaeger runs only in the compose deployment (deploy/README.md); here the"
        " services log JSON lines to .local/logs/",
        f"  region      .local/demo/{info.spec['seed']}/ (the uploaded files, demo.json)",
        "",
        "Tokens (12 h):",
        f"  export REGION_TOKEN={region}",
        f"  export MO_TOKEN={mun_token}        # municipality {mun}",
        f"  export SCHOOL_TOKEN={school_token}    # school {sid}",
        "",
        "Try:",
        f'  curl -s -H "Authorization: Bearer $SCHOOL_TOKEN" {ind}/schools/{sid}',
        f'  curl -s -H "Authorization: Bearer $SCHOOL_TOKEN" '
        f"'{ind}/schools/{sid}/vpr-planned-results?period={period}&by=class'",
        f'  curl -s -H "Authorization: Bearer $MO_TOKEN" '
        f"'{ind}/municipalities/{mun}/table?period={period}&sort=vpr_mark2_share_math&order=desc'",
        f'  curl -s -H "Authorization: Bearer $REGION_TOKEN" '
        f"'{ind}/lists/{quote(SHNOR)}?period={period}'",
        f'  curl -s -H "Authorization: Bearer $REGION_TOKEN" '
        f"'{ind}/region/summary?period={period}'",
        f'  curl -s -H "Authorization: Bearer $MO_TOKEN" '
        f"{cfg.url('plans')}/cycle/{mun}/low_results",
        f'  curl -s -H "Authorization: Bearer $REGION_TOKEN" '
        f"{cfg.url('notify')}/subscriptions/{sub_id}/deliveries",
        f'  curl -sN -H "Authorization: Bearer $REGION_TOKEN" {cfg.url("notify")}/events/stream',
        "",
        "Webhooks arrive below as they are delivered. Press Ctrl-C to stop everything.",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- the whole run


@contextmanager
def timed(name: str, timings: dict[str, float]) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round(time.perf_counter() - started, 1)


def run(cfg: Config, wait_forever: Callable[[], None]) -> dict[str, float]:
    """The demo; ``wait_forever`` returns on Ctrl-C. Returns the seconds each step took."""
    timings: dict[str, float] = {}
    OUT.line(f"Shkala demo: the {cfg.size} region (SHKALA_DEMO_SIZE=tiny|default)")

    step("1. the demo region")
    with timed("generate", timings):
        info = prepare_region(cfg.region_dir, cfg.spec)
    token = issue_token(ServiceSettings(), Role.REGION, region=info.region_id)
    api = Api(cfg, token)
    receiver: Receiver | None = None
    try:
        api.check_ready()
        step(f"2. webhook receiver on {cfg.host}:{cfg.receiver_port}, subscribed in notify")
        if not port_free(cfg.host, cfg.receiver_port):
            raise DemoError(f"port {cfg.receiver_port} is taken: stop what listens there")
        receiver = Receiver(new_secret(), host=cfg.host, port=cfg.receiver_port, on_event=on_event)
        receiver.start()
        sub = subscribe(api, receiver, cfg.all_events)
        shown = "every event" if cfg.all_events else ", ".join(WEBHOOK_EVENTS)
        OUT.line(f"  subscription {sub['id']} → {receiver.url} ({shown})")

        step(f"3. uploading {len(info.files)} files through ingest ({cfg.url('ingest')})")
        first_upload = time.perf_counter()
        with timed("upload", timings):
            uploaded = upload_region(api, info, cfg.region_dir)
        if uploaded["positions"]:
            step("3b. waiting until indicators applied every uploaded record (read-your-writes)")
            with timed("projection_after_upload", timings):
                done, fresh = wait_visible(api, uploaded["positions"], cfg.wait_s)
            timings["first_upload_to_all_visible"] = round(time.perf_counter() - first_upload, 1)
            OUT.line(
                f"  every indicator visible {timings['first_upload_to_all_visible']:.0f}s after "
                "the first upload"
                if done
                else f"  indicators still behind after {cfg.wait_s:.0f}s: {fresh.get('missing')}"
            )

        step("4. plans: templates and a roadmap per municipality")
        with timed("roadmaps", timings):
            create_roadmaps(api, info)

        step(f"5. waiting for indicators to list {SHNOR} schools ({info.latest})")
        with timed("projection", timings):
            members = wait_for_list(api, SHNOR, info.latest, cfg.wait_s)
        designed = set(info.metadata.get("designed_low_results", []))
        found = {m["school_id"] for m in members}
        OUT.line(
            f"  {len(found)} {SHNOR} schools ({len(found & designed)} of the {len(designed)} "
            "designed to be)"
        )
        with timed("measures", timings):
            take_measures(api, info, members, info.latest)

        OUT.line(where_to_look(cfg, info, members, sub["id"]))
        OUT.line("  (took: " + ", ".join(f"{k} {v:.0f}s" for k, v in timings.items()) + ")")
        wait_forever()
    finally:
        if receiver is not None:
            receiver.stop()
            s = receiver.stats
            OUT.line(
                f"receiver: {s.received} webhooks, {s.duplicates} duplicates, "
                f"{s.rejected} with a bad signature"
            )
        api.close()
    return timings


def on_event(event: dict[str, Any]) -> None:
    OUT.line(f"  ⟵ webhook  {describe(event)}")
