#!/usr/bin/env python3
"""evid_check.py LOG [EVENT]: the audit log's "close" events (or EVENT's),
one line each, flattened for grep:
  close port=81 name=- addr=198.18.1.3 end=peer-fin bytes_up=86
  bytes_down=67109139 first_byte_ms=1 duration_ms=230 tls=none sni=-
  alpn=- alert=- level=- sender=- mismatch=false proxy=d rule=t.conf:2
Every line of LOG must be one JSON object (exit 1 otherwise)."""
import json
import sys


def flat(ev):
    d = ev.get("dest") or {}
    tls = ev.get("tls") or {}
    al = tls.get("alert") or {}
    px = ev.get("proxy") or {}
    rule = ev.get("rule") or {}

    def v(x):
        return "-" if x is None else str(x).lower() if isinstance(x, bool) else str(x)
    parts = [ev["event"], "port=" + v(d.get("port")), "name=" + v(d.get("name")),
             "addr=" + v(d.get("addr")), "end=" + v(ev.get("end")),
             "bytes_up=" + v(ev.get("bytes_up")),
             "bytes_down=" + v(ev.get("bytes_down")),
             "first_byte_ms=" + v(ev.get("first_byte_ms")),
             "duration_ms=" + v(ev.get("duration_ms")),
             "tls=" + v(tls.get("outcome")), "sni=" + v(tls.get("sni")),
             "alpn=" + v(tls.get("alpn")), "alert=" + v(al.get("description")),
             "level=" + v(al.get("level")), "sender=" + v(al.get("sender")),
             "mismatch=" + v(ev.get("sni_mismatch")),
             "proxy=" + v(px.get("name")), "rule=" + v(rule.get("at")),
             "outcome=" + v(ev.get("outcome"))]
    return " ".join(parts)


def main():
    want = sys.argv[2] if len(sys.argv) > 2 else "close"
    with open(sys.argv[1]) as f:
        for n, line in enumerate(f, 1):
            try:
                ev = json.loads(line)
            except ValueError as e:
                print("line %d is not JSON: %s: %r" % (n, e, line[:200]))
                return 1
            if ev.get("event") == want:
                print(flat(ev))
    return 0


sys.exit(main())
