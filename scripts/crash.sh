#!/usr/bin/env bash
# `kill -9` at random moments under load, many rounds, in release: the long run of the test
# `random_kill_9s_under_load_…` in tests/crash.rs (`cargo test` runs it with 3 rounds).
#
#   scripts/crash.sh                # 50 rounds, a fresh seed
#   ROUNDS=500 scripts/crash.sh     # more rounds
#   SEED=123 scripts/crash.sh       # the kill moments of an earlier run again (the load's
#                                   # interleaving is the scheduler's, so not bit for bit)
#
# Each round starts the bot binary on the same data folder, sends signed app_mention events
# (one chat.postMessage each), `/async hours set` writes and Slack's retries from several
# tasks, and kills the bot after a random number of answered events plus up to 30 ms.
# After the last round the bot starts once more, receives Slack's retries of everything
# never answered, drains its journal and stops; then every event answered 200 must have
# been posted exactly once (a second copy is allowed only when the first reached Slack at
# most 100 ms before a kill), and every hours write answered "Saved." must be in
# `async-norms export`.
#
# It prints the seed, a summary line (rounds, kills, events sent, answered on first
# delivery or only on a retry, retries of answered events, hours writes saved, duplicates
# within the kill window and how far before its kill the earliest of them was), then the
# wall time. A failure names the seed, the round and the event id. The exit status is the
# test's. The first run builds the release test binary (a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."

export ASYNC_NORMS_CRASH_ROUNDS="${ROUNDS:-50}"
# A new seed each run (cargo test keeps a fixed one); SEED replays an earlier run's.
export ASYNC_NORMS_CRASH_SEED="${SEED:-$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')}"

echo "== building the crash test (release)"
built=$(cargo test --release --test crash --no-run 2>&1) || { echo "$built"; exit 1; }
echo "$built" | tail -n 2
# Run the built binary itself, so the time below is the test's, not a rebuild's.
test_binary=$(echo "$built" | sed -n 's/.*Executable tests\/crash.rs (\(.*\))$/\1/p')
if [[ -z "$test_binary" ]]; then
  echo "cannot find the crash test binary in cargo's output" >&2
  exit 1
fi

echo "== $ASYNC_NORMS_CRASH_ROUNDS rounds of kill -9 under load"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
started=$(date +%s.%N)
status=0
RUST_BACKTRACE=0 "$test_binary" random_kill_9s --nocapture 2>&1 | tee "$log" || status=$?
finished=$(date +%s.%N)

echo "== summary"
grep '^crash test:' "$log" || echo "the test printed no summary (see above)"
awk -v a="$started" -v b="$finished" 'BEGIN { printf "wall time: %.1f s (the build before excluded)\n", b - a }'
if [[ $status -eq 0 ]]; then
  echo "result: passed"
else
  echo "result: FAILED (exit $status); the lines starting BUG above name what broke"
fi
exit "$status"
