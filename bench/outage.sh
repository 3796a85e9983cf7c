#!/usr/bin/env bash
# Slack away for a while, at scale: the bot keeps taking events while the Slack emulator is
# down, then catches up once it is back. Prints ack latency during the outage, memory and
# disk while events wait, and how the backlog drains. Everything runs on 127.0.0.1.
#
#   bench/outage.sh                         # 25,000 events at 2,000/s while Slack is down
#   EVENTS=100000 RATE=2000 bench/outage.sh # a longer outage
#   DRAIN_SECONDS=600 bench/outage.sh       # wait longer for the backlog (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK="$ROOT/target/outage"
EMULATOR_PORT=4200
APP_PORT=3200
SECRET=bench-secret
EVENTS=${EVENTS:-25000}
RATE=${RATE:-2000}
DRAIN_SECONDS=${DRAIN_SECONDS:-300}
rm -rf "$WORK" && mkdir -p "$WORK"

echo "== building async-norms and the tools" >&2
cargo build --release --quiet --bin async-norms --example load --example slack_emulator
BIN="$ROOT/target/release"
# shellcheck source=bench/lib.sh
source bench/lib.sh

memory() { awk '/VmRSS|VmHWM/ {printf "%s %.1f MB  ", $1, $2 / 1024}' "/proc/$BOT_PID/status"; }
load() { "$BIN/examples/load" --url "http://127.0.0.1:$APP_PORT" --secret "$SECRET" --max-seconds 600 "$@"; }

start_emulator "$WORK/emulator.log"
port_free "$APP_PORT"
SLACK_API_URL="http://127.0.0.1:$EMULATOR_PORT/api" SLACK_BOT_TOKEN=xoxb-bench SLACK_SIGNING_SECRET="$SECRET" \
  ASYNC_NORMS_LISTEN="127.0.0.1:$APP_PORT" ASYNC_NORMS_DATA_DIR="$WORK/data" RUST_LOG=error \
  "$BIN/async-norms" serve >"$WORK/bot.log" 2>&1 &
BOT_PID=$!
PIDS+=("$BOT_PID")
wait_port "$APP_PORT"
load --count 2000 --concurrency 16 >/dev/null
echo "before the outage: $(memory)"

kill "$EMULATOR_PID" && wait "$EMULATOR_PID" 2>/dev/null || true
echo "== Slack down: $EVENTS events at $RATE/s" >&2
load --rate "$RATE" --count "$EVENTS" | tr -s ' \n' ' '
echo
echo "while Slack is down: $(memory)"
echo "  waiting $(metric async_norms_events_pending), in memory $(metric async_norms_events_queued), sent to disk $(metric async_norms_events_deferred_total); data folder $(du -sh "$WORK/data" | cut -f1)"

echo "== Slack back" >&2
start_emulator "$WORK/emulator.log"
started=$SECONDS
while [ "$(metric async_norms_events_pending)" != 0 ] && [ $((SECONDS - started)) -lt "$DRAIN_SECONDS" ]; do
  sleep 1
done
echo "after $((SECONDS - started)) s: waiting $(metric async_norms_events_pending), notes dropped as too late $(metric async_norms_notes_expired_total), failed $(metric async_norms_events_failed_total); $(memory)"
