#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Local PostgreSQL cluster of the project's own (FerretDB's default backend), from
# Debian's `postgresql` package, its data under .local/: no system cluster is touched.
#
#   deploy/local/postgres.sh fetch|start|stop|status|health|purge
#
# PostgreSQL refuses to run as root: when the caller is root the server runs as the
# `postgres` user (created by the Debian package) and owns only its data directory.
#
# Env: SHKALA_POSTGRES_PORT (55432), SHKALA_LOCAL_DIR, SHKALA_CACHE_DIR.
set -euo pipefail

SHKALA_COMPONENT=postgres
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

POSTGRES_PORT="${SHKALA_POSTGRES_PORT:-55432}"
POSTGRES_LOG="${SHKALA_LOG_DIR}/postgres.log"

# OWNER_PREFIX: how to run a command as the cluster's owner (postgres when we are root).
# setpriv execs (no fork), so the pid that spawn records is the server's own.
OWNER_PREFIX=()
[[ $(id -u) == 0 ]] && OWNER_PREFIX=(setpriv --reuid=postgres --regid=postgres --init-groups --)
as_owner() { "${OWNER_PREFIX[@]}" "$@"; }

# The cluster lives in .local/data/postgres, unless the owner cannot reach that folder (a
# checkout under root's 0700 home, say): then under the postgres user's home, in a folder
# named after this checkout, with .local/data/postgres a symlink to it (reset removes both).
POSTGRES_DATA="${SHKALA_DATA_DIR}/postgres"
if [[ $(id -u) == 0 ]] && ! as_owner test -x "$(dirname "${SHKALA_DATA_DIR}")" 2>/dev/null; then
  POSTGRES_DATA="$(getent passwd postgres | cut -d: -f6)/shkala/$(printf '%s' "${SHKALA_DATA_DIR}" | sha1sum | cut -c1-12)"
fi
# The data directory is on the command line, so it identifies our server (pid reuse guard).
POSTGRES_MARKER="-D ${POSTGRES_DATA}"

# pg_bin NAME: the newest installed PostgreSQL's tool (Debian keeps them off PATH).
pg_bin() {
  local dir
  dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
  [[ -n "${dir}" && -x "${dir}/$1" ]] || return 1
  printf '%s/%s\n' "${dir}" "$1"
}

