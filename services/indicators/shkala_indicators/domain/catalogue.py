"""The indicator catalogue: versioned definitions loaded from YAML, with region overrides.

No framework imports: the YAML text is parsed by the caller-supplied loader (``load`` uses
PyYAML, the one dependency of this module).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from shkala_indicators.domain import support
from shkala_indicators.domain.targets import Targets

CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "catalogue"
DEFAULT_FILE = CATALOGUE_DIR / "catalogue.yaml"

NOT_IN_SEEDS = "regional setting, not in the seeds"
"""Source of a threshold, weight, parameter or list rule that no seed document gives."""
SOURCE_PREFIXES = ("seed ", NOT_IN_SEEDS, "region override ", "earlier definition version ")
"""Every source names a seed file and item, or says it is a regional setting."""
UNSCALED = ("flag", "coefficient", "score")
"""Units whose value is numerator / denominator itself (a score: the mean of the scores)."""
SOURCED = ("formula", "threshold", "criteria", "denominator")
"""What an indicator's ``sources`` may name (``threshold`` and ``criteria`` are required
when the indicator has them)."""


@dataclass(frozen=True)
class Threshold:
    risk_if: str  # "above" | "below"
    value: float

    def at_risk(self, value: float | None) -> bool:
        if value is None:
            return False
        return value > self.value if self.risk_if == "above" else value < self.value


@dataclass(frozen=True)
class Criterion:
    indicator: str
    at_least: float
    weight: float


@dataclass(frozen=True)
class Indicator:
    id: str
    direction: str
    kind: str
    name_ru: str
    name_en: str
    numerator: str
    denominator: str
    unit: str  # percent | flag | index
    better: str  # up | down
    threshold: Threshold | None = None
    params: dict[str, Any] = field(default_factory=dict)
    criteria: tuple[Criterion, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    """Where the formula, threshold and criterion weights come from (seed file and item,
    or ``NOT_IN_SEEDS``)."""
    targets: Targets | None = None
    """Seed 003's expected results as target values per year (None: not a programme one)."""

    @property
    def scale(self) -> float:
        return 1.0 if self.unit in UNSCALED else 100.0

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "direction": self.direction,
            "name": {"ru": self.name_ru, "en": self.name_en},
            "numerator": self.numerator,
            "denominator": self.denominator,
            "unit": self.unit,
            "better": self.better,
            "threshold": (
                {"risk_if": self.threshold.risk_if, "value": self.threshold.value}
                if self.threshold
                else None
            ),
            "params": self.params,
            "criteria": [
                {"indicator": c.indicator, "at_least": c.at_least, "weight": c.weight}
                for c in self.criteria
            ],
            "sources": self.sources,
            "targets": self.targets.describe() if self.targets else None,
        }

    def target(self, period: str, value: float | None) -> dict[str, Any] | None:
        """The target of the value's year and whether the value meets it."""
        if self.targets is None:
            return None
        return {
            "period": period,
            "value": self.targets.of(period),
            "expected": self.targets.expected,
            "met": self.targets.met(period, value),
        }


@dataclass(frozen=True)
class ListRule:
    name: str
    rule: str
    indicators: tuple[str, ...]
    min_count: int
    always: tuple[str, ...] = ()
    source: str = ""
    bottom_share: float | None = None
    """``rule: lowest``: the share (0..1] of the region's schools with the lowest value of
    the one listed indicator that form the list (seed 002: «школы с самым низким индексом»)."""
    bottom_count: int | None = None
    """``rule: lowest``: or a fixed number of schools, when set instead of the share."""


@dataclass(frozen=True)
class TeacherIndicator:
    id: str
    name_ru: str
    name_en: str
    procedure: str
    unit: str = "percent"


@dataclass(frozen=True)
class RatingRule:
    """Муниципальный рейтинг школ: indicators with weights; the bottom N get a support plan."""

    weights: tuple[tuple[str, float], ...]
    bottom: int = 3
    source: str = ""


@dataclass(frozen=True)
class Catalogue:
    version: str
    parameters: dict[str, Any]
    indicators: tuple[Indicator, ...]
    lists: tuple[ListRule, ...]
    teacher_indicators: tuple[TeacherIndicator, ...] = ()
    rating: RatingRule | None = None
    parameter_sources: dict[str, str] = field(default_factory=dict)
    support: tuple[Any, ...] = ()
    """Seed 002's support indicators over a unit's schools (``domain/support.py``)."""

    def by_id(self) -> dict[str, Indicator]:
        return {i.id: i for i in self.indicators}

    def get(self, indicator_id: str) -> Indicator:
        return self.by_id()[indicator_id]

    def describe(self) -> dict[str, Any]:
        return {
            "definition_version": self.version,
            "parameters": self.parameters,
            "parameter_sources": self.parameter_sources,
            "indicators": [i.describe() for i in self.indicators],
            "teacher_indicators": [
                {"id": t.id, "name": {"ru": t.name_ru, "en": t.name_en}, "procedure": t.procedure}
                for t in self.teacher_indicators
            ],
            "rating": {
                "indicators": [{"id": i, "weight": w} for i, w in self.rating.weights],
                "bottom": self.rating.bottom,
                "source": self.rating.source,
            }
            if self.rating
            else None,
            "lists": [
                {
                    "list": r.name,
                    "rule": r.rule,
                    "indicators": list(r.indicators),
                    "min_count": r.min_count,
                    "always": list(r.always),
                    "bottom_share": r.bottom_share,
                    "bottom_count": r.bottom_count,
                    "source": r.source,
                }
                for r in self.lists
            ],
            "support_indicators": [s.describe() for s in self.support],
        }


