"""Run the notify service: ``python -m shkala_notify``."""

from __future__ import annotations

from shkala_notify.bootstrap import bootstrap
from shkala_runtime.serving import serve


def main() -> None:
    service = bootstrap()
    serve(service.app, service.settings)


if __name__ == "__main__":
    main()
