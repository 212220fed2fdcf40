"""Write ``docs/formats/``: one page and one sample CSV per upload format, from formats.py.

uv run python -m shkala_ingest.formats_doc [docs/formats]
"""

from __future__ import annotations

import sys
from pathlib import Path

from shkala_contracts.formats import FORMATS, PERSONAL_IDS, UploadFormat, names_no_school
from shkala_ingest.domain import templates


def page(fmt: UploadFormat) -> str:
    lines = [
        f"# {fmt.title} (`{fmt.kind}`)",
        "",
        f"- Upload: `POST /imports/{fmt.kind}` (CSV or XLSX), or `POST /batches/{fmt.kind}` "
        "(JSON rows keyed by the field names below)",
        f"- Blank template: `GET /formats/{fmt.kind}/template.csv`, `.xlsx`; "
        f"sample: [`samples/{fmt.kind}.csv`](samples/{fmt.kind}.csv)",
        f"- Publishes `{fmt.fact.event_type}` to `{fmt.fact.topic}`",
        f"- Natural key (a resubmission with the same key is a correction): "
        f"{', '.join(f'`{k}`' for k in fmt.fact.key_fields)}",
    ]
    if fmt.fixed:
        lines.append(
            "- Fixed for every row: " + ", ".join(f"`{k}` = {v}" for k, v in fmt.fixed.items())
        )
    lines += [
        "",
        "| Column | Field | Required | Example | Also accepted |",
        "|---|---|---|---|---|",
    ]
    for c in fmt.columns:
        field = f"`{c.field}`"
        if c.field in PERSONAL_IDS:
            field += f" → pseudonym `{PERSONAL_IDS[c.field]}`"
        lines.append(
            f"| {c.header} | {field} | {'yes' if c.required else ''} | {c.example} | "
            f"{', '.join(c.aliases)} |"
        )
    if fmt.task_columns:
        lines += [
            "",
            "Task columns: any number of `Задание N (макс M)` columns (e.g. `Задание 9.1 "
            "(макс 2)`) become `tasks` (points per task with its maximum); an empty cell means "
            "the task has no score.",
        ]
    if fmt.kind == "org-units":
        lines += [
            "",
            "Loaded by the region (or a municipality for its own schools). Publishes "
            "`RegionRegistered` and `MunicipalityRegistered` for the regions and "
            "municipalities named, and `SchoolRegistered` per row; every other format's rows "
            "must name a school registered here.",
        ]
    if fmt.school_refs:
        named = ", ".join(f"`{f}`" for f in fmt.school_refs)
        lines += [
            "",
            f"Every row names more than one school (`school_id`, {named}): each must be "
            "registered and in the uploader's tenant (a municipality names only its own "
            "schools; the region any of its schools), else the row is refused (403, "
            "`code: forbidden` or 422 `unregistered`, naming row and column).",
        ]
    if names_no_school(fmt):
        lines += [
            "",
            "Reference data: rows name no school. Loaded by the region or a municipality (a "
            "school token is refused) and used for every school of the region (the assessment's "
            "description is the same for all); one row per task and planned result (a task may "
            "check several). A row is corrected by uploading it again; it cannot be withdrawn. "
            "The indicators service adds the planned results to `GET "
            "/schools/{id}/vpr-tasks` and computes `/vpr-planned-results` and "
            "`/vpr-students` from them; without a mapping those answer `mapping: missing`.",
        ]
    lines += [
        "",
        "Columns not listed (e.g. `ФИО`) are ignored and reported as `ignored_columns`; "
        "names never enter the system. See [README](README.md) for encodings, numbers, dates.",
        "",
    ]
    return "\n".join(lines)


def sample_rows(fmt: UploadFormat) -> list[list[str]]:
    """One row per format; the org-units sample also registers every further school the
    other samples name (``school_refs``: the leading school of a network pair)."""
    row = templates.sample_row(fmt)
    if fmt.kind != "org-units":
        return [row]
    fields = [c.field for c in fmt.columns]
    sid, name = fields.index("school_id"), fields.index("name")
    others = sorted(
        {c.example for f in FORMATS.values() for c in f.columns if c.field in f.school_refs}
        - {row[sid]}
    )
    extra = []
    for other in others:
        cells = list(row)
        cells[sid], cells[name] = other, f"МБОУ «Школа {other}»"
        extra.append(cells)
    return [row, *extra]


def main(out: Path) -> None:
    (out / "samples").mkdir(parents=True, exist_ok=True)
    for fmt in FORMATS.values():
        (out / f"{fmt.kind}.md").write_text(page(fmt), encoding="utf-8")
        sample = templates.csv_text(fmt, sample_rows(fmt))
        (out / "samples" / f"{fmt.kind}.csv").write_text(sample, encoding="utf-8", newline="")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/formats"))