cmd_fetch() {
  if pg_bin postgres >/dev/null; then
    say "PostgreSQL $("$(pg_bin postgres)" --version | awk '{print $3}') is installed"
    return 0
  fi
  [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1 ||
    die "PostgreSQL is not installed and this is not a root Debian shell: install the 'postgresql' package, or set SHKALA_FERRETDB_BACKEND=sqlite"
  say "installing Debian's postgresql package (first use only)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q postgresql >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null; } ||
    die "apt-get install postgresql failed; or set SHKALA_FERRETDB_BACKEND=sqlite"
  # The package starts a system cluster on 5432; ours is separate and that one is not needed.
  command -v pg_ctlcluster >/dev/null 2>&1 && pg_lsclusters -h 2>/dev/null |
    while read -r ver name _; do pg_ctlcluster "${ver}" "${name}" stop 2>/dev/null || true; done
  pg_bin postgres >/dev/null || die "postgresql installed but no server binary found under /usr/lib/postgresql"
}

cmd_health() {
  local isready
  isready="$(pg_bin pg_isready)" || return 1
  "${isready}" -q -h 127.0.0.1 -p "${POSTGRES_PORT}" -d ferretdb -U postgres -t 3 || {
    say "unhealthy: no answer on 127.0.0.1:${POSTGRES_PORT}"
    return 1
  }
  say "healthy: accepting connections on 127.0.0.1:${POSTGRES_PORT}"
}

cmd_status() {
  local pid
  if pid="$(running_pid postgres "${POSTGRES_MARKER}")"; then
    say "running (pid ${pid}) on 127.0.0.1:${POSTGRES_PORT}, data ${POSTGRES_DATA}; log ${POSTGRES_LOG}"
    return 0
  fi
  say "stopped"
  return 1
}

init_cluster() {
  [[ -f "${POSTGRES_DATA}/PG_VERSION" ]] && return 0
  say "creating a cluster in ${POSTGRES_DATA}"
  mkdir -p "${POSTGRES_DATA}"
  [[ "${POSTGRES_DATA}" == "${SHKALA_DATA_DIR}/postgres" ]] ||
    ln -sfn "${POSTGRES_DATA}" "${SHKALA_DATA_DIR}/postgres"
  [[ $(id -u) == 0 ]] && chown postgres:postgres "${POSTGRES_DATA}"
  chmod 700 "${POSTGRES_DATA}"
  # trust on loopback only: a developer's and CI's local cluster, never a deployment.
  as_owner "$(pg_bin initdb)" -D "${POSTGRES_DATA}" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >>"${POSTGRES_LOG}" 2>&1 ||
    die "initdb failed (see ${POSTGRES_LOG})"
}

cmd_start() {
  if cmd_health >/dev/null 2>&1; then
    say "already healthy on 127.0.0.1:${POSTGRES_PORT}"
    install_gin_twins
    return 0
  fi
  cmd_fetch
  ensure_dirs
  init_cluster
  if ! running_pid postgres "${POSTGRES_MARKER}" >/dev/null; then
    port_open "${POSTGRES_PORT}" &&
      die "port ${POSTGRES_PORT} is taken by another process; free it or set SHKALA_POSTGRES_PORT"
    say "starting PostgreSQL on 127.0.0.1:${POSTGRES_PORT} (data in ${POSTGRES_DATA})"
    # synchronous_commit=off: a test cluster may lose its last few ms on a machine crash,
    # never its consistency; max_connections above FerretDB's pool (400) plus tools.
    # TCP on loopback only; no Unix socket (its folder would need to be the owner's too).
    spawn postgres "${POSTGRES_LOG}" "${OWNER_PREFIX[@]}" "$(pg_bin postgres)" -D "${POSTGRES_DATA}" \
      -c listen_addresses=127.0.0.1 -p "${POSTGRES_PORT}" -c unix_socket_directories= \
      -c max_connections=500 -c shared_buffers=256MB -c synchronous_commit=off \
      -c logging_collector=off
  else
    say "process already running, waiting for it to become healthy"
  fi
  wait_healthy postgres "${POSTGRES_MARKER}" 60 "${POSTGRES_LOG}" cmd_health_db
  install_gin_twins
}

# install_gin_twins: the event trigger that gives each FerretDB index a GIN twin its filters
# can use (ferretdb-gin-twins.sql says why); once per cluster, it backfills what exists.
install_gin_twins() {
  local psql
  psql="$(pg_bin psql)"
  cmd_health_db || die "database ferretdb is missing"
  if "${psql}" -h 127.0.0.1 -p "${POSTGRES_PORT}" -U postgres -d ferretdb -tAc \
    "SELECT 1 FROM pg_event_trigger WHERE evtname = 'shkala_gin_twins'" | grep -q 1; then
    return 0
  fi
  say "installing the GIN twins of FerretDB's indexes (ADR 0002)"
  "${psql}" -h 127.0.0.1 -p "${POSTGRES_PORT}" -U postgres -d ferretdb -q -v ON_ERROR_STOP=1 \
    -f "$(dirname "${BASH_SOURCE[0]}")/ferretdb-gin-twins.sql" >/dev/null
}

# cmd_health_db: healthy, and the database FerretDB uses exists (created once).
cmd_health_db() {
  cmd_health >/dev/null 2>&1 || return 1
  local psql
  psql="$(pg_bin psql)"
  if ! "${psql}" -h 127.0.0.1 -p "${POSTGRES_PORT}" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'ferretdb'" | grep -q 1; then
    "${psql}" -h 127.0.0.1 -p "${POSTGRES_PORT}" -U postgres -d postgres -qc \
      "CREATE DATABASE ferretdb" >/dev/null || return 1
  fi
}

cmd_stop() { stop_pid postgres "${POSTGRES_MARKER}" 30; }

# purge: stop, then delete the cluster wherever it lives (infra.sh reset calls it).
cmd_purge() {
  cmd_stop
  rm -rf "${POSTGRES_DATA}" "${SHKALA_DATA_DIR}/postgres"
}

case "${1:-}" in
  fetch) lock_component postgres && cmd_fetch ;;
  start) lock_component postgres && cmd_start ;;
  stop) lock_component postgres && cmd_stop ;;
  purge) lock_component postgres && cmd_purge ;;
  status) cmd_status ;;
  health) cmd_health ;;
  *)
    echo "usage: $0 {fetch|start|stop|status|health|purge}" >&2
    exit 2
    ;;
esac
