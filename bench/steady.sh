#!/usr/bin/env bash
# Steady under load: the load tool's mix (signed message events, 20 % mentioning a member,
# 10 % urgent) at a fixed rate against the bot pinned to one core, then how the work after
# the 200s drains. Everything runs on 127.0.0.1 and stops by itself.
#
#   bench/steady.sh                      # 100,000 events at 5,000/s
#   EVENTS=1000000 bench/steady.sh       # the data folder after a long run
#   CORE=1 bench/steady.sh               # pin the bot to another core (the load tool and
#                                        # the emulator run on the others)
#   BASELINE=/path/to/async-norms bench/steady.sh   # CPU at 1,000/s of another build too
#   BASELINE="/a/async-norms /b/async-norms" …       # of several, each in turn
#   ONLY=steady bench/steady.sh          # only the 1,000/s part (and the disk's fsync)
#   MMAP_THRESHOLD=33554432 bench/steady.sh   # glibc's mmap threshold other than shipped
#
# Prints: acknowledgements (p50/p99), seconds from the last event until nothing waits (the
# journal and the outbox), the drain rate, notes sent and dropped as too late, peak RSS, the
# data folder once drained and a minute later; RSS of a fresh start, and of a start on a data
# folder holding 100,000 events journaled and not handled (written with `import`, as a crash
# leaves them) while it drains them; CPU seconds per 10,000 events at a steady 1,000/s with
# its p99 acknowledgement and the disk's fsync latency measured during it, and the intake
# rate of a 20,000-event burst sent as fast as the load tool can (each build given in
# BASELINE too); and this disk's fsync latency on its own, at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK="$ROOT/target/steady"
EMULATOR_PORT=4300
APP_PORT=3300
SECRET=bench-secret
EVENTS=${EVENTS:-100000}
RATE=${RATE:-5000}
CORE=${CORE:-0}
PENDING=${PENDING:-100000}
# glibc's mmap threshold for the bot, as deploy/async-norms.service and the Dockerfile set it.
MMAP_THRESHOLD=${MMAP_THRESHOLD:-131072}
rm -rf "$WORK" && mkdir -p "$WORK"

echo "== building async-norms and the tools" >&2
cargo build --release --quiet --bin async-norms --example load --example slack_emulator
BIN="$ROOT/target/release"
# shellcheck source=bench/lib.sh
source bench/lib.sh
# The load tool and the emulator run on the other cores, so that the bot's core measures the
# bot alone.
OTHERS=$(seq 0 $(($(nproc) - 1)) | { grep -vx "$CORE" || true; } | paste -sd, -)
if [ -n "$OTHERS" ]; then AWAY=(taskset -c "$OTHERS"); fi

