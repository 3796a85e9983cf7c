# Shared by the bench scripts (sourced, not run): the processes they start and their ports.
# Expects BIN (the release folder), EMULATOR_PORT and, for `metric`, APP_PORT.

PIDS=()
# A command prefix for the emulator (and whatever else a script starts beside the bot), to
# keep them off the bot's core; empty runs them anywhere.
AWAY=()
cleanup() { for pid in "${PIDS[@]:-}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# Refuses to start beside a leftover process: its answers would be taken for ours.
port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    echo "port $1 is in use: stop what listens there first" >&2
    exit 1
  fi
}

wait_port() {
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  return 1
}

# Starts the Slack emulator, its output appended to $1; sets EMULATOR_PID. Stopped with
# SIGINT, it prints `calls <method> <count>` lines.
start_emulator() {
  port_free "$EMULATOR_PORT"
  "${AWAY[@]}" "$BIN/examples/slack_emulator" --port "$EMULATOR_PORT" >>"$1" 2>&1 &
  EMULATOR_PID=$!
  PIDS+=("$EMULATOR_PID")
  wait_port "$EMULATOR_PORT"
}

# A metric of the bot, summed over its labels.
metric() {
  { exec 3<>"/dev/tcp/127.0.0.1/$APP_PORT" && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3; } |
    awk -v m="$1" '$1 == m || index($1, m "{") == 1 {sum += $2} END {print sum + 0}'
}

# This disk's fsync latency: 4 KiB appends to the file $1, 250 a second for 4 s (a one-burst
# probe misses a disk's stalls). Prints p50, p99, max and how many took over 10 ms. Runs
# off the bot's core when AWAY says so.
fsync_probe() {
  "${AWAY[@]}" python3 - "$1" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
took = []
for _ in range(1000):
    os.write(fd, b"x" * 4096)
    start = time.perf_counter()
    os.fsync(fd)
    took.append((time.perf_counter() - start) * 1000)
    time.sleep(max(0.0, 0.004 - (time.perf_counter() - start)))
os.close(fd)
os.remove(sys.argv[1])
took.sort()
print(f"p50 {took[500]:.2f} ms, p99 {took[990]:.2f} ms, max {took[-1]:.2f} ms, over 10 ms: {sum(t > 10 for t in took)} of 1000")
PY
}
