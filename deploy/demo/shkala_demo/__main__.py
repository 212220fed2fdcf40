"""`make demo`: the services are up (make up did that); show where to look, wait for Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading

from shkala_runtime.auth import Role, issue_token
from shkala_runtime.settings import ServiceSettings

PORTS = {"ingest": 8001, "indicators": 8002, "plans": 8003, "notify": 8004}


def main() -> int:
    settings = ServiceSettings()
    token = issue_token(settings, Role.REGION)
    print("\nShkala is running. Where to look:")
    for name, port in PORTS.items():
        print(f"  {name:<11} API docs  http://127.0.0.1:{port}/docs")
    print("  AsyncAPI    contracts/asyncapi.json (every topic, envelope and payload)")
    print(f"\nA region token (12 h):\n  export TOKEN={token}")
    print('  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8001/ready')
    print("\nPress Ctrl-C to stop everything.")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    print("\nstopping…", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
