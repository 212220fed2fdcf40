#!/usr/bin/env bash
# Install what a fresh machine lacks for Shkala: uv, the locked Python environment, and
# Debian's docker-compose (only to validate docker-compose.yml; no engine is needed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

need() { command -v "$1" >/dev/null 2>&1 || { echo "ERROR: $1 is required ($2)" >&2; exit 1; }; }
need python3 "Python 3.11"
need java "Java 17 runs the local Kafka broker"
need mvn "Maven fetches Kafka from Maven Central"
need go "Go builds FerretDB"
need curl "health checks"

if ! command -v uv >/dev/null 2>&1; then
  echo "installing uv (PyPI)…"
  python3 -m pip install --quiet --disable-pip-version-check uv
fi
uv sync --frozen --quiet

if ! command -v docker-compose >/dev/null 2>&1; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's docker-compose (to validate docker-compose.yml)…"
    (apt-get install -y -q docker-compose >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q docker-compose >/dev/null; }) \
      || echo "WARNING: could not install docker-compose; its test will fail" >&2
  else
    echo "WARNING: docker-compose missing and cannot apt-get it; its test will fail" >&2
  fi
fi
