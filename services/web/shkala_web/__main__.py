"""Run the web workspace: ``python -m shkala_web``."""

from __future__ import annotations

import uvicorn

from shkala_web.bootstrap import bootstrap


def main() -> None:
    service = bootstrap()
    uvicorn.run(
        service.app,
        host=service.settings.http_host,
        port=service.settings.http_port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
