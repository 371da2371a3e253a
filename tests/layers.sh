#!/bin/sh
# tests/layers.sh [BUILD] - the layout's rule (README, "Layout"):
#  - includes run one way between the folders, session -> shim/hooks ->
#    shim -> base -> core, and no header includes itself round a circle
#    (a header in include/ belongs to the folder of the .c file of its
#    name, fdtab.h to src/shim/fdtab.c; one with no such file is shared);
#  - with a build (BUILD, default build), no two files call each other,
#    directly or round a circle: read from the objects' symbols (nm), so
#    a call through a header's inline function or a hook counts too.
# Prints the edges between folders; exits 1 on a break of the rule.
set -u
cd "$(dirname "$0")/.." || exit 1
exec python3 - "${1:-build}" <<'PY'
import glob, os, re, subprocess, sys

rank = {'core': 0, 'base': 1, 'shim': 2, 'shim/hooks': 3, 'session': 4}
def folder(path):
    d = os.path.dirname(path)
    return d[len('src/'):] if d.startswith('src/') else None

owner = {}		# header basename -> folder
for c in glob.glob('src/*/*.c') + glob.glob('src/shim/hooks/*.c'):
    owner.setdefault(os.path.basename(c)[:-2] + '.h', folder(c))
for h in glob.glob('src/*/*.h') + glob.glob('src/shim/hooks/*.h'):
    owner[os.path.basename(h)] = folder(h)

files = sorted(glob.glob('src/*/*.[ch]') + glob.glob('src/shim/hooks/*.[ch]') +
               glob.glob('include/*.h'))
inc = re.compile(r'^#include "([^"]+)"', re.M)
edges, bad, graph = {}, [], {}
for f in files:
    src = folder(f) if f.startswith('src/') else owner.get(os.path.basename(f))
    for h in inc.findall(open(f).read()):
        graph.setdefault(f, set()).add(h)
        dst = owner.get(h)
        if src is None or dst is None or src == dst:
            continue
        edges.setdefault((src, dst), set()).add(f + ' -> ' + h)
        if rank[dst] > rank[src]:
            bad.append(f + ' includes ' + h + ' (' + src + ' -> ' + dst + ')')
for (a, b), why in sorted(edges.items(), key=lambda e: (-rank[e[0][0]], -rank[e[0][1]])):
    print('%-10s -> %-10s %3d includes' % (a, b, len(why)))

# header circles: follow includes by basename
path = {os.path.basename(f): f for f in files if f.endswith('.h')}
state = {}
def visit(h, stack):
    state[h] = 1
    for n in graph.get(path.get(h, ''), ()):
        if n not in path:
            continue
        if state.get(n) == 1:
            bad.append('include circle: ' + ' -> '.join(stack + [n]))
        elif n not in state:
            visit(n, stack + [n])
    state[h] = 2
for h in sorted(path):
    if h not in state:
        visit(h, [h])

# call circles between files, for each linked product
def sccs(g):
    index, low, st, on, out, n = {}, {}, [], set(), [], [0]
    def sc(v):
        index[v] = low[v] = n[0]; n[0] += 1; st.append(v); on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                sc(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            c = []
            while True:
                w = st.pop(); on.discard(w); c.append(w)
                if w == v:
                    break
            if len(c) > 1:
                out.append(sorted(c))
    sys.setrecursionlimit(10000)
    for v in sorted(g):
        if v not in index:
            sc(v)
    return out
build = sys.argv[1]
ncalls = 0
stale = []
for prod, objs in (('libshim.so', glob.glob(build + '/pic/src/**/*.o', recursive=True)),
                   ('proxywrap', glob.glob(build + '/obj/src/**/*.o', recursive=True))):
    defs, undef = {}, {}
    for o in objs:
        name = os.path.relpath(o, build).split('/', 1)[1][:-2]
        if not os.path.exists(name + '.c'):
            continue	# left by a file since moved or gone
        if os.path.getmtime(o) < os.path.getmtime(name + '.c'):
            stale.append(name)
            continue
        undef[name] = set()
        out = subprocess.run(['nm', o], capture_output=True, text=True).stdout
        for l in out.splitlines():
            p = l.split()
            if len(p) == 3 and p[1] in 'TDBRCV':
                defs[p[2]] = name
            elif len(p) == 2 and p[0] == 'U':
                undef[name].add(p[1])
    g = {f: {defs[s] for s in us if s in defs and defs[s] != f}
         for f, us in undef.items()}
    ncalls += sum(len(v) for v in g.values())
    if stale:
        print('%s: objects older than their sources (%s...): make first; '
              'call circles not checked' % (prod, stale[0]))
        stale = []
        continue
    circles = sccs(g)
    for c in circles:
        bad.append(prod + ': files that call each other: ' + ' '.join(c))
    if objs and not circles:
        print('%-10s %d call edges between files, no circle' %
              (prod, sum(len(v) for v in g.values())))
if not ncalls:
    print('no objects under %s: call circles not checked' % build)
for b in bad:
    print('layers: ' + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
