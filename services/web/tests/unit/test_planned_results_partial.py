"""The school card's planned-result partial: deficits by planned result beside the per-task
heatmap, weakest first; when no mapping was uploaded it says so instead of an empty table."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

import shkala_web
from shkala_web.domain.format import filters

TEMPLATES = Path(shkala_web.__file__).parent / "templates"


def render(vpr: dict) -> str:
    t = Jinja2Templates(directory=str(TEMPLATES))
    t.env.filters.update(filters())
    return t.env.get_template("_school_planned_results.html").render(
        d={"period": "2025/26", "vpr": vpr}
    )


def test_deficits_by_planned_result_weakest_first() -> None:
    rows = [
        {"subject": "математика", "grade": 5, "code": "5.1", "text": "Действия с дробями",
         "tasks": ["1", "2"], "rate": 72.5, "deficit": False},
        {"subject": "математика", "grade": 5, "code": "5.3", "text": "Задачи на проценты",
         "tasks": ["7"], "rate": 31.0, "deficit": True},
    ]  # fmt: skip
    html = render({"mapping": "partial", "threshold": 50, "by_planned_result": rows,
                   "mapping_missing": [{"subject": "русский язык", "grade": 8}]})  # fmt: skip
    assert html.index("Задачи на проценты") < html.index("Действия с дробями")
    assert 'id="planned-deficit-count">1<' in html
    assert "русский язык, 8 кл." in html
    assert "mapping-missing" not in html


def test_a_missing_mapping_is_said() -> None:
    html = render({"mapping": "missing", "threshold": 50, "by_planned_result": []})
    assert 'id="mapping-missing"' in html
    assert "не загружено" in html
    assert "<table" not in html
