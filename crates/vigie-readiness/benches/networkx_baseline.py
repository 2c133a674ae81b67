"""The baseline of benches/forward.rs: the same forward pass (start = max of now and each predecessor's finish plus
lag; a changed task alternately done at 500 and to do), ready dates and readiness by site, with networkx, after each
of the same changes. Prints p50= and p99= in milliseconds."""
import json
import sys
import time

import networkx as nx

data = json.load(open(sys.argv[1]))
g = nx.DiGraph()
for t in data["tasks"]:
    g.add_node(t["id"], site=t["site"], duration=t["duration"], done=None)
for before, after, lag in data["deps"]:
    g.add_edge(before, after, lag=lag)
order = list(nx.topological_sort(g))
times = []
checksum = 0
for i, changed in enumerate(data["changes"]):
    t0 = time.perf_counter()
    g.nodes[changed]["done"] = 500 if i % 2 == 0 else None
    finish = {}
    for n in order:
        a = g.nodes[n]
        if a["done"] is not None:
            finish[n] = a["done"]
            continue
        start = 0
        for p in g.predecessors(n):
            start = max(start, finish[p] + g.edges[p, n]["lag"])
        finish[n] = start + a["duration"]
    ready = {}
    done = {}
    for n in order:
        a = g.nodes[n]
        ready[a["site"]] = max(ready.get(a["site"], 0), finish[n])
        if a["done"] is not None:
            done[a["site"]] = done.get(a["site"], 0) + a["duration"]
    checksum += sum(ready.values()) + sum(done.values())
    times.append((time.perf_counter() - t0) * 1000)
times.sort()
print(f"p50={times[len(times) // 2]:.3f} p99={times[int((len(times) - 1) * 0.99)]:.3f} checksum={checksum}")
