# Shared by the bench scripts (sourced, not run): the processes they start and their ports.
# Expects BIN (the release folder) and EMULATOR_PORT.

PIDS=()
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
  "$BIN/examples/slack_emulator" --port "$EMULATOR_PORT" >>"$1" 2>&1 &
  EMULATOR_PID=$!
  PIDS+=("$EMULATOR_PID")
  wait_port "$EMULATOR_PORT"
}
