"""report_md.py - parse proxywrap's --summary-format markdown and check it
against what the job did.

  report_md.py FILE EXPECT...

Each EXPECT is DEST/PROTO=ACTION,CONNS,BLOCKED[,recv][,tls:TEXT] (recv:
the Received cell must be a byte count above zero, from a close event;
tls: the TLS cell must be TEXT) or
blocked:DEST PROTO=PROGRAM,ATTEMPTS.  The heading's totals must equal the
sums of the table's columns.
"""
import re
import sys


def cells(line):
    """A GFM table row's cells, with backslash escapes undone."""
    out, cur, i = [], "", 0
    body = line.strip()[1:-1] if line.strip().endswith("|") else line[1:]
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            cur += body[i + 1]
            i += 2
            continue
        if c == "|":
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
        i += 1
    out.append(cur.strip())
    return out


def tables(text):
    """Lists of dicts, one per table (header row, separator, rows)."""
    res, lines = [], text.split("\n")
    i = 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and \
           re.match(r"^\|( *:?-+:? *\|)+$", lines[i + 1]):
            head = cells(lines[i])
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                r = cells(lines[i])
                if len(r) != len(head):
                    sys.exit("row with %d cells under %d: %r" %
                             (len(r), len(head), lines[i]))
                rows.append(dict(zip(head, r)))
                i += 1
            res.append((head, rows))
        else:
            i += 1
    return res


def nbytes(cell):
    m = re.match(r"^([0-9.]+) (B|KiB|MiB|GiB)$", cell)
    if not m:
        return None
    return float(m.group(1)) * {"B": 1, "KiB": 1024, "MiB": 1 << 20,
                                "GiB": 1 << 30}[m.group(2)]


def main():
    text = open(sys.argv[1]).read()
    m = re.search(r"^### proxywrap: (\d+) connections?, (\d+) blocked, "
                  r"(\d+) errors?$", text, re.M)
    if not m:
        sys.exit("no heading with the totals")
    conns, blocked, errors = map(int, m.groups())
    tabs = {tuple(h): rows for h, rows in tables(text)}
    dests = tabs.get(("Destination", "Action", "Connections", "Sent",
                      "Received", "TLS", "Blocked", "Errors"))
    progs = tabs.get(("Destination", "Program", "Attempts"), [])
    if dests is None:
        sys.exit("no destination table in:\n" + text)
    by = {r["Destination"]: r for r in dests}
    if sum(int(r["Connections"]) for r in dests) != conns or \
       sum(int(r["Blocked"]) for r in dests) != blocked or \
       sum(int(r["Errors"]) for r in dests) > errors + conns:
        sys.exit("the columns do not add up to the heading: %r" % dests)
    for e in sys.argv[2:]:
        key, want = e.split("=", 1) if not e.startswith("blocked:") \
            else e.rsplit("=", 1)
        want = want.split(",", 3)
        if key.startswith("blocked:"):
            rows = [r for r in progs if r["Destination"] == key[8:] and
                    r["Program"] == want[0]]
            if not rows or rows[0]["Attempts"] != want[1]:
                sys.exit("blocked %s by %s: want %s, have %r" %
                         (key[8:], want[0], want[1], progs))
            continue
        r = by.get(key)
        if r is None:
            sys.exit("no row for %s in %r" % (key, sorted(by)))
        if [r["Action"], r["Connections"], r["Blocked"]] != want[:3]:
            sys.exit("%s: want %r, have %r" % (key, want[:3], r))
        rest = want[3] if len(want) > 3 else ""
        if rest.startswith("recv"):
            if not (nbytes(r["Received"]) or 0) > 0:
                sys.exit("%s: no bytes received in %r" % (key, r))
            rest = rest[5:]
        if rest.startswith("tls:") and r["TLS"] != rest[4:]:
            sys.exit("%s: TLS %r, want %r" % (key, r["TLS"], rest[4:]))
    print("ok: %d destinations" % len(dests))


main()
