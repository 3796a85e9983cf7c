#!/usr/bin/env bash
# Side by side: async-norms, a Bolt for JavaScript app and a Bolt for Python app doing the
# same job (verify, acknowledge, flag urgency words, chat.postEphemeral to the sender)
# against the same local Slack emulator, under the same load, one after the other, on this
# machine. Everything runs on 127.0.0.1 and stops by itself.
#
#   bench/compare.sh            # full run (about 10 minutes)
#   QUICK=1 bench/compare.sh    # shorter steps, for a smoke run
#
# Prints one table: max sustained events/s with p99 ack under 10 ms, latency at a fixed
# 1,000 events/s, peak RSS after that step (the same load for every app) and after the whole
# run, CPU seconds per 10,000 events, and each app's ratios to async-norms.
#
# async-norms flushes every event to disk before it answers; the Bolt apps keep nothing. So
# async-norms runs twice: with its data on the disk under target/, and with its data on tmpfs
# (/dev/shm, where the same fsync calls return at once). The script also measures this
# disk's fsync latency over a few seconds: where the two async-norms rows differ, the disk's
# stalls set the limit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK="$ROOT/target/peers"
EMULATOR_PORT=4100
APP_PORT=3100
SECRET=bench-secret
STEP_SECONDS=${STEP_SECONDS:-4}
[ -n "${QUICK:-}" ] && STEP_SECONDS=2
mkdir -p "$WORK"

echo "== building async-norms and the tools" >&2
cargo build --release --quiet --bin async-norms --example load --example slack_emulator
BIN="$ROOT/target/release"
# shellcheck source=bench/lib.sh
source bench/lib.sh

echo "== installing the peers from the registries" >&2
rm -rf "$WORK/bolt-js" && cp -r bench/peers/bolt-js "$WORK/bolt-js"
(cd "$WORK/bolt-js" && npm install --silent --no-audit --no-fund >/dev/null 2>&1)
if [ ! -x "$WORK/bolt-python/venv/bin/python" ]; then
  python3 -m venv "$WORK/bolt-python/venv"
fi
"$WORK/bolt-python/venv/bin/pip" install --quiet -r bench/peers/bolt-python/requirements.txt
cp bench/peers/bolt-python/app.py "$WORK/bolt-python/app.py"

cpu_seconds() { awk -v t="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / t}' "/proc/$1/stat"; }
peak_rss_mb() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
load() { "$BIN/examples/load" --url "http://127.0.0.1:$APP_PORT" --secret "$SECRET" --max-seconds 60 "$@"; }
field() { awk -v k="$1" '$1 == k {print $2}'; }

# A fresh emulator for each app, so its count of calls is that app's.
rm -f "$WORK"/emulator-*.log
# Stops the emulator and sets CALLS to the calls of method $2 it received (from its log, $1).
stop_emulator() {
  kill -INT "$EMULATOR_PID" && wait "$EMULATOR_PID" 2>/dev/null || true
  CALLS=$(awk -v m="$2" '$1 == "calls" && $2 == m {print $3}' "$1")
  CALLS=${CALLS:-0}
}

start_emulator "$WORK/emulator-alone.log"
export SLACK_API_URL="http://127.0.0.1:$EMULATOR_PORT/api" SLACK_BOT_TOKEN=xoxb-bench SLACK_SIGNING_SECRET="$SECRET"

echo "== the emulator alone (chat.postEphemeral, as fast as it answers)" >&2
EMU=$("$BIN/examples/load" --url "http://127.0.0.1:$EMULATOR_PORT/api" --target ephemeral --count 20000 --concurrency 32)
EMULATOR_RATE=$(echo "$EMU" | field answered_per_s)
stop_emulator "$WORK/emulator-alone.log" chat.postEphemeral

start_app() {
  port_free "$APP_PORT"
  case "$1" in
    async-norms | async-norms-tmpfs)
      local data="$WORK/data"
      [ "$1" = async-norms-tmpfs ] && data="$TMPFS_DATA"
      rm -rf "$data"
      ASYNC_NORMS_LISTEN="127.0.0.1:$APP_PORT" ASYNC_NORMS_DATA_DIR="$data" RUST_LOG=error \
        "$BIN/async-norms" serve >"$WORK/$1.log" 2>&1 &
      ;;
    bolt-js)
      (cd "$WORK/bolt-js" && PORT=$APP_PORT exec node app.js) >"$WORK/$1.log" 2>&1 &
      ;;
    bolt-python)
      (cd "$WORK/bolt-python" && PORT=$APP_PORT exec venv/bin/python app.py) >"$WORK/$1.log" 2>&1 &
      ;;
  esac
  APP_PID=$!
  PIDS+=("$APP_PID")
  wait_port "$APP_PORT"
}

