#!/usr/bin/env python3
"""File-level call graph of the front end's objects: which .c uses a symbol another .c defines.

usage: callgraph.py OBJDIR   (build/CMakeFiles/imapsh.dir/src/cli)

Walks OBJDIR and its subfolders (src/cli/cmd/ is named cmd/X.c), prints
each edge with the symbols it stands for, the strongly connected
components larger than one file (the cycles), and, when there is none,
each file's level: 0 for a file that uses no other, else one more than the
highest level of a file it uses (base, then connection, the commands,
dispatch, the modes, main)."""
import subprocess, sys, glob, os, itertools
objdir = sys.argv[1]
objs = sorted(glob.glob(os.path.join(objdir, '**', '*.o'), recursive=True))
defs, undefs = {}, {}
for o in objs:
    name = os.path.relpath(o, objdir).replace('.c.o', '.c')
    out = subprocess.run(['nm', o], capture_output=True, text=True).stdout
    d, u = set(), set()
    for line in out.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in 'TDBR': d.add(p[2])
        elif len(p) == 2 and p[0] == 'U': u.add(p[1])
    defs[name], undefs[name] = d, u
owner = {s: f for f, ds in defs.items() for s in ds}
edges = {f: {} for f in defs}
for f, us in undefs.items():
    for s in us:
        g = owner.get(s)
        if g and g != f: edges[f].setdefault(g, []).append(s)
for f in sorted(edges):
    for g in sorted(edges[f]):
        print(f"{f} -> {g}: {' '.join(sorted(edges[f][g])[:6])}{' ...' if len(edges[f][g])>6 else ''}")
# strongly connected components (Tarjan)
idx, low, st, on, comps, c = {}, {}, [], set(), [], [0]
def sc(v):
    idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
    for w in edges[v]:
        if w not in idx: sc(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        comps.append(comp)
sys.setrecursionlimit(10000)
for v in edges:
    if v not in idx: sc(v)
cyc = [sorted(x) for x in comps if len(x) > 1]
print(f"== {len(edges)} files, {sum(len(e) for e in edges.values())} edges, {len(cyc)} cycle(s)")
for x in cyc: print(f"cycle of {len(x)}: {' '.join(x)}")
if not cyc:
    level = {}
    def lv(v):
        if v not in level:
            level[v] = 1 + max((lv(w) for w in edges[v]), default=-1)
        return level[v]
    for v in edges: lv(v)
    for k in range(max(level.values(), default=-1) + 1):
        print(f"level {k}: {' '.join(sorted(f for f in level if level[f] == k))}")
