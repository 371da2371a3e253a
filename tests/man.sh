#!/bin/sh
# tests/man.sh - the manual pages: mandoc -Tlint finds nothing at warning
# level, man -l renders each, and they name every rule-file statement the
# parser knows (src/core/config*.c) and every long option of proxywrap
# (src/session/options.c), so a new one cannot land undocumented.
# Prints "ok"/"not ok" lines.
set -u
cd "$(dirname "$0")/.." || exit 1
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }

for p in man/*.[1-8]; do
	if out=$(mandoc -Tlint -Wwarning "$p" 2>&1); then
		ok "mandoc -Tlint $p"
	else
		not_ok "mandoc -Tlint $p"
		echo "$out" | sed 's/^/#   /'
	fi
	# man -l: what a user gets; the NAME line must come through
	name=$(basename "$p" | sed 's/\.[1-8]$//')
	re=$(echo "$name" | sed 's/\./\\./g')
	if MANWIDTH=80 man -l "$p" 2>/dev/null | col -b |
	    grep -qE "^ +$re (-|–|—) [a-z]"; then
		ok "man -l $p renders"
	else
		not_ok "man -l $p renders"
	fi
done

# Statements: every keyword the parser compares against, as ".It Ic KW".
# The parser is src/core/config.c and its config_*.c parts.
cfgsrc="src/core/config.c src/core/config_*.c"
# shellcheck disable=SC2086
kws=$(cat $cfgsrc | grep -oE 'strcmp\(kw, "[a-z_]+"\)' | sed -E 's/.*"(.*)".*/\1/' | sort -u)
[ -n "$kws" ] || not_ok "found the statement keywords in $cfgsrc"
missing=""
for k in $kws; do
	grep -q "^\.It Ic $k\( \|$\)" man/shim.conf.5 || missing="$missing $k"
done
if [ -z "$missing" ]; then ok "shim.conf(5) has every statement ($(echo $kws | wc -w))"
else not_ok "shim.conf(5) lacks statements:$missing (add an .It Ic entry)"; fi

# Rule options (word=value after the action).
# shellcheck disable=SC2086
opts=$(cat $cfgsrc | grep -oE 'strncmp\(tok, "[a-z_]+", klen\)' | sed -E 's/.*"(.*)".*/\1/' | sort -u)
[ -n "$opts" ] || not_ok "found the rule options in $cfgsrc"
missing=""
for o in $opts; do
	grep -q "^\.It Cm $o Ns" man/shim.conf.5 || missing="$missing $o"
done
if [ -z "$missing" ]; then ok "shim.conf(5) has every rule option ($(echo $opts | wc -w))"
else not_ok "shim.conf(5) lacks rule options:$missing"; fi

# Long options of proxywrap, from its getopt_long table.
longs=$(sed -n '/struct option lo\[\]/,/};/p' src/session/options.c |
	grep -oE '\{ "[a-z-]+"' | sed -E 's/.*"(.*)"/\1/')
[ -n "$longs" ] || not_ok "found the long options in src/session/options.c"
missing=""
for o in $longs; do
	esc=$(echo "$o" | sed 's/-/\\\\-/g')
	grep -q "Fl \\\\-$esc\( \|$\)" man/proxywrap.1 || missing="$missing --$o"
done
if [ -z "$missing" ]; then ok "proxywrap(1) has every long option ($(echo $longs | wc -w))"
else not_ok "proxywrap(1) lacks options:$missing"; fi

echo "1..$n"
