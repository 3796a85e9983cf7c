#!/usr/bin/env bash
# Bounded fuzzing of every reader of untrusted input: the proptest targets in tests/fuzz.rs
# (every test there except the plain `every_…` checks), in release, each for a fixed time.
#
#   scripts/fuzz.sh                     each target for FUZZ_SECONDS (default 60) seconds
#   FUZZ_SECONDS=600 scripts/fuzz.sh    longer
#   SMOKE=1 scripts/fuzz.sh             3 seconds per target in the debug build, for CI
#   scripts/fuzz.sh audit import        only targets whose names contain one of the words
#
# `cargo test` runs the same targets with a fixed seed (the same cases every run); here each
# batch draws from a new random seed, written to the target's log. A target runs in
# batches: each batch sets PROPTEST_CASES to fill the time left at the rate seen so far,
# and the script prints per target the cases run and whether it failed;
# it exits non-zero when any target failed. Cases run in a child process (PROPTEST_FORK)
# with a time limit each (CASE_TIMEOUT_MS, default 10000), so a hang is a failure with its
# input, like a panic. Release builds turn off overflow checks and debug assertions; they are
# turned back on for this crate, so an overflow panics here as it does in a debug build.
#
# Where failures land: the minimal failing input is written to target/fuzz-failures/
# (`parse-failure.txt`, `audit-failure/` with the export as a folder and a zip, …; the
# failure message names the path), proptest saves its seed in proptest-regressions/fuzz.txt
# (committed: every later run replays it first, cargo test's included), and the whole output
# is kept in target/fuzz-logs/. Make it a regression test: copy the input into
# tests/fixtures/fuzz-regressions/ as `<target>-<what>.<ext>` (the README there gives each
# target's format), fix the reader, check that `cargo test --test fuzz` passes, and commit
# the input with the seed line.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
if [[ -n "${SMOKE:-}" && -z "${FUZZ_SECONDS:-}" ]]; then
  seconds=3
fi
case_timeout_ms=${CASE_TIMEOUT_MS:-10000}
logs=target/fuzz-logs
mkdir -p "$logs"

if [[ -n "${SMOKE:-}" ]]; then
  # The debug build `cargo test` has already made: no release build for a short run.
  profile=()
  echo "== building tests/fuzz.rs (debug)"
else
  profile=(
    --release
    --config 'profile.release.package.async-norms.overflow-checks=true'
    --config 'profile.release.package.async-norms.debug-assertions=true'
  )
  echo "== building tests/fuzz.rs (release, overflow checks on)"
fi
build_log="$logs/build.log"
if ! cargo test "${profile[@]}" --test fuzz --no-run >"$build_log" 2>&1; then
  cat "$build_log" >&2
  echo "the fuzz targets do not build" >&2
  exit 1
fi
binary=$(grep -oE 'target/(release|debug)/deps/fuzz-[0-9a-f]+' "$build_log" | tail -n 1)
if [[ -z "$binary" || ! -x "$binary" ]]; then
  echo "cannot find the fuzz test binary in $build_log" >&2
  exit 1
fi

mapfile -t targets < <("$binary" --list 2>/dev/null | sed -n 's/: test$//p' | grep -Ev '(^|::)every_')
if (($# > 0)); then
  wanted=()
  for target in "${targets[@]}"; do
    for word in "$@"; do
      [[ "$target" == *"$word"* ]] && { wanted+=("$target"); break; }
    done
  done
  targets=("${wanted[@]}")
fi
if ((${#targets[@]} == 0)); then
  echo "no fuzz target matches: $*" >&2
  exit 1
fi

now_ms() { date +%s%3N; }

failed=0
printf '== %d fuzz target(s), %ss each\n' "${#targets[@]}" "$seconds"
for target in "${targets[@]}"; do
  log="$logs/${target//::/-}.log"
  : >"$log"
  budget_ms=$((seconds * 1000))
  start=$(now_ms)
  cases=0
  batch=32
  verdict=ok
  while :; do
    elapsed=$(($(now_ms) - start))
    left=$((budget_ms - elapsed))
    ((left > 0)) || break
    # A batch is sized to take about the time left; three times that (and at least a
    # minute) means something hangs beyond what one case's limit catches.
    limit=$(((left * 3) / 1000 + 60))
    # cargo test draws from a fixed seed; exploring means a new one for every batch.
    seed=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
    echo "== batch of $batch cases, PROPTEST_RNG_SEED=$seed" >>"$log"
    PROPTEST_CASES=$batch PROPTEST_RNG_SEED=$seed PROPTEST_FORK=true PROPTEST_TIMEOUT=$case_timeout_ms RUST_BACKTRACE=0 \
      timeout "$limit" "$binary" --exact "$target" --test-threads 1 >>"$log" 2>&1
    status=$?
    if ((status != 0)); then
      verdict=FAILED
      ((status == 124)) && verdict="FAILED (no answer within ${limit}s)"
      successes=$(grep -o 'successes: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$')
      cases=$((cases + ${successes:-0}))
      break
    fi
    cases=$((cases + batch))
    elapsed=$(($(now_ms) - start))
    left=$((budget_ms - elapsed))
    ((left > 500)) || break
    batch=$((cases * left / (elapsed > 0 ? elapsed : 1)))
    ((batch < 16)) && batch=16
  done
  elapsed=$(($(now_ms) - start))
  printf '%-82s %9d cases in %3ds  %s\n' "$target" "$cases" $((elapsed / 1000)) "$verdict"
  if [[ "$verdict" != ok ]]; then
    failed=1
    # Once more in-process: the saved seed runs first, with the panic's own message.
    replay="$log.replay"
    PROPTEST_CASES=1 RUST_BACKTRACE=0 timeout 120 "$binary" --exact "$target" --test-threads 1 \
      >"$replay" 2>&1
    shown=$(grep -E -A12 'Test (failed|aborted)' "$replay" || grep -E -A12 'Test (failed|aborted)' "$log")
    head -n 24 <<<"$shown" | sed 's/^/    /'
    echo "    input in target/fuzz-failures/, output in $log{,.replay}, seed in proptest-regressions/fuzz.txt"
  fi
done

if ((failed)); then
  echo "== fuzzing found failures; see above"
  exit 1
fi
echo "== no failures"
