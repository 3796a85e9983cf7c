#!/usr/bin/env bash
# The Rust files of src/ that hold production code: all but those whose module is declared
# under `#[cfg(test)]` (`#[cfg(test)] mod entry_paths;`), which are tests.
set -euo pipefail
cd "$(dirname "$0")/.."
tests=$(find src -name '*.rs' | xargs awk '
  /^[ ]*#\[cfg\(test\)\]/ { pending = 1; next }
  pending && match($0, /^[ ]*(pub(\([a-z]+\))? )?mod [a-z_0-9]+;/) {
    name = $0; sub(/^.*mod /, "", name); sub(/;.*$/, "", name)
    dir = FILENAME; sub(/[^\/]*$/, "", dir)
    print dir name ".rs"
  }
  { pending = 0 }')
find src -name '*.rs' | sort | grep -vxF -f <(printf '%s\n' $tests /dev/null)
