#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# All local infrastructure at once: Kafka + FerretDB (on PostgreSQL unless
# SHKALA_FERRETDB_BACKEND=sqlite).
#
#   deploy/local/infra.sh up      # fetch (first use) + start both, wait healthy
#   deploy/local/infra.sh down    # stop both (caches and data kept)
#   deploy/local/infra.sh status  # process + health of both
#   deploy/local/infra.sh reset   # down, then delete local data (caches kept)
set -euo pipefail

SHKALA_COMPONENT=infra
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA="${SHKALA_DEPLOY_DIR}/kafka.sh"
FERRETDB="${SHKALA_DEPLOY_DIR}/ferretdb.sh"
POSTGRES="${SHKALA_DEPLOY_DIR}/postgres.sh"
BACKEND="${SHKALA_FERRETDB_BACKEND:-postgresql}"

# database CMD: FerretDB and its backend, in dependency order (the backend first on
# start, last on stop).
database() {
  if [[ "${BACKEND}" != postgresql ]]; then
    "${FERRETDB}" "$1"
    return
  fi
  case "$1" in
    stop) "${FERRETDB}" stop && "${POSTGRES}" stop ;;
    *) "${POSTGRES}" "$1" && "${FERRETDB}" "$1" ;;
  esac
}

# run_both CMD: run CMD on both services in parallel (each fetch is I/O bound
# and each start mostly waits), then fail if either failed.
run_both() {
  local cmd="$1" kpid fpid rc=0
  "${KAFKA}" "${cmd}" &
  kpid=$!
  database "${cmd}" &
  fpid=$!
  wait "${kpid}" || rc=1
  wait "${fpid}" || rc=1
  return "${rc}"
}

cmd_up() {
  # Check every tool before starting anything, so a missing one fails in a
  # second instead of after a long fetch of the other service.
  require_tool java "run Kafka"
  [[ -f "${SHKALA_CACHE_DIR}/kafka-4.3.1/libs/.complete" ]] ||
    require_tool mvn "fetch the Kafka jars from Maven Central"
  [[ -x "${SHKALA_CACHE_DIR}/bin/ferretdb-1.24.0" ]] ||
    require_tool go "build FerretDB from the Go module proxy"
  [[ "${BACKEND}" == postgresql || "${BACKEND}" == sqlite ]] ||
    die "SHKALA_FERRETDB_BACKEND must be postgresql or sqlite, not '${BACKEND}'"
  # start implies fetch; both run in parallel.
  run_both start || die "infra up failed (see messages above; logs in ${SHKALA_LOG_DIR})"
  say "up: Kafka 127.0.0.1:${SHKALA_KAFKA_PORT:-9092}, FerretDB mongodb://127.0.0.1:${SHKALA_FERRETDB_PORT:-27017} (${BACKEND} backend)"
}

cmd_down() { run_both stop; }

cmd_status() {
  local rc=0
  "${KAFKA}" status || rc=1
  "${KAFKA}" health || rc=1
  if [[ "${BACKEND}" == postgresql ]]; then
    "${POSTGRES}" status || rc=1
    "${POSTGRES}" health || rc=1
  fi
  "${FERRETDB}" status || rc=1
  "${FERRETDB}" health || rc=1
  return "${rc}"
}

cmd_reset() {
  cmd_down
  [[ "${BACKEND}" != postgresql ]] || "${POSTGRES}" purge
  say "deleting ${SHKALA_DATA_DIR} (caches in ${SHKALA_CACHE_DIR} are kept)"
  rm -rf "${SHKALA_DATA_DIR}"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  reset) cmd_reset ;;
  *)
    echo "usage: $0 {up|down|status|reset}" >&2
    exit 2
    ;;
esac
