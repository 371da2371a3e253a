#!/usr/bin/env bash
# bench/programs.sh: the real-program matrix (tests/integ/t_programs.sh,
# every case, the not-yet-enabled ones too) once under proxywrap and once
# under proxychains4, in the integration world (tests/integ/env.sh: real
# dante, tinyproxy, squid and microsocks in network namespaces).  The
# cases are the same functions: for the proxychains4 run, their `pw -p URL`
# or `pw -c FILE` becomes `proxychains4 -f CONF` with the same proxy, so
# each case asserts the same things (the server saw the proxy host, the
# command without either tool fails, the timeouts and the event loop).
# Prints a Markdown table (and saves it as OUT, default
# bench/programs-results.md).  Run as root after `make` and tests/deps.sh.
#   PW_ONLY=REGEX   only these cases; PW_CASE_TIMEOUT (default 60)
set -u
cd "$(dirname "$0")/.." || exit 2
TOP=$PWD
OUT=${OUT:-bench/programs-results.md}
PW_INTEG_DIR=$TOP/tests/integ
PW_BUILD=${PW_BUILD:-build}
PW_LIB=$TOP/$PW_BUILD/libshim.so
PW_TOOL=$TOP/$PW_BUILD/proxywrap
PW_TOOL_RUN=$PW_TOOL
PW_PRELOAD_EXTRA=
PW_BROKEN_PROGS=
PW_ONLY=${PW_ONLY:-}
PW_CASE_TIMEOUT=${PW_CASE_TIMEOUT:-60}
PW_PROGRAMS_PENDING=1
export TOP PW_INTEG_DIR PW_BUILD PW_LIB PW_TOOL PW_TOOL_RUN PW_PRELOAD_EXTRA
export PW_BROKEN_PROGS PW_PROGRAMS_PENDING

[ "$(id -u)" = 0 ] || { echo "programs: needs root" >&2; exit 2; }
[ -e "$PW_LIB" ] && [ -e "$PW_TOOL" ] || { echo "programs: run make first" >&2; exit 2; }
command -v proxychains4 >/dev/null || { echo "programs: no proxychains4 (tests/deps.sh)" >&2; exit 2; }

. "$PW_INTEG_DIR/env.sh"
. "$PW_INTEG_DIR/lib.sh"
. "$PW_INTEG_DIR/t_programs.sh"
trap 'env_teardown; [ "${PW_KEEP:-0}" = 1 ] || rm -rf "${T:-/nonexistent}"' EXIT
trap 'exit 130' INT TERM
env_setup || { echo "programs: setup failed" >&2; exit 1; }
# Every server up before any case is timed (prog_need would start each
# in the first case that needs it, and that case would carry its start).
PT=$T/prog
export PT
( prog_need nginx sshd redis postgres mariadb mosquitto ftp dns peer ) ||
    { echo "programs: a server did not come up" >&2; exit 1; }

# pc_line URL: URL as a proxychains4 [ProxyList] line.
pc_line() {
	local url=$1 kind rest cred="" host port user pass
	kind=${url%%://*}
	rest=${url#*://}
	case $rest in *@*) cred=${rest%@*}; rest=${rest##*@} ;; esac
	host=${rest%:*}
	port=${rest##*:}
	port=${port%/}
	case $kind in socks5h) kind=socks5 ;; esac
	if [ -n "$cred" ]; then
		user=${cred%%:*}
		pass=${cred#*:}
		echo "$kind $host $port $user $pass"
	else
		echo "$kind $host $port"
	fi
}
export -f pc_line

# The proxychains4 stand-in for the cases' pw: -p URL, or -c FILE whose
# "proxy NAME URL" lines are the chain.
pw_pc() {
	local conf=$CD/proxychains.conf url
	{
		printf 'strict_chain\nquiet_mode\ntcp_read_time_out 15000\n'
		printf 'tcp_connect_time_out 8000\nlocalnet 127.0.0.0/255.0.0.0\n'
		printf '[ProxyList]\n'
		while [ $# -gt 0 ]; do
			case $1 in
			-p) pc_line "$2"; shift 2 ;;
			-c) awk '$1 == "proxy" { print $3 }' "$2" |
			    while read -r url; do pc_line "$url"; done
			    shift 2 ;;
			-v | -q) shift ;;
			--) shift; break ;;
			*) break ;;
			esac
		done
	} >"$conf"
	ip netns exec "$NSC" proxychains4 -q -f "$conf" "$@"
}
export -f pw_pc