class CatalogueError(ValueError):
    pass


def _merge_override(
    raw: dict[str, Any], override: dict[str, Any], said: str | None = None
) -> dict[str, Any]:
    doc = copy.deepcopy(raw)
    # what a region changes no longer comes from the seed: its source says so
    region = override.get("region", "region")
    said = said or f"region override {region}.{override.get('version', '1')}"
    doc.setdefault("parameters", {}).update(override.get("parameters") or {})
    sources = doc.setdefault("parameter_sources", {})
    for name in override.get("parameters") or {}:
        sources[name] = said
    by_id = {i["id"]: i for i in doc["indicators"]}
    for ind_id, changes in (override.get("indicators") or {}).items():
        if ind_id not in by_id:
            raise CatalogueError(f"override names unknown indicator {ind_id!r}")
        target = by_id[ind_id]
        if "threshold" in changes:
            target["threshold"] = changes["threshold"]
            target.setdefault("sources", {})["threshold"] = said
        if changes.get("weights") or changes.get("criteria_thresholds"):
            target.setdefault("sources", {})["criteria"] = said
        for crit_id, weight in (changes.get("weights") or {}).items():
            crits = [c for c in target.get("criteria", ()) if c["indicator"] == crit_id]
            if not crits:
                raise CatalogueError(f"override: {ind_id} has no criterion {crit_id!r}")
            crits[0]["weight"] = weight
        for crit_id, at_least in (changes.get("criteria_thresholds") or {}).items():
            crits = [c for c in target.get("criteria", ()) if c["indicator"] == crit_id]
            if not crits:
                raise CatalogueError(f"override: {ind_id} has no criterion {crit_id!r}")
            crits[0]["at_least"] = at_least
        if changes.get("targets"):  # a region's own target figures per year (seed 003)
            spec = dict(target.get("targets") or {})
            spec["values"] = {**(spec.get("values") or {}), **changes["targets"]}
            spec["values_source"] = said
            target["targets"] = spec
    for name, changes in (override.get("lists") or {}).items():
        if name not in doc.get("lists", {}):
            raise CatalogueError(f"override names unknown list {name!r}")
        doc["lists"][name].update(changes)
        doc["lists"][name]["source"] = said
    if "rating" in override:  # a region's rating replaces the default one whole
        doc["rating"] = {**override["rating"], "source": said}
    doc["version"] = f"{raw['version']}+{region}.{override.get('version', '1')}"
    return doc


def _source(where: str, text: Any) -> str:
    if not isinstance(text, str) or not text.startswith(SOURCE_PREFIXES):
        raise CatalogueError(
            f'{where}: source must name the seed ("seed <file>: <item>") or say '
            f'"{NOT_IN_SEEDS}", got {text!r}'
        )
    return text


_YEAR = re.compile(r"^\d{4}/\d{2}$")


def _targets(ind_id: str, spec: Any) -> Targets | None:
    if spec is None:
        return None
    where = f"{ind_id}.targets"
    if spec.get("expected") not in ("up", "down"):
        raise CatalogueError(f"{where}.expected must be up or down, got {spec.get('expected')!r}")
    values = []
    for year, v in (spec.get("values") or {}).items():
        if not _YEAR.match(str(year)) or int(str(year)[5:]) != (int(str(year)[:4]) + 1) % 100:
            raise CatalogueError(f"{where}: {year!r} is not an academic year like 2025/26")
        if not isinstance(v, int | float) or isinstance(v, bool):
            raise CatalogueError(f"{where}: the target of {year} must be a number, got {v!r}")
        values.append((str(year), float(v)))
    return Targets(
        _source(f"{where}.indicator", spec.get("indicator")),
        spec["expected"],
        tuple(sorted(values)),
        _source(f"{where}.values_source", spec.get("values_source")),
    )


