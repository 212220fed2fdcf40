"""Run the indicators service: ``python -m shkala_indicators`` (serve, the default) or
``python -m shkala_indicators rebuild`` (replay the log into fresh collections, switch over)."""

from __future__ import annotations

import argparse
import asyncio
import json

from shkala_indicators.bootstrap import bootstrap
from shkala_runtime.serving import serve as serve_http


def serve() -> None:
    service = bootstrap()
    serve_http(service.app, service.settings)


async def run_rebuild() -> dict[str, object]:
    from shkala_indicators.service_layer.rebuild import rebuild
    from shkala_runtime.mongo import database

    service = bootstrap(consume=False)
    try:
        return await rebuild(
            service.settings, database(service.mongo, service.settings), service.projector
        )
    finally:
        await service.mongo.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m shkala_indicators")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "rebuild"])
    args = parser.parse_args()
    if args.command == "rebuild":
        print(json.dumps(asyncio.run(run_rebuild()), ensure_ascii=False))
    else:
        serve()


if __name__ == "__main__":
    main()
