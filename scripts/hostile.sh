#!/usr/bin/env bash
# Hostile clients against the real bot on loopback, in release: slow headers, slow bodies,
# garbage bytes and 10,000 idle connections, each phase while signed events keep coming
# (examples/hostile.rs). Starts the Slack emulator and the bot, runs the phases, prints the
# numbers and the bot's peak memory and its log lines about the listener, and stops both.
#
#   scripts/hostile.sh                          # 500 slow, 1,000 garbage, 10,000 idle
#   SLOW=100 GARBAGE=100 FLOOD=2000 scripts/hostile.sh
#   DEADLINE=10 MAX_CONNECTIONS=1024 FD_LIMIT=4096 scripts/hostile.sh
#
# The client needs about FLOOD file descriptors (it raises its soft limit as far as the
# hard one allows); the bot runs under `ulimit -n $FD_LIMIT`.
set -euo pipefail
cd "$(dirname "$0")/.."

SLOW="${SLOW:-500}"
GARBAGE="${GARBAGE:-1000}"
FLOOD="${FLOOD:-10000}"
DEADLINE="${DEADLINE:-10}"
MAX_CONNECTIONS="${MAX_CONNECTIONS:-1024}"
FD_LIMIT="${FD_LIMIT:-4096}"
EMULATOR_PORT="${EMULATOR_PORT:-4717}"
BOT_PORT="${BOT_PORT:-3717}"

echo "== building (release)"
cargo build --release --bin async-norms --example slack_emulator --example hostile 2>&1 | tail -n 1

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

target/release/examples/slack_emulator --port "$EMULATOR_PORT" >"$work/emulator.log" 2>&1 &
pids+=($!)
sleep 1
(
  ulimit -n "$FD_LIMIT"
  SLACK_API_URL="http://127.0.0.1:$EMULATOR_PORT/api" SLACK_BOT_TOKEN=xoxb-local \
    SLACK_SIGNING_SECRET=local ASYNC_NORMS_DATA_DIR="$work/data" \
    ASYNC_NORMS_LISTEN="127.0.0.1:$BOT_PORT" ASYNC_NORMS_REQUEST_DEADLINE="$DEADLINE" \
    ASYNC_NORMS_MAX_CONNECTIONS="$MAX_CONNECTIONS" RUST_LOG=warn NO_COLOR=1 \
    exec target/release/async-norms serve
) >"$work/bot.out" 2>"$work/bot.log" &
bot=$!
pids+=($bot)
for _ in $(seq 100); do
  grep -q "listening" "$work/bot.out" 2>/dev/null && break
  sleep 0.1
done

echo "== bot: request deadline ${DEADLINE} s, ${MAX_CONNECTIONS} connections at most, ulimit -n ${FD_LIMIT}"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
started=$(date +%s)
target/release/examples/hostile --addr "127.0.0.1:$BOT_PORT" --secret local \
  --slow "$SLOW" --garbage "$GARBAGE" --flood "$FLOOD" --patience $((DEADLINE * 3 + 30))
echo "== wall time $(( $(date +%s) - started )) s"
echo "== bot peak memory: $(grep VmHWM /proc/$bot/status | awk '{print $2, $3}'), now $(grep VmRSS /proc/$bot/status | awk '{print $2, $3}')"
echo "== /healthz: $(curl -s "http://127.0.0.1:$BOT_PORT/healthz")"
echo "== the bot's log about its listener ($(wc -l <"$work/bot.log") lines in all):"
grep -E "accept|connection limit" "$work/bot.log" || echo "  (none)"
