#!/usr/bin/env bash
# Lines of production code under src/: `#[cfg(test)]` items left out. Prints the files'
# lines (all, then without blank and comment lines) and the total.
#   scripts/prod-lines.sh          # total only
#   scripts/prod-lines.sh -v       # per file, largest last
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/prod-files.sh | xargs awk -f scripts/prod-code.awk |
  awk -F '\t' -v verbose="${1:-}" '
    { all[$1]++; total++ }
    $2 !~ /^[ ]*$/ && $2 !~ /^[ ]*\/\// { code[$1]++; code_total++ }
    END {
      if (verbose == "-v") for (f in all) printf "%6d %6d %s\n", all[f], code[f], f | "sort -n"
      close("sort -n")
      printf "%6d %6d production lines in src/ (all; without blank and comment lines)\n", total, code_total
    }'
