#!/usr/bin/env bash
# The import graph between src/'s top-level modules, from every `crate::` path in production
# code (`use crate::…` and paths written inline; `#[cfg(test)]` items left out). Prints one
# `from -> to (n)` edge a line, n being the lines that name it, then the cycles: each set of
# modules that reach one another, then each line of the pure core (ARCHITECTURE.md's layers)
# that names Slack's wire types (`slack_morphism`) or a module outside the core.
#   scripts/module-graph.sh            # edges and cycles
#   scripts/module-graph.sh bot slack  # the lines behind the edge bot -> slack
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/prod-files.sh | xargs awk -f scripts/prod-code.awk |
  python3 -c '
import re, sys
from collections import defaultdict
edges, lines = defaultdict(int), defaultdict(list)
# The pure core: what it may import is itself and these; the command parser is core too.
CORE = {"hours", "norms", "checkins", "decision", "audit", "ids", "typed", "clock"}
CORE_FILES = {"src/commands/parse.rs"}
layer_breaks = []
for row in sys.stdin:
    path, text = row.rstrip("\n").split("\t", 1)
    parts = path.split("/")
    module = parts[1].removesuffix(".rs")
    if module in ("main", "lib"):
        module = "(" + module + ")"
    if text.lstrip().startswith("//"):
        continue
    targets = set(re.findall(r"\bcrate::(\w+)", text))
    # `use crate::{a, b::c}` names several modules at once.
    for group in re.findall(r"\bcrate::\{([^}]*)", text):
        targets |= set(re.findall(r"(?:^|,)\s*(\w+)", group))
    in_core = module in CORE or path in CORE_FILES
    outside = sorted(t for t in targets if t not in CORE and t != module and t != "self")
    if in_core and ("slack_morphism" in text or outside):
        layer_breaks.append(f"{path}: {text.strip()}")
    for target in targets:
        if target != module and target not in ("self",):
            edges[(module, target)] += 1
            lines[(module, target)].append(f"{path}: {text.strip()}")
wanted = sys.argv[1:]
if wanted:
    for line in lines[tuple(wanted)]:
        print(line)
    sys.exit()
graph = defaultdict(set)
for (a, b), n in sorted(edges.items()):
    print(f"{a} -> {b} ({n})")
    graph[a].add(b)
# Tarjan: strongly connected components of more than one module are the cycles.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
def visit(v):
    index[v] = low[v] = counter[0]; counter[0] += 1
    stack.append(v); on.add(v)
    for w in sorted(graph[v]):
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        scc = []
        while True:
            w = stack.pop(); on.discard(w); scc.append(w)
            if w == v: break
        if len(scc) > 1: sccs.append(sorted(scc))
for v in sorted(set(graph) | {b for bs in graph.values() for b in bs}):
    if v not in index: visit(v)
print(f"{len(edges)} edges; {len(sccs)} cycle(s)")
for scc in sccs:
    pairs = [f"{a}<->{b}" for a in scc for b in scc if a < b and b in graph[a] and a in graph[b]]
    print("cycle: " + " ".join(scc) + ("  (both ways: " + ", ".join(pairs) + ")" if pairs else ""))
print(f"pure core: {len(layer_breaks)} line(s) naming Slack wire types or the edge")
for line in layer_breaks:
    print("core: " + line)
' "$@"