def parse(raw: dict[str, Any], override: dict[str, Any] | None = None) -> Catalogue:
    doc = _merge_override(raw, override) if override else raw
    params = dict(doc.get("parameters") or {})
    param_sources = dict(doc.get("parameter_sources") or {})
    for name in params:
        _source(f"parameter {name}", param_sources.get(name))
    indicators = []
    ids: set[str] = set()
    for item in doc["indicators"]:
        if item["id"] in ids:
            raise CatalogueError(f"indicator {item['id']} defined twice")
        ids.add(item["id"])
        th = item.get("threshold")
        sources = dict(item.get("sources") or {})
        for what in sources:
            if what not in SOURCED:
                raise CatalogueError(f"{item['id']}: unknown source key {what!r}")
        needed = (
            ["formula"]
            + (["threshold"] if th else [])
            + (["criteria"] if item.get("criteria") else [])
        )
        for what in needed:
            sources[what] = _source(f"{item['id']}.sources.{what}", sources.get(what))
        indicators.append(
            Indicator(
                id=item["id"],
                direction=item["direction"],
                kind=item["kind"],
                name_ru=item["name"]["ru"],
                name_en=item["name"]["en"],
                numerator=item["numerator"],
                denominator=item["denominator"],
                unit=item["unit"],
                better=item["better"],
                threshold=Threshold(th["risk_if"], float(th["value"])) if th else None,
                params=dict(item.get("params") or {}),
                criteria=tuple(
                    Criterion(c["indicator"], float(c["at_least"]), float(c["weight"]))
                    for c in item.get("criteria") or ()
                ),
                sources=sources,
                targets=_targets(item["id"], item.get("targets")),
            )
        )
    for ind in indicators:
        for c in ind.criteria:
            if c.indicator not in ids:
                raise CatalogueError(f"{ind.id}: criterion on unknown indicator {c.indicator}")
    lists = []
    for name, rule in (doc.get("lists") or {}).items():
        for ind_id in (*rule["indicators"], *rule.get("always", ())):
            if ind_id not in ids:
                raise CatalogueError(f"list {name}: unknown indicator {ind_id}")
        kind = rule.get("rule", "risk_count")
        if kind not in ("risk_count", "lowest"):
            raise CatalogueError(f"list {name}: unknown rule {kind!r} (risk_count | lowest)")
        share, count = rule.get("bottom_share"), rule.get("bottom_count")
        if kind == "lowest":
            if len(rule["indicators"]) != 1:
                raise CatalogueError(f"list {name}: rule lowest ranks exactly one indicator")
            if (share is None) == (count is None):
                raise CatalogueError(f"list {name}: rule lowest needs bottom_share or bottom_count")
            if share is not None and not 0 < float(share) <= 1:
                raise CatalogueError(f"list {name}: bottom_share must be in (0, 1], got {share}")
            if count is not None and int(count) < 1:
                raise CatalogueError(f"list {name}: bottom_count must be ≥ 1, got {count}")
        lists.append(
            ListRule(
                name=name,
                rule=kind,
                indicators=tuple(rule["indicators"]),
                min_count=int(rule.get("min_count", 1)),
                always=tuple(rule.get("always") or ()),
                source=_source(f"list {name}", rule.get("source")),
                bottom_share=float(share) if share is not None and kind == "lowest" else None,
                bottom_count=int(count) if count is not None and kind == "lowest" else None,
            )
        )
    teacher = tuple(
        TeacherIndicator(
            t["id"], t["name"]["ru"], t["name"]["en"], t["procedure"], t.get("unit", "percent")
        )
        for t in doc.get("teacher_indicators") or ()
    )
    rating = None
    if doc.get("rating"):
        spec = doc["rating"]
        weights = tuple((r["id"], float(r["weight"])) for r in spec["indicators"])
        for ind_id, w in weights:
            if ind_id not in ids:
                raise CatalogueError(f"rating: unknown indicator {ind_id}")
            if w <= 0:
                raise CatalogueError(f"rating: weight of {ind_id} must be positive, got {w}")
        rating = RatingRule(
            weights, int(spec.get("bottom", 3)), _source("rating", spec.get("source"))
        )
    support_indicators = support.parse(
        doc.get("support_indicators") or [], {r.name for r in lists}, _source, CatalogueError
    )
    return Catalogue(
        str(doc["version"]), params, tuple(indicators), tuple(lists), teacher, rating,
        param_sources, support_indicators,
    )  # fmt: skip


def load(path: Path | str | None = None, override: Path | str | None = None) -> Catalogue:
    raw = yaml.safe_load(Path(path or DEFAULT_FILE).read_text(encoding="utf-8"))
    over = yaml.safe_load(Path(override).read_text(encoding="utf-8")) if override else None
    return parse(raw, over)


HISTORY_DIR = CATALOGUE_DIR / "history"


def load_versions(
    path: Path | str | None = None, history: Path | str | None = None
) -> dict[str, Catalogue]:
    """Earlier definition versions, each written as its changes from the current file."""
    raw = yaml.safe_load(Path(path or DEFAULT_FILE).read_text(encoding="utf-8"))
    out: dict[str, Catalogue] = {}
    folder = Path(history or HISTORY_DIR)
    for file in sorted(folder.glob("*.yaml")) if folder.is_dir() else ():
        delta = yaml.safe_load(file.read_text(encoding="utf-8"))
        if not delta.get("version"):
            raise CatalogueError(f"{file}: no version")
        doc = _merge_override(raw, delta, f"earlier definition version {delta['version']}")
        doc["version"] = str(delta["version"])
        out[doc["version"]] = parse(doc)
    return out
