"""rules_rss.py - what one wrapped Python holds with a large rule file
(issue 13): it connects to a loopback listener, to 10.0.5.0:80 and to
[2001:db8:0:4::1]:22 (both decided by rules of rules_bench.c's file), then
prints its own and its parent's (proxywrap's) VmRSS, RssAnon, RssFile and
RssShmem.

  /tmp/rb 1000000 /tmp/1m.conf   # bench/rules_bench.c writes the file
  build/proxywrap -c /tmp/1m.conf python3 bench/rules_rss.py
"""
import os
import socket

l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(1)
socket.create_connection(l.getsockname(), timeout=2).close()
for fam, dest in ((socket.AF_INET, ("10.0.5.0", 80)),
                  (socket.AF_INET6, ("2001:db8:0:4::1", 22))):
    s = socket.socket(fam)
    s.settimeout(0.3)
    try:
        s.connect(dest)
    except OSError as e:
        print(dest[0], "errno", e.errno)
    s.close()


def status(pid):
    f = {}
    for line in open("/proc/%s/status" % pid):
        k, _, v = line.partition(":")
        f[k] = v.strip()
    return " ".join("%s=%s" % (k, f.get(k, "?"))
                    for k in ("VmRSS", "RssAnon", "RssFile", "RssShmem"))


print("python:", status("self"))
print("parent:", status(os.getppid()))
