# shellcheck shell=bash
# Shared helpers for the local infrastructure scripts (kafka.sh, ferretdb.sh,
# infra.sh). Sourced, never executed: callers already run `set -euo pipefail`.

# Repo root is two levels above this file, wherever the caller was started from
# (make, a test fixture, a developer's shell in a subfolder).
SHKALA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck disable=SC2034 # used by the scripts that source this file
SHKALA_DEPLOY_DIR="${SHKALA_ROOT}/deploy/local"

# Caches (downloaded jars, the built ferretdb binary) survive `infra down` and
# `infra reset`; everything mutable lives under SHKALA_LOCAL_DIR.
SHKALA_CACHE_DIR="${SHKALA_CACHE_DIR:-${SHKALA_ROOT}/.cache/local}"
SHKALA_LOCAL_DIR="${SHKALA_LOCAL_DIR:-${SHKALA_ROOT}/.local}"
SHKALA_DATA_DIR="${SHKALA_LOCAL_DIR}/data"
SHKALA_LOG_DIR="${SHKALA_LOCAL_DIR}/logs"
SHKALA_RUN_DIR="${SHKALA_LOCAL_DIR}/run"
SHKALA_CONF_DIR="${SHKALA_LOCAL_DIR}/conf"

# Prefix every line with the component so interleaved parallel output stays readable.
SHKALA_COMPONENT="${SHKALA_COMPONENT:-infra}"

say() { printf '[%s] %s\n' "${SHKALA_COMPONENT}" "$*"; }
warn() { printf '[%s] WARNING: %s\n' "${SHKALA_COMPONENT}" "$*" >&2; }
die() {
  printf '[%s] ERROR: %s\n' "${SHKALA_COMPONENT}" "$*" >&2
  exit 1
}

ensure_dirs() {
  mkdir -p "${SHKALA_CACHE_DIR}" "${SHKALA_DATA_DIR}" "${SHKALA_LOG_DIR}" \
    "${SHKALA_RUN_DIR}" "${SHKALA_CONF_DIR}"
}

# require_tool NAME WHY: fail early with the tool's name instead of a cryptic
# "command not found" half way through a fetch.
require_tool() {
  local tool="$1" why="$2"
  command -v "${tool}" >/dev/null 2>&1 ||
    die "'${tool}' is not installed or not on PATH; it is needed to ${why}."
}

# port_open PORT: true when something accepts TCP on 127.0.0.1:PORT. Pure bash
# (/dev/tcp) so it works without nc/ss; `timeout` guards against a SYN that
# never gets an answer.
port_open() {
  local port="$1"
  # shellcheck disable=SC2016 # $1 is expanded by the inner bash, on purpose
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && exec 3>&-' _ "${port}" \
    >/dev/null 2>&1
}

# lock_component NAME: serialise fetch/start/stop of one component, since
# several developers' tools (or parallel test runs) may call `up` at once.
# Held on fd 9 until the calling script exits.
lock_component() {
  command -v flock >/dev/null 2>&1 || return 0 # best effort without util-linux
  mkdir -p "${SHKALA_RUN_DIR}"
  exec 9>"${SHKALA_RUN_DIR}/$1.lock"
  flock -w 900 9 || die "timed out waiting for ${SHKALA_RUN_DIR}/$1.lock (another start/fetch still running?)"
}

# --- pid files -------------------------------------------------------------
# A pid file alone is not proof: after a reboot or a crash the pid may belong
# to an unrelated process, so the command line must also contain MARKER.

pid_file() { printf '%s/%s.pid' "${SHKALA_RUN_DIR}" "$1"; }

# running_pid NAME MARKER: print the live pid of NAME, or fail (and drop a stale
# pid file).
running_pid() {
  local name="$1" marker="$2" file pid
  file="$(pid_file "${name}")"
  [[ -f "${file}" ]] || return 1
  pid="$(<"${file}")"
  if [[ "${pid}" =~ ^[0-9]+$ ]] && kill -0 "${pid}" 2>/dev/null &&
    tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -qF -- "${marker}"; then
    printf '%s\n' "${pid}"
    return 0
  fi
  warn "removing stale pid file ${file} (pid ${pid:-?} is not ${name})"
  rm -f "${file}"
  return 1
}

# stop_pid NAME MARKER [GRACE_SECONDS]: SIGTERM, wait, then SIGKILL. Not
# running is success so `down` is idempotent.
stop_pid() {
  local name="$1" marker="$2" grace="${3:-30}" pid i
  if ! pid="$(running_pid "${name}" "${marker}")"; then
    say "${name} is not running"
    return 0
  fi
  say "stopping ${name} (pid ${pid})"
  kill -TERM "${pid}" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "${pid}" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "${pid}" 2>/dev/null; then
    warn "${name} did not exit within ${grace}s; sending SIGKILL"
    kill -KILL "${pid}" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$(pid_file "${name}")"
  say "${name} stopped"
}

# spawn NAME LOGFILE CMD...: start CMD detached (own session, no stdin) so it
# outlives the calling shell / make, and record its pid.
spawn() {
  local name="$1" log="$2"
  shift 2
  # Keep the previous run's log for post-mortems; one generation is enough.
  [[ -f "${log}" ]] && mv -f "${log}" "${log}.1"
  # 9>&-: the lock fd from lock_component must not leak into the daemon, or
  # the lock would be held for the server's whole lifetime.
  # The daemon writes its own pid, then execs: when the caller leads a process group
  # (job control on), setsid forks and `$!` would be the parent that already exited.
  local file i
  file="$(pid_file "${name}")"
  rm -f "${file}"
  setsid bash -c 'printf "%s\n" "$$" >"$0"; exec "$@"' "${file}" "$@" \
    </dev/null >>"${log}" 2>&1 9>&- &
  for ((i = 0; i < 50; i++)); do
    [[ -s "${file}" ]] && return 0
    sleep 0.1
  done
  die "${name} did not start (no pid written to ${file})"
}

# wait_healthy NAME MARKER TIMEOUT LOGFILE HEALTH_FN: poll HEALTH_FN until it
# succeeds; fail fast if the process died, otherwise fail after TIMEOUT with
# the log tail so the cause is visible without hunting for the file.
wait_healthy() {
  local name="$1" marker="$2" limit="$3" log="$4" fn="$5" start=${SECONDS}
  while ((SECONDS - start < limit)); do
    if ! running_pid "${name}" "${marker}" >/dev/null 2>&1; then
      printf '%s\n' "--- last 30 lines of ${log} ---" >&2
      tail -n 30 "${log}" >&2 || true
      die "${name} exited during startup (see ${log})"
    fi
    if "${fn}" >/dev/null 2>&1; then
      say "${name} healthy after $((SECONDS - start))s"
      return 0
    fi
    sleep 1
  done
  printf '%s\n' "--- last 30 lines of ${log} ---" >&2
  tail -n 30 "${log}" >&2 || true
  # Do not leave a half-started server holding the ports: the next `start`
  # should begin from a clean slate.
  stop_pid "${name}" "${marker}" 10 >&2 || true
  die "${name} not healthy after ${limit}s (see ${log})"
}
