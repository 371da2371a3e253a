#!/usr/bin/env bash
# tests/completion.sh - the bash completion (completions/proxywrap) in a
# bash with bash-completion loaded: COMPREPLY for options, for --explain
# from a rule file, and for the command after the options or after --,
# where the command's own completion must take over.  Prints "ok"/"not ok".
set -u
cd "$(dirname "$0")/.." || exit 1
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }

bc=/usr/share/bash-completion/bash_completion
if [ ! -r "$bc" ]; then
	not_ok "bash-completion is installed ($bc)"
	echo "1..$n"
	exit 1
fi
tmp=$(mktemp -d /tmp/pw-compl.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
conf=$tmp/rules.conf
cat >"$conf" <<'RULES'
proxy corp http://198.18.0.9:3128   # not a destination
direct localhost .corp.example 198.18.0.0/24
block  169.254.169.254 *:25
via corp db.lab.example:5432 [2001:db8::1]:22 web.example:8000-8080 *
RULES

# complete LINE: the words of LINE (the cursor at its end; a trailing
# blank starts an empty word), one COMPREPLY entry per output line.
complete_line() {
	bash --norc --noprofile -c '
		source "$1"; source completions/proxywrap
		line=$2
		read -r -a COMP_WORDS <<<"$line"
		[[ $line == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=$line COMP_POINT=${#line}
		_proxywrap proxywrap "${COMP_WORDS[COMP_CWORD]}" \
			"${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' sh "$bc" "$1" 2>&1
}

# expect NAME LINE WANTED...: every WANTED word is offered
expect() {
	local name=$1 line=$2 out w miss=""
	shift 2
	out=$(complete_line "$line")
	for w in "$@"; do
		grep -qxF -- "$w" <<<"$out" || miss="$miss $w"
	done
	if [ -z "$miss" ]; then ok "$name"
	else not_ok "$name: missing$miss in: $(echo $out)"; fi
}
# refuse NAME LINE UNWANTED...: none of them is offered
refuse() {
	local name=$1 line=$2 out w bad=""
	shift 2
	out=$(complete_line "$line")
	for w in "$@"; do
		grep -qxF -- "$w" <<<"$out" && bad="$bad $w"
	done
	if [ -z "$bad" ]; then ok "$name"
	else not_ok "$name: offered$bad"; fi
}

expect "--st completes to --strict" "proxywrap --st" --strict
out=$(complete_line "proxywrap --st")
[ "$out" = "--strict" ] && ok "--st: nothing else" || not_ok "--st offered: $out"
expect "-- lists the options" "proxywrap -" -c --config --explain --version --from-env
expect "--explain: the rule file's destinations" "proxywrap -c $conf --explain " \
	localhost corp.example 169.254.169.254 db.lab.example:5432 \
	'[2001:db8::1]:22' web.example:8000
refuse "--explain: no prefixes, catch-alls or proxy lines" \
	"proxywrap -c $conf --explain " '*' '*:25' 198.18.0.0/24 corp \
	http://198.18.0.9:3128
# the cursor inside the line: --explain db<TAB> -c FILE
out=$(bash --norc --noprofile -c '
	source "$1"; source completions/proxywrap
	COMP_WORDS=(proxywrap --explain db -c "$2"); COMP_CWORD=2
	COMP_LINE="${COMP_WORDS[*]}" COMP_POINT=22
	_proxywrap proxywrap db --explain; printf "%s\n" "${COMPREPLY[@]}"' \
	sh "$bc" "$conf")
[ "$out" = "db.lab.example:5432" ] && ok "--explain db<TAB> -c FILE: db.lab.example:5432" ||
	not_ok "--explain db<TAB> -c FILE gave: $(echo $out)"
out=$(SHIM_CONFIG=$conf complete_line "proxywrap --explain loc")
[ "$out" = "localhost" ] && ok "\$SHIM_CONFIG's rules without -c" ||
	not_ok "\$SHIM_CONFIG: $(echo $out)"
out=$(SHIM_CONFIG=$tmp/none HOME=$tmp complete_line "proxywrap --explain ")
[ -z "$out" ] && ok "--explain with no rule file offers nothing" ||
	not_ok "--explain without a rule file: $(echo $out)"
expect "-- cur completes commands" "proxywrap -- cur" curl
expect "a command after the options" "proxywrap -c $conf -q cur" curl
# the command's own completion: ssh's, git's or, bash-completion's generic
# fallback, file names; here a helper command with a known completion
out=$(bash --norc --noprofile -c '
	source "$1"; source completions/proxywrap
	_pwt() { COMPREPLY=(from-pwt-completion); }
	complete -F _pwt pwtcmd
	COMP_WORDS=(proxywrap -q -- pwtcmd ""); COMP_CWORD=4
	COMP_LINE="proxywrap -q -- pwtcmd " COMP_POINT=${#COMP_LINE}
	_proxywrap proxywrap "" pwtcmd; printf "%s\n" "${COMPREPLY[@]}"' sh "$bc")
[ "$out" = "from-pwt-completion" ] && ok "the command's own completion takes over" ||
	not_ok "after the command: $out"
expect "the report options" "proxywrap --s" --summary --summary= --summary-format
expect "--summary-format's values" "proxywrap --summary-format " text markdown
expect "--learn" "proxywrap --le" --learn
expect "-p offers URL schemes" "proxywrap -p so" socks5:// socks5h://
echo "1..$n"
