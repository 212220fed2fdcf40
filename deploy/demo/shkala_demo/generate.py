"""Generate a synthetic region and write the files officials upload.

uv run python -m shkala_demo.generate --out /tmp/region [--seed N --municipalities N
    --schools N --students N --format csv|xlsx --encoding cp1251|utf-8 --tiny]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from shkala_demo.files import Written, write_region
from shkala_demo.world import DEFAULT, TINY, RegionSpec, build_region


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m shkala_demo.generate", description=__doc__)
    p.add_argument("--out", required=True, type=Path, help="directory to write the files into")
    p.add_argument("--tiny", action="store_true", help="the tiny test preset (2 MO, 8 schools)")
    p.add_argument("--seed", type=int)
    p.add_argument("--municipalities", type=int)
    p.add_argument("--schools", type=int)
    p.add_argument("--students", type=int, help="students enrolled in the latest year")
    p.add_argument(
        "--years", help="academic years, comma-separated (default: 2024/25,2025/26)", default=None
    )
    p.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    p.add_argument(
        "--encoding", default="cp1251", help="CSV encoding: cp1251 (default, as exported) or utf-8"
    )
    p.add_argument("--delimiter", default=";", help="CSV delimiter (default ;)")
    p.add_argument(
        "--metadata", type=Path, help="also write the designed schools etc. as JSON to this path"
    )
    return p.parse_args(argv)


def spec_from(args: argparse.Namespace) -> RegionSpec:
    base = TINY if args.tiny else DEFAULT
    return RegionSpec(
        seed=base.seed if args.seed is None else args.seed,
        municipalities=args.municipalities or base.municipalities,
        schools=args.schools or base.schools,
        students=args.students or base.students,
        years=tuple(args.years.split(",")) if args.years else base.years,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    spec = spec_from(args)
    started = time.perf_counter()
    region = build_region(spec)
    meta = region.metadata()
    print(
        f"region seed={spec.seed}: {meta['municipalities']} municipalities, {meta['schools']} "
        f"schools, {meta['students_latest_year']} students in {spec.years[-1]} "
        f"({meta['students_distinct']} distinct with graduates), {meta['teachers']} staff "
        f"[{time.perf_counter() - started:.1f}s]",
        flush=True,
    )

    def progress(kind: str, n: int) -> None:
        print(f"  … {kind}: {n:,} rows", file=sys.stderr, flush=True)

    def done(w: Written) -> None:
        size = w.path.stat().st_size / 1e6
        elapsed = time.perf_counter() - started
        print(
            f"  {w.path!s:<48} {w.rows:>9,} rows {size:8.1f} MB  [{elapsed:.1f}s]",
            flush=True,
        )

    written = write_region(
        region,
        args.out,
        args.format,
        encoding=args.encoding,
        delimiter=args.delimiter,
        progress=progress,
        on_written=done,
    )
    total = sum(w.rows for w in written)
    print(
        f"wrote {len(written)} files, {total:,} rows in {time.perf_counter() - started:.1f}s",
        flush=True,
    )
    for key in (
        "designed_low_results",
        "designed_poor_context",
        "designed_nonobjective_journal",
        "designed_nonobjective_vpr",
        "designed_accreditation_suspended",
        "designed_boundary_anomaly",
        "designed_federal_list",
    ):
        ids = meta[key]
        assert isinstance(ids, list)
        shown = ", ".join(ids[:8]) + (" …" if len(ids) > 8 else "")
        print(f"  {key} ({len(ids)}): {shown}")
    if args.metadata:
        args.metadata.parent.mkdir(parents=True, exist_ok=True)
        args.metadata.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"  metadata: {args.metadata}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
