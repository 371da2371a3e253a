#!/usr/bin/env bash
# tests/deb.sh - the Debian package: make deb's script builds it (from a
# copy of the tree, as make deb does), lintian finds nothing at its default
# level, the file list is what debian/ promises, and the package works
# after dpkg -i into a scratch root: --version matches the package's
# version, the wrapper loads that root's libshim.so (not a system one) and
# runs its proxywrap-dl for an https proxy, and
# curl fetches a page through microsocks by a rule, in a network namespace
# of its own (microsocks's log names the connection); dpkg -P removes it.
# Prints "ok"/"not ok" lines.
set -u
cd "$(dirname "$0")/.." || exit 1
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
done_() { echo "1..$n"; exit 0; }

tmp=$(mktemp -d /tmp/pw-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
t0=$(date +%s)
if sh tools/mkdeb.sh "$tmp/out" >"$tmp/build.log" 2>&1; then
	ok "package built ($(($(date +%s) - t0)) s)"
else
	not_ok "package built"
	tail -n 20 "$tmp/build.log" | sed 's/^/#   /'
	done_
fi
deb=$(echo "$tmp"/out/proxywrap_*_*.deb)
[ -f "$deb" ] || { not_ok "one proxywrap_*.deb: $deb"; done_; }

# lintian's tags: E: and W: lines (default level) must not be there
lint=$(lintian "$tmp"/out/proxywrap_*.changes 2>&1 | grep -v '^running with root')
if [ -z "$(grep -E '^[EW]: ' <<<"$lint")" ] && command -v lintian >/dev/null; then
	ok "lintian: no errors or warnings"
else
	not_ok "lintian: no errors or warnings"
	echo "$lint" | sed 's/^/#   /'
fi

multi=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
list=$(dpkg-deb -c "$deb" | awk '{ print $6 }')
missing=""
for f in ./usr/bin/proxywrap "./usr/lib/$multi/proxywrap/libshim.so" \
	"./usr/lib/$multi/proxywrap/proxywrap-dl" \
	./usr/share/man/man1/proxywrap.1.gz ./usr/share/man/man5/shim.conf.5.gz \
	./usr/share/doc/proxywrap/examples/shim.conf.example \
	./usr/share/doc/proxywrap/copyright \
	./usr/share/bash-completion/completions/proxywrap; do
	grep -qxF "$f" <<<"$list" || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "dpkg-deb -c: every file in place"
else not_ok "dpkg-deb -c lacks:$missing"; fi
# nothing of the build or the test tree leaks into the package
stray=$(grep -vE '^\./(usr/(bin|lib|share/(man|doc|bash-completion|lintian))(/|$))|^\./((usr|usr/share)/)?$' <<<"$list")
[ -z "$stray" ] && ok "dpkg-deb -c: nothing else" || not_ok "stray files: $stray"

# dpkg -i into a throw-away root with its own dpkg database (empty: the
# package's libc6 dependency is the host's, hence --force-depends)
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
: >"$root/var/lib/dpkg/status"
if dpkg --root="$root" --force-depends --force-script-chrootless \
    -i "$deb" >"$tmp/dpkg.log" 2>&1 &&
    [ "$(dpkg-query --admindir="$root/var/lib/dpkg" -W \
	-f='${db:Status-Abbrev}' proxywrap)" = "ii " ]; then
	ok "dpkg -i into a throw-away root"
else
	not_ok "dpkg -i into a throw-away root"
	sed 's/^/#   /' "$tmp/dpkg.log"
	done_
fi
pw=$root/usr/bin/proxywrap
ver=$(dpkg-deb -f "$deb" Version)
out=$("$pw" --version 2>&1)
if grep -qx "proxywrap $ver" <<<"$out" && grep -q '^c-ares ' <<<"$out"; then
	ok "--version from the unpacked tree: $(echo $out)"
else
	not_ok "--version says '$out', the package $ver"
fi
out=$("$pw" -p socks5://127.0.0.1:1 -- sh -c 'echo "$LD_PRELOAD"' 2>&1)
want="$root/usr/bin/../lib/$multi/proxywrap/libshim.so"
[ "$out" = "$want" ] && ok "the unpacked tree's libshim.so is preloaded" ||
	not_ok "LD_PRELOAD is '$out', not $want"
# an https session: the static proxywrap runs the tree's proxywrap-dl
out=$("$pw" -p https://127.0.0.1:1 -- sh -c 'readlink /proc/$PPID/exe' 2>&1)
want=$(readlink -f "$root/usr/lib/$multi/proxywrap/proxywrap-dl")
[ "$out" = "$want" ] && ok "an https session runs the unpacked tree's proxywrap-dl" ||
	not_ok "an https session's wrapper is '$out', not $want"
out=$("$pw" -p socks5h://127.0.0.1:1 --explain example.com:443 2>&1)
grep -q 'socks5h://127.0.0.1:1' <<<"$out" && ok "--explain names the -p proxy" ||
	not_ok "--explain: $out"

# One wrapped command through a real proxy, alone in a network namespace.
mkdir -p "$tmp/www"
echo "from the package $$" >"$tmp/www/page.txt"
printf 'proxy s socks5://127.0.0.1:1080\nvia s 127.0.0.2\n' >"$tmp/rules.conf"
unshare --net bash -c '
	ip link set lo up
	cd "$1/www" && timeout 20 python3 -m http.server -b 127.0.0.2 8080 \
		>/dev/null 2>&1 &
	timeout 20 microsocks -i 127.0.0.1 -p 1080 >"$1/socks.log" 2>&1 &
	for i in $(seq 50); do
		(exec 3<>/dev/tcp/127.0.0.1/1080) 2>/dev/null &&
		(exec 3<>/dev/tcp/127.0.0.2/8080) 2>/dev/null && break
		sleep 0.1
	done
	timeout 10 "$2" -c "$1/rules.conf" -v -- \
		curl -sS --max-time 5 http://127.0.0.2:8080/page.txt \
		>"$1/curl.out" 2>"$1/pw.log"
	echo $? >"$1/rc"
	kill %1 %2 2>/dev/null' sh "$tmp" "$pw"
if [ "$(cat "$tmp/rc" 2>/dev/null)" = 0 ] &&
    cmp -s "$tmp/curl.out" "$tmp/www/page.txt" &&
    grep -q 'connected to 127.0.0.2:8080' "$tmp/socks.log" &&
    grep -q 'via s (socks5://127.0.0.1:1080)' "$tmp/pw.log"; then
	ok "curl through microsocks, wrapped by the unpacked package"
else
	not_ok "curl through microsocks (rc $(cat "$tmp/rc" 2>/dev/null))"
	cat "$tmp/pw.log" "$tmp/socks.log" 2>/dev/null | sed 's/^/#   /'
fi

# and dpkg -P takes every file away again
dpkg --root="$root" --force-script-chrootless -P proxywrap >"$tmp/dpkg.log" 2>&1
left=$(find "$root/usr" -type f 2>/dev/null)
[ -z "$left" ] && ok "dpkg -P leaves no file behind" ||
	not_ok "dpkg -P left: $left"
done_