rss_mb() { awk -v k="$1:" '$1 == k {printf "%.1f", $2 / 1024}' "/proc/$BOT_PID/status"; }
cpu_seconds() { awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' "/proc/$BOT_PID/stat"; }
load() { "${AWAY[@]}" "$BIN/examples/load" --url "http://127.0.0.1:$APP_PORT" --secret "$SECRET" --max-seconds 600 "$@"; }
field() { awk -v k="$1" '$1 == k {print $2}'; }
folder_mb() { du -sm "$1" | cut -f1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}'; }

# Starts the bot on data folder $1, pinned to one core; the build $2 if given.
start_bot() {
  port_free "$APP_PORT"
  SLACK_API_URL="http://127.0.0.1:$EMULATOR_PORT/api" SLACK_BOT_TOKEN=xoxb-bench SLACK_SIGNING_SECRET="$SECRET" \
    ASYNC_NORMS_LISTEN="127.0.0.1:$APP_PORT" ASYNC_NORMS_DATA_DIR="$1" RUST_LOG=error \
    MALLOC_MMAP_THRESHOLD_="$MMAP_THRESHOLD" \
    taskset -c "$CORE" "${2:-$BIN/async-norms}" serve >>"$WORK/bot.log" 2>&1 &
  BOT_PID=$!
  PIDS+=("$BOT_PID")
  wait_port "$APP_PORT"
}
stop_bot() { kill -INT "$BOT_PID" && wait "$BOT_PID" 2>/dev/null || true; }

# Seconds between two looks at the bot's metrics while waiting: each look costs the bot
# about 0.1 ms of CPU, so the CPU measurement looks once a second (see steady_cpu).
POLL=0.2
# Waits until the metric $1 is zero, at most $2 seconds after the moment $3 (now if not
# given); prints the seconds from that moment.
wait_zero() {
  local from=${3:-$(now)}
  while [ "$(metric "$1")" != 0 ] && [ "$(awk -v s="$(since "$from")" -v m="$2" 'BEGIN {print (s < m)}')" = 1 ]; do
    sleep "$POLL"
  done
  since "$from"
}
# Waits until nothing waits in the journal or the outbox, at most $1 seconds; prints the
# seconds it took.
wait_drained() {
  local from
  from=$(now)
  wait_zero async_norms_events_pending "$1" "$from" >/dev/null
  wait_zero async_norms_notes_waiting "$1" "$from"
}

start_emulator "$WORK/emulator.log"
if [ "${ONLY:-}" != steady ]; then
start_bot "$WORK/data"
sleep 1
echo "fresh start: RSS $(rss_mb VmRSS) MB"
load --count 2000 --concurrency 16 >/dev/null
wait_drained 60 >/dev/null
STEADY_MB=$(folder_mb "$WORK/data")

echo "== $EVENTS events at $RATE/s" >&2
started=$(now)
RUN=$(load --rate "$RATE" --count "$EVENTS" --concurrency 128)
load_s=$(since "$started")
last=$(now)
after_last=$(wait_zero async_norms_events_pending 300 "$last")
total_s=$(since "$started")
outbox_after_last=$(wait_zero async_norms_notes_waiting 300 "$last")
echo "acks: $(echo "$RUN" | field answered) answered, $(echo "$RUN" | field errors) errors, p50 $(echo "$RUN" | field p50_ms) ms, p99 $(echo "$RUN" | field p99_ms) ms, max $(echo "$RUN" | field max_ms) ms over ${load_s} s"
echo "every event handled ${after_last} s after the last one (waiting: $(metric async_norms_events_pending)); drain rate $(awk -v n="$EVENTS" -v s="$total_s" 'BEGIN {printf "%.0f", n / s}') events/s from the first event; outbox empty ${outbox_after_last} s after the last event (waiting: $(metric async_norms_notes_waiting) calls)"
echo "handled $(metric async_norms_events_handled_total), failed $(metric async_norms_events_failed_total); notes sent $(metric 'async_norms_slack_api_calls_total{method="chat.postEphemeral"}'), dropped as too late $(metric async_norms_notes_expired_total); users.info calls $(metric 'async_norms_slack_api_calls_total{method="users.info"}')"
echo "peak RSS $(rss_mb VmHWM) MB; data folder ${STEADY_MB} MB before, $(folder_mb "$WORK/data") MB drained"
sleep 60
echo "data folder a minute later: $(folder_mb "$WORK/data") MB"
stop_bot
fi

# CPU seconds per 10,000 events at a steady 1,000/s and the ack p99, for the bot just
# started (after 2,000 events to warm it up).
steady_cpu() {
  load --count 2000 --concurrency 16 >/dev/null
  wait_drained 60 >/dev/null
  local cpu_before cpu_after run
  cpu_before=$(cpu_seconds)
  # The disk's own fsync, measured while the bot writes to it (the probe's 4 s inside the 10).
  fsync_probe "$WORK/fsync-alongside.probe" >"$WORK/fsync-alongside.txt" &
  local probe=$!
  run=$(load --rate 1000 --count 10000 --concurrency 64)
  wait "$probe"
  # Looking every 0.2 s for the two minutes the outbox drains would add ~0.06 s of scrapes.
  POLL=1 wait_drained 120 >/dev/null
  cpu_after=$(cpu_seconds)
  local burst started
  started=$(now)
  burst=$(load --count 20000 --concurrency 128)
  echo "CPU $(awk -v a="$cpu_before" -v b="$cpu_after" 'BEGIN {printf "%.2f", b - a}') s per 10,000 events; ack p50 $(echo "$run" | field p50_ms) ms, p99 $(echo "$run" | field p99_ms) ms (from the send: p50 $(echo "$run" | field sent_p50_ms) ms, p99 $(echo "$run" | field sent_p99_ms) ms); intake of a 20,000 burst $(awk -v s="$(since "$started")" 'BEGIN {printf "%.0f", 20000 / s}') events/s (ack p99 $(echo "$burst" | field p99_ms) ms); the disk's fsync meanwhile: $(cat "$WORK/fsync-alongside.txt")"
}

echo "== steady 1,000/s for 10 s, then a burst" >&2
start_bot "$WORK/steady"
echo "1,000/s, this build: $(steady_cpu)"
stop_bot
index=0
for baseline in ${BASELINE:-}; do
  index=$((index + 1))
  start_bot "$WORK/steady-baseline-$index" "$baseline"
  echo "1,000/s, $baseline: $(steady_cpu)"
  stop_bot
done

if [ "${ONLY:-}" != steady ]; then
echo "== a restart with $PENDING events journaled and not handled" >&2
python3 - "$WORK/pending.jsonl" "$PENDING" <<'PY'
import json, sys
# The load tool's events, journaled as a build that kept Slack's body did: the bot reads
# them as its intake would.
out, count = sys.argv[1], int(sys.argv[2])
plain = ["see the notes from today's sync", "lunch at noon?", "the deploy went out"]
urgent = ["please review ASAP", "URGENT: can someone look at the build", "<!here> prod is slow"]
def share(index, salt, fraction):
    return ((index * 2654435761 + salt) % (2**64) % 10000) / 10000 < fraction
with open(out, "w") as f:
    f.write(json.dumps({"format": "async-norms-export", "schema_version": 1}) + "\n")
    for i in range(count):
        text = urgent[i % 3] if share(i, 7, 0.1) else plain[i % 3]
        if share(i, 13, 0.2):
            text = f"<@U{i % 200:04}> {text}"
        ts = f"{1_700_000_000 + i // 1000}.{i % 1_000_000:06}"
        body = {"token": "load", "team_id": "T111", "api_app_id": "A111", "type": "event_callback",
                "event_id": f"EvPending{i}", "event_time": 1_700_000_000,
                "event": {"type": "message", "channel": f"C{i % 50:04}", "user": f"U{(i * 7) % 200:04}",
                          "text": text, "ts": ts, "event_ts": ts, "channel_type": "channel"}}
        record = {"table": "journal_pending", "key": f"T111/EvPending{i}",
                  "value": {"seen_at": 1_700_000_000, "event": body}}
        f.write(json.dumps(record) + "\n")
PY
"$BIN/async-norms" import --data-dir "$WORK/pending" "$WORK/pending.jsonl" >/dev/null
echo "data folder with $PENDING pending: $(folder_mb "$WORK/pending") MB"
start_bot "$WORK/pending"
restart_drain=$(wait_drained 300)
echo "restart: drained $PENDING in ${restart_drain} s; peak RSS $(rss_mb VmHWM) MB, RSS now $(rss_mb VmRSS) MB; handled $(metric async_norms_events_handled_total)"
stop_bot
fi

echo "== this disk's fsync latency (4 KiB appends, 250 a second for 4 s)" >&2
echo "fsync: $(fsync_probe "$WORK/fsync.probe")"
