"""audit_check.py - checks on a proxywrap JSON audit log.

  audit_check.py load LOG N PROCS   every line is JSON with the fields;
                                    N connects via, each path once, from
                                    PROCS processes, PROCS blocks
  audit_check.py udp LOG            udp blocks logged, with the reason
"""
import json
import sys

FIELDS = ("time", "pid", "exe", "event", "dest", "rule", "action",
          "proxy", "outcome", "handshake_ms")


def lines(path):
    out = []
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            if not raw.endswith(b"\n"):
                sys.exit("line %d is cut" % n)
            ev = json.loads(raw.decode("utf-8"))
            for k in FIELDS:
                if k not in ev:
                    sys.exit("line %d lacks %s" % (n, k))
            out.append(ev)
    return out


def load(path, n, procs):
    evs = lines(path)
    conn = [e for e in evs if e["event"] == "connect"
            and e["action"] == "via"]
    blocks = [e for e in evs if e["event"] == "block"]
    if len(conn) != n:
        sys.exit("want %d via connects, got %d" % (n, len(conn)))
    if len(blocks) != procs:
        sys.exit("want %d blocks, got %d" % (procs, len(blocks)))
    pids = {e["pid"] for e in conn}
    if len(pids) != procs:
        sys.exit("want %d processes, got %d" % (procs, len(pids)))
    for e in conn:
        if e["outcome"] != "ok" or e["proxy"]["name"] != "d" or \
           not isinstance(e["handshake_ms"], int) or \
           e["dest"]["port"] != 80 or not e["rule"]["at"].endswith(":3"):
            sys.exit("bad connect line: %r" % e)
    for e in blocks:
        if e["outcome"] != "EACCES" or e["dest"]["port"] != 81:
            sys.exit("bad block line: %r" % e)
    print("ok: %d lines" % len(evs))


def udp(path):
    evs = [e for e in lines(path) if e.get("proto") == "udp"]
    strict = [e for e in evs if e["rule"]["at"] is None]
    via = [e for e in evs if e["action"] == "via"]
    if len(strict) != 3 or any(e["outcome"] != "EACCES" for e in evs):
        sys.exit("want 3 strict udp blocks: %r" % evs)
    if len(via) != 3 or "cannot carry UDP" not in via[0]["error"]:
        sys.exit("want 3 via udp blocks: %r" % via)
    print("ok")


if __name__ == "__main__":
    if sys.argv[1] == "load":
        load(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        udp(sys.argv[2])
