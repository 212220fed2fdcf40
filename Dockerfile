# One image recipe for every Shkala service, chosen by a build argument:
#
#   docker build --build-arg SERVICE=ingest -t shkala-ingest .
#   (SERVICE is one of: ingest, indicators, plans, notify, web)
#
# The build stage installs only that workspace member and the members it depends on
# (shkala-contracts, shkala-runtime) into /app/.venv, as wheels, from the locked uv.lock.
# The runtime stage copies that virtual environment and nothing else: no sources, no uv,
# no build tools. Only classic Dockerfile features are used, so both BuildKit and the legacy
# builder (docker-compose v1) can build it.

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------- web assets
# The workspace's browser libraries (ECharts, htmx) from the npm registry, pinned by
# services/web/package-lock.json; only their dist files reach the image.
FROM node:22-slim AS assets
WORKDIR /assets
COPY services/web/package.json services/web/package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev \
 && mkdir -p /out/echarts/dist /out/htmx.org/dist \
 && cp node_modules/echarts/dist/echarts.min.js /out/echarts/dist/ \
 && cp node_modules/htmx.org/dist/htmx.min.js /out/htmx.org/dist/

# ---------------------------------------------------------------------------- build
FROM ${PYTHON_IMAGE} AS build

ARG SERVICE
ARG UV_VERSION=0.13.9

RUN case "${SERVICE}" in \
      ingest|indicators|plans|notify|web) ;; \
      *) echo "build with --build-arg SERVICE=<ingest|indicators|plans|notify|web> (got '${SERVICE}')" >&2; \
         exit 1 ;; \
    esac

# uv from PyPI, pinned to the version the lock file is maintained with.
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"

ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1

WORKDIR /src

# 1) Third-party dependencies only. uv needs the workspace's manifests (every member's
#    pyproject.toml) and the lock file, not the sources, so this layer is rebuilt only when
#    dependencies change.
COPY pyproject.toml uv.lock ./
COPY contracts/pyproject.toml contracts/
COPY runtime/pyproject.toml runtime/
COPY services/ingest/pyproject.toml services/ingest/
COPY services/indicators/pyproject.toml services/indicators/
COPY services/plans/pyproject.toml services/plans/
COPY services/notify/pyproject.toml services/notify/
COPY services/web/pyproject.toml services/web/
COPY deploy/demo/pyproject.toml deploy/demo/
RUN uv sync --frozen --no-dev --no-editable --package "shkala-${SERVICE}" --no-install-workspace

# 2) The workspace members this service needs, installed as regular (non-editable) wheels so
#    the environment does not point back into /src.
COPY contracts/ contracts/
COPY runtime/ runtime/
COPY services/${SERVICE}/ services/${SERVICE}/
RUN uv sync --frozen --no-dev --no-editable --package "shkala-${SERVICE}"

# ---------------------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE}

ARG SERVICE
ENV SERVICE=${SERVICE} \
    PATH=/app/.venv/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SHKALA_HTTP_HOST=0.0.0.0 \
    SHKALA_LOG_JSON=true

LABEL org.opencontainers.image.title="shkala-${SERVICE}" \
      org.opencontainers.image.description="Shkala ${SERVICE} service"

RUN groupadd --system --gid 10001 shkala \
 && useradd --system --uid 10001 --gid shkala --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin shkala

COPY --from=build /app/.venv /app/.venv
COPY --from=assets /out /app/assets
ENV SHKALA_WEB_ASSETS_DIR=/app/assets
WORKDIR /app
USER 10001:10001

# Liveness. The port comes from the service's own settings (its default, or
# SHKALA_HTTP_PORT), so the check always probes the port the service listens on.
# (Compose overrides this with a readiness check on /ready.)
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import importlib, os, urllib.request; port = importlib.import_module('shkala_' + os.environ['SERVICE'] + '.settings').Settings().http_port; urllib.request.urlopen('http://127.0.0.1:%d/health' % port, timeout=4)"

# Shell form so ${SERVICE} expands at run time; exec makes Python PID 1 so it gets SIGTERM.
CMD exec python -m shkala_${SERVICE}