APPS=(async-norms bolt-js bolt-python)
TMPFS_DATA=/dev/shm/async-norms-bench
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  APPS=(async-norms async-norms-tmpfs bolt-js bolt-python)
  trap 'cleanup; rm -rf "$TMPFS_DATA"' EXIT
fi

echo "== this disk's fsync latency (4 KiB appends, 250 a second for 4 s)" >&2
FSYNC=$(fsync_probe "$WORK/fsync.probe")

RESULTS="$WORK/results.tsv"
printf 'app\tmax_rate\tp50_1k\tp99_1k\tmax_1k\trss_1k\trss_mb\tcpu_per_10k\tevents\tnotes\n' >"$RESULTS"
for APP in "${APPS[@]}"; do
  echo "== $APP" >&2
  start_emulator "$WORK/emulator-$APP.log"
  start_app "$APP"
  load --count 2000 --concurrency 16 >/dev/null # warm-up
  CPU_BEFORE=$(cpu_seconds "$APP_PID")
  AT_1K=$(load --rate 1000 --count $((1000 * STEP_SECONDS * 2)) --concurrency 64)
  CPU_AFTER=$(cpu_seconds "$APP_PID")
  RSS_1K=$(peak_rss_mb "$APP_PID")
  ANSWERED_1K=$(echo "$AT_1K" | field answered)
  CPU_PER_10K=$(awk -v a="$CPU_BEFORE" -v b="$CPU_AFTER" -v n="$ANSWERED_1K" 'BEGIN {printf "%.2f", (b - a) * 10000 / (n > 0 ? n : 1)}')
  MAX_RATE=0
  EVENTS=$((2000 + ANSWERED_1K))
  for RATE in 250 500 1000 2000 3000 4000 6000 8000 12000 16000 24000; do
    STEP=$(load --rate "$RATE" --count $((RATE * STEP_SECONDS)) --concurrency 128)
    P99=$(echo "$STEP" | field p99_ms)
    ERRORS=$(echo "$STEP" | field errors)
    ANSWERED=$(echo "$STEP" | field answered)
    EVENTS=$((EVENTS + ANSWERED))
    echo "   $RATE/s: p99 ${P99} ms, answered $ANSWERED, errors $ERRORS" >&2
    if awk -v p="$P99" 'BEGIN {exit !(p < 10)}' && [ "$ERRORS" = 0 ] && [ "$ANSWERED" = $((RATE * STEP_SECONDS)) ]; then
      MAX_RATE=$RATE
    else
      break
    fi
  done
  RSS_MB=$(peak_rss_mb "$APP_PID")
  kill "$APP_PID" && wait "$APP_PID" 2>/dev/null || true
  stop_emulator "$WORK/emulator-$APP.log" chat.postEphemeral
  NOTES=$CALLS
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$APP" "$MAX_RATE" \
    "$(echo "$AT_1K" | field p50_ms)" "$(echo "$AT_1K" | field p99_ms)" "$(echo "$AT_1K" | field max_ms)" \
    "$RSS_1K" "$RSS_MB" "$CPU_PER_10K" "$EVENTS" "$NOTES" >>"$RESULTS"
done

python3 - "$RESULTS" "$EMULATOR_RATE" "$FSYNC" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
ours = rows[0]
print(f"emulator alone: {sys.argv[2]} chat.postEphemeral answers/s")
print(f"this disk's fsync: {sys.argv[3]}\n")
print("| app | max events/s (p99 < 10 ms) | p50 / p99 / max ms at 1,000/s | peak RSS MB after 1,000/s / after all | CPU s per 10k events | events/s vs async-norms | RSS after 1,000/s vs async-norms | CPU per event vs async-norms | events sent / notes posted |")
print("|---|---|---|---|---|---|---|---|---|")
names = {"async-norms-tmpfs": "async-norms, data on tmpfs"}
for row in rows:
    rate_ratio = f'{float(row["max_rate"]) / float(ours["max_rate"]):.2f}x' if float(ours["max_rate"]) > 0 else "–"
    rss_ratio = float(row["rss_1k"]) / max(float(ours["rss_1k"]), 0.1)
    cpu_ratio = float(row["cpu_per_10k"]) / max(float(ours["cpu_per_10k"]), 0.01)
    print(f"| {names.get(row['app'], row['app'])} | {row['max_rate']} | {row['p50_1k']} / {row['p99_1k']} / {row['max_1k']} | {row['rss_1k']} / {row['rss_mb']} | {row['cpu_per_10k']} | {rate_ratio} | {rss_ratio:.1f}x | {cpu_ratio:.1f}x | {row['events']} / {row['notes']} |")
PY
