"""Run the plans service: ``python -m shkala_plans``."""

from __future__ import annotations

from shkala_plans.bootstrap import bootstrap
from shkala_runtime.serving import serve


def main() -> None:
    service = bootstrap()
    serve(service.app, service.settings)


if __name__ == "__main__":
    main()
