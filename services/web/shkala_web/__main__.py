"""Run the web workspace: ``python -m shkala_web``."""

from __future__ import annotations

from shkala_runtime.serving import serve
from shkala_web.bootstrap import bootstrap


def main() -> None:
    service = bootstrap()
    serve(service.app, service.settings)


if __name__ == "__main__":
    main()
