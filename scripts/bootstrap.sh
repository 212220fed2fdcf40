#!/usr/bin/env bash
# Install what a fresh machine lacks for Shkala: uv, the locked Python environment, and
# Debian's docker-compose (only to validate docker-compose.yml; no engine is needed), the web
# workspace's npm packages and Debian's chromium (browser tests).
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

# The web workspace's browser libraries (ECharts, htmx) from npm into services/web/node_modules
# (ignored by git, never committed), pinned by services/web/package-lock.json.
if command -v npm >/dev/null 2>&1; then
  if [[ ! -f services/web/node_modules/.package-lock.json \
        || services/web/package-lock.json -nt services/web/node_modules/.package-lock.json ]]; then
    echo "installing the workspace's browser libraries (npm)…"
    (cd services/web && npm ci --no-audit --no-fund --silent) \
      || echo "WARNING: npm ci failed; the workspace's charts will be missing" >&2
  fi
else
  echo "WARNING: npm missing: the workspace's charts and htmx will not load (apt-get install npm)" >&2
fi

# Headless Chromium for the browser tests and `make screenshots`: Debian's package, driven by
# Playwright with executable_path (Playwright's own browser download is not used).
if ! command -v chromium >/dev/null 2>&1; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium (browser tests)…"
    (apt-get install -y -q chromium >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }) \
      || echo "WARNING: could not install chromium; the browser tests will fail" >&2
  else
    echo "WARNING: chromium missing and cannot apt-get it; the browser tests will fail" >&2
  fi
fi
