"""``shkala`` — development tokens and file imports with a progress bar.

shkala token --role school --municipality mo-01 --school sch-0001
shkala import protocol.xlsx --kind vpr [--dry-run] [--url http://127.0.0.1:8001]
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(help="Shkala command line: tokens and uploads", no_args_is_help=True)
console = Console()


@app.command()
def token(
    role: Annotated[
        str, typer.Option(help="school | municipality | region | coordinator | executor")
    ],
    municipality: Annotated[str | None, typer.Option()] = None,
    school: Annotated[str | None, typer.Option()] = None,
    region: Annotated[str | None, typer.Option(help="default: SHKALA_REGION_ID")] = None,
    subject: Annotated[str, typer.Option()] = "dev",
    directions: Annotated[
        str | None, typer.Option(help="coordinator/executor: comma-separated directions")
    ] = None,
) -> None:
    """Print a development bearer token (HS256 with SHKALA_JWT_SECRET)."""
    from shkala_ingest.settings import Settings
    from shkala_runtime.auth import issue_token

    try:
        tok = issue_token(
            Settings(), role, region=region, municipality=municipality, school=school,
            subject=subject,
            directions=tuple(d.strip() for d in (directions or "").split(",") if d.strip()),
        )  # fmt: skip
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(tok)


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    kind: Annotated[str, typer.Option(help="upload format, e.g. vpr, gia, attendance")],
    url: Annotated[str, typer.Option(envvar="SHKALA_INGEST_URL")] = "http://127.0.0.1:8001",
    token: Annotated[str | None, typer.Option(envvar="SHKALA_TOKEN")] = None,
    dry_run: Annotated[bool, typer.Option(help="validate only")] = False,
    idempotency_key: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Upload FILE (CSV or XLSX) and follow the import until Kafka acknowledged every row."""
    if token is None:
        raise typer.BadParameter("pass --token or set SHKALA_TOKEN (see `shkala token`)")
    headers = {
        "Authorization": f"Bearer {token}",
        "Prefer": "respond-async",
        "Idempotency-Key": idempotency_key or uuid.uuid4().hex,
    }
    with httpx.Client(base_url=url, headers=headers, timeout=600) as client:
        with file.open("rb") as fh:
            r = client.post(
                f"/imports/{kind}",
                params={"dry_run": str(dry_run).lower()},
                files={"file": (file.name, fh, "application/octet-stream")},
            )
        if r.status_code >= 400:
            _print_problem(r.json())
            raise typer.Exit(1)
        answer = _follow(client, r.json())
    if answer.get("problem"):
        _print_problem(answer["problem"])
        raise typer.Exit(1)
    _print_answer(answer)


def _follow(client: httpx.Client, answer: dict[str, Any]) -> dict[str, Any]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        validate = progress.add_task("validated", total=None)
        publish = progress.add_task("published", total=None)
        while True:
            p = answer["progress"]
            total = p["rows_expected"] or None
            progress.update(validate, completed=p["rows_validated"], total=total)
            progress.update(
                publish,
                completed=p["rows_published"] + p["rows_unchanged"],
                total=p["rows_validated"] if p["rows_read"] >= (total or 0) else total,
            )
            if answer["status"] != "processing":
                return answer
            time.sleep(0.5)
            answer = client.get(f"/imports/{answer['import_id']}").json()


def _print_answer(answer: dict[str, Any]) -> None:
    table = Table(title=f"import {answer['import_id']}: {answer['status']}")
    table.add_column("event type")
    table.add_column("published", justify="right")
    for event_type, n in answer["counts"].items():
        table.add_row(event_type, str(n))
    console.print(table)
    p = answer["progress"]
    console.print(
        f"rows read {p['rows_read']}, validated {p['rows_validated']}, "
        f"published {p['rows_published']}, unchanged {p['rows_unchanged']}, "
        f"corrections {answer['corrections']}"
    )


def _print_problem(problem: dict[str, Any]) -> None:
    console.print(f"[bold red]{problem.get('title')}[/]: {problem.get('detail', '')}")
    errors = problem.get("errors") or []
    if errors:
        table = Table()
        for col in ("row", "column", "value", "reason"):
            table.add_column(col)
        for e in errors:
            table.add_row(str(e.get("row")), str(e.get("column") or ""), str(e.get("value") or ""),
                          str(e.get("reason")))  # fmt: skip
        console.print(table)
        if problem.get("total_errors", 0) > len(errors):
            console.print(f"… {problem['total_errors']} errors in total")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("SHKALA_LOG_JSON", "false")
    app()