# one MODE NAME: run case NAME as run.sh does; prints "RC SECONDS".
one() {
	local mode=$1 name=$2 d t0 rc
	d=$T/case/$mode/$name
	mkdir -p "$d"
	t0=$(date +%s%N)
	(
		cd "$d" || exit 1
		export CASE=$name CD=$d MODE=$mode
		timeout -k 5 "$PW_CASE_TIMEOUT" bash -c '
			set -eu
			. "$PW_INTEG_DIR/env.sh" 2>/dev/null
			NSC='"$NSC"' NSP='"$NSP"' NSW='"$NSW"'
			. "$PW_INTEG_DIR/lib.sh"
			if [ "$MODE" = proxychains4 ]; then
				pw() { pw_pc "$@"; }
				export -f pw
			fi
			. "$PW_INTEG_DIR/t_programs.sh"
			"tc_$CASE"
		'
	) >"$d/log" 2>&1
	rc=$?
	printf '%s %s\n' "$rc" "$((($(date +%s%N) - t0) / 10000000))"
}

cell() {
	local rc=$1 cs=$2 s
	s=$(printf '%d.%02d s' $((cs / 100)) $((cs % 100)))
	case $rc in
	0) echo "ok, $s" ;;
	124) echo "**hung** (timeout)" ;;
	77) echo "skipped" ;;
	*) echo "**fails**, $s" ;;
	esac
}

# why MODE NAME: the case's FAIL line and the first line on stderr,
# shortened.
why() {
	local log=$T/case/$1/$2/log f e
	f=$(grep -m1 '^# FAIL: ' "$log" 2>/dev/null | sed 's/^# FAIL: //' | cut -c1-60)
	e=$(awk '/^# stderr:$/ { on = 1; next }
	    on && /^#     / { sub(/^#     /, ""); if ($0 != "") { print; exit } next }
	    { on = 0 }' "$log" 2>/dev/null |
	    sed "s|$T/case/[^/]*/[^/]*/||g; s|\`|'|g" | cut -c1-80)
	printf '%s%s' "${f:-timed out}" "${e:+ (\`$e\`)}" | sed 's/|/\\|/g'
}

rows=()
npw=0 npc=0 n=0
for name in "${CASES[@]}"; do
	case $name in prog_*) ;; *) continue ;; esac
	if [ -n "$PW_ONLY" ] && ! [[ $name =~ $PW_ONLY ]]; then
		continue
	fi
	read -r rpw spw < <(one proxywrap "$name")
	read -r rpc spc < <(one proxychains4 "$name")
	n=$((n + 1))
	[ "$rpw" = 0 ] && npw=$((npw + 1))
	[ "$rpc" = 0 ] && npc=$((npc + 1))
	note=""
	[ "$rpw" != 0 ] && note="proxywrap: $(why proxywrap "$name")"
	[ "$rpc" != 0 ] && note="${note:+$note; }proxychains4: $(why proxychains4 "$name")"
	rows+=("| ${name#prog_} | $(cell "$rpw" "$spw") | $(cell "$rpc" "$spc") | $note |")
	echo "# ${name#prog_}: proxywrap $rpw, proxychains4 $rpc" >&2
done

{
	echo "| case | proxywrap | proxychains4 | what failed |"
	echo "| --- | --- | --- | --- |"
	printf '%s\n' "${rows[@]}"
	echo
	echo "Cases passed: proxywrap $npw of $n, proxychains4 $npc of $n" \
	    "(the same case functions; times include the program's own start," \
	    "the no-shim run and the checks)."
	echo "proxywrap $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)," \
	    "proxychains4 $(dpkg-query -W -f '${Version}' proxychains4 2>/dev/null)," \
	    "$(nproc) cores, $(uname -r)."
} | tee "$OUT"
