#!/usr/bin/env bash
# Start, stop and check the five Shkala services as background processes (make up / make down).
# Pids in .local/run, logs in .local/logs; `start` returns when every /ready answers 200.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="${SHKALA_LOCAL_DIR:-$ROOT/.local}"
RUN="$LOCAL/run"
LOGS="$LOCAL/logs"
SERVICES=(ingest:8001 indicators:8002 plans:8003 notify:8004 web:8005)
READY_TIMEOUT="${SHKALA_READY_TIMEOUT:-90}"
# The demo region's id (deploy/demo): tokens and data must name the region the services serve.
export SHKALA_REGION_ID="${SHKALA_REGION_ID:-99}"

mkdir -p "$RUN" "$LOGS"

running() { [[ -f "$RUN/$1.pid" ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

ready() { curl -fs -o /dev/null --max-time 3 "http://127.0.0.1:$1/ready"; }

start() {
  cd "$ROOT"
  for entry in "${SERVICES[@]}"; do
    name="${entry%%:*}"; port="${entry##*:}"
    if running "$name"; then echo "  $name already running (pid $(cat "$RUN/$name.pid"))"; continue; fi
    # Local run only: notify may deliver webhooks to loopback receivers (make demo's on :8099).
    extra=()
    [[ "$name" == notify ]] && extra=("SHKALA_WEBHOOK_ALLOW_NETWORKS=${SHKALA_WEBHOOK_ALLOW_NETWORKS:-[\"127.0.0.0/8\"]}")
    # setsid: the service survives the shell that started it; one process group to stop.
    env ${extra[@]+"${extra[@]}"} SHKALA_HTTP_PORT="$port" setsid uv run --frozen python -m "shkala_$name" \
      >>"$LOGS/$name.log" 2>&1 < /dev/null &
    echo $! >"$RUN/$name.pid"
    echo "  $name starting on :$port (log $LOGS/$name.log)"
  done
  deadline=$((SECONDS + READY_TIMEOUT))
  for entry in "${SERVICES[@]}"; do
    name="${entry%%:*}"; port="${entry##*:}"
    until ready "$port"; do
      if ! running "$name"; then
        echo "ERROR: $name exited before it was ready; last lines of $LOGS/$name.log:" >&2
        tail -n 30 "$LOGS/$name.log" >&2; exit 1
      fi
      if (( SECONDS > deadline )); then
        echo "ERROR: $name not ready on :$port after ${READY_TIMEOUT}s; see $LOGS/$name.log" >&2
        curl -sS --max-time 3 "http://127.0.0.1:$port/ready" >&2 || true
        exit 1
      fi
      sleep 0.5
    done
    echo "  $name ready: http://127.0.0.1:$port/docs"
  done
}

stop() {
  for entry in "${SERVICES[@]}"; do
    name="${entry%%:*}"
    if running "$name"; then
      pid="$(cat "$RUN/$name.pid")"
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -KILL -- "-$pid" 2>/dev/null || true
      echo "  $name stopped"
    fi
    rm -f "$RUN/$name.pid"
  done
}

status() {
  for entry in "${SERVICES[@]}"; do
    name="${entry%%:*}"; port="${entry##*:}"
    if running "$name"; then
      if ready "$port"; then s=ready; else s="running, not ready"; fi
    else s=stopped; fi
    printf '  %-11s :%s  %s\n' "$name" "$port" "$s"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 {start|stop|status}" >&2; exit 2 ;;
esac
