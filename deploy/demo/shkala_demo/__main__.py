"""`make demo`: the demo region through the running services, then wait for Ctrl-C.

`make up` started the infrastructure and the four services; this uploads the demo region, makes
roadmaps and measures, subscribes a local webhook receiver and prints where to look
(``shkala_demo.runner``). ``SHKALA_DEMO_SIZE=tiny`` (or ``--size tiny``) for a quick run.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from shkala_demo.runner import SIZES, Config, DemoError, run


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m shkala_demo", description=__doc__)
    p.add_argument(
        "--size",
        choices=tuple(SIZES),
        help="region size (default: $SHKALA_DEMO_SIZE or default, the typical region)",
    )
    p.add_argument("--tiny", action="store_true", help="same as --size tiny")
    p.add_argument(
        "--no-wait", action="store_true", help="return after setting everything up (no Ctrl-C)"
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    stop = threading.Event()

    def on_term(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)

    def wait_forever() -> None:
        if args.no_wait:
            return
        while not stop.wait(0.5):
            pass

    try:
        cfg = Config.from_env("tiny" if args.tiny else args.size)
        run(cfg, wait_forever)
    except DemoError as exc:
        print(f"\ndemo stopped: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("\nCtrl-C: stopping…", flush=True)
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
