# t_tool.sh - the proxywrap command and the library's surface: --check,
# --explain, bad configurations, LD_PRELOAD, exit status, exports.

bad_conf() {
	conf bad.conf <<-EOC
	proxy d $U_DANTE
	via nosuch 198.18.1.0/24
	direct 198.18.0.0/24
	frobnicate yes
	via d *
	EOC
}

tcase check_good_and_bad smoke
tc_check_good_and_bad() {
	conf good.conf <<-EOC
	# every form of the contract
	proxy a $U_DANTE
	proxy b $U_SQUID
	proxy c socks5h://[$P6]:1080
	proxy t $U_TINY
	direct 198.18.0.0/24 2001:db8::/64 [2001:db8::1]:8080 localhost .local.test
	block 198.18.1.3 198.18.1.2:2000-3000 *.blocked.test
	via a 198.18.1.2:22 2001:db8:1::/64
	via c www.world.test
	via b *
	connect_timeout 5s
	strict on
	EOC
	run pw --check -c good.conf
	expect_rc 0
	bad_conf
	run pw --check -c bad.conf
	expect_rc 2
	expect_err_re "bad\.conf:2: "
	expect_err_re "bad\.conf:4: "
	if grep -E "bad\.conf:(1|3|5): " err; then
		show
		fail "errors reported on good lines"
	fi
}

tcase badconf_command_not_run smoke
tc_badconf_command_not_run() {
	bad_conf
	run pw -c bad.conf touch "$CD/ran"
	expect_rc 2
	expect_err_re "bad\.conf:2: "
	[ ! -e "$CD/ran" ] || fail "the command ran despite a bad config"
}

# Bare LD_PRELOAD with a bad config: the program runs to its end, its
# routed connections fail (to a directly reachable server: no fallback),
# the config error is logged once.
tcase badconf_bare_preload_fails_closed smoke
tc_badconf_bare_preload_fails_closed() {
	bad_conf
	run shim "$CD/bad.conf" "$PY" "$PYC" twice "$P4" 8080
	expect_rc 0
	expect_out_has DONE
	if grep -q "^TRY. OK" out; then
		show
		fail "a connection succeeded under a broken config"
	fi
	local n
	n=$(grep -c "bad\.conf:2" err || true)
	[ "$n" = 1 ] || { show; fail "config error logged $n times, wanted once"; }
	# A missing file is a broken config too.
	run shim "$CD/does-not-exist.conf" "$PY" "$PYC" twice "$P4" 8080
	expect_rc 0
	expect_out_has DONE
	if grep -q "^TRY. OK" out; then
		show
		fail "a connection succeeded with a missing config"
	fi
}

tcase ld_preload_prepended
tc_ld_preload_prepended() {
	local other
	other=$(ls /lib/x86_64-linux-gnu/libz.so.1 /usr/lib/x86_64-linux-gnu/libz.so.1 \
	    /lib/*/libz.so.1 2>/dev/null | head -n 1)
	[ -n "$other" ] || fail "no libz.so.1 to preload"
	run inc env LD_PRELOAD="$other" "$PW_TOOL_RUN" -p "$U_DANTE" \
	    sh -c 'echo "PRELOAD=$LD_PRELOAD"; cat /proc/$$/maps'
	expect_rc 0
	expect_out_re "^PRELOAD=[^ ]*libshim\.so .*libz\.so\.1"
	expect_out_re "libshim\.so$"
	expect_out_re "libz\.so\.1"
}

tcase exit_status_passed_through smoke
tc_exit_status_passed_through() {
	run pw -p "$U_DANTE" sh -c 'exit 7'
	expect_rc 7
	run pw -p "$U_DANTE" sh -c 'exit 0'
	expect_rc 0
	run pw -p "$U_DANTE" false
	expect_rc 1
}

tcase exports_only_hooks smoke
tc_exports_only_hooks() {
	local libc sym bad=""
	libc=$(ldd /bin/true | awk '/libc\.so/ {print $3}')
	[ -n "$libc" ] || fail "cannot find libc"
	nm -D --defined-only "$libc" | awk '{print $3}' | sed 's/@.*//' |
	    sort -u >libc.syms
	nm -D --defined-only "$PW_LIB" | awk '$2 != "A" {print $3}' |
	    sed 's/@.*//' | sort -u >lib.syms
	[ -s lib.syms ] || fail "libshim exports nothing"
	grep -q '^connect$' lib.syms || fail "connect is not exported"
	while read -r sym; do
		grep -qx -- "$sym" libc.syms || bad="$bad $sym"
	done <lib.syms
	[ -z "$bad" ] || fail "exports that are not libc functions:$bad"
	if grep -E '^(ares_|cfg_|rules_|socks5_|http_|url_|buf_|log_|shim_|tunnel_|real_|fakedns_|fdtab_)' lib.syms; then
		fail "internal symbols exported"
	fi
}

# proxywrap is linked statically (its start without a loader); a session
# that needs libssl (an https proxy) runs the same command line in
# proxywrap-dl, which sits next to it and stays to serve the TLS relay.
tcase static_wrapper_and_dl
tc_static_wrapper_and_dl() {
	local dl
	if readelf -lW "$PW_TOOL" | grep -q 'program interpreter'; then
		fail "$PW_TOOL is not a static executable"
	fi
	dl=$(dirname "$PW_TOOL")/proxywrap-dl
	readelf -lW "$dl" | grep -q 'program interpreter' ||
	    fail "$dl is not dynamically linked"
	# a socks5 session: the command takes proxywrap's place
	run pw -p "$U_DANTE" sh -c 'readlink /proc/$PPID/exe'
	expect_rc 0
	if grep -qE '/proxywrap(-dl)?$' out; then
		show
		fail "a socks5 session's wrapper stayed"
	fi
	# an https one: the relay runs in proxywrap-dl, the command its child
	run pw -p https://127.0.0.1:9 sh -c 'readlink /proc/$PPID/exe'
	expect_rc 0
	grep -qx '.*/proxywrap-dl' out || { show; fail "not run by proxywrap-dl"; }
}

tcase explain smoke
tc_explain() {
	conf t.conf <<-EOC
	proxy lab $U_DANTE
	proxy corp $U_SQUID
	direct 198.18.0.0/24
	block 198.18.1.3
	via lab 198.18.1.2:22
	via corp *
	EOC
	run pw --explain "$W4:22" -c t.conf
	expect_rc 0
	# The rule (file:line), the action and the proxy, in whatever layout.
	expect_out_re "t\.conf:5\b"
	expect_out_re "via lab"
	expect_out_has "socks5://198.18.0.1:1080"
	run pw --explain "$W4:80" -c t.conf
	expect_rc 0
	expect_out_re "t\.conf:6\b"
	expect_out_re "via corp"
	expect_out_re "http://([^ ]*@)?198\.18\.0\.1:3128"
	expect_out_lacks "$SQUID_PASS"
	run pw --explain "$WB4:80" -c t.conf
	expect_rc 0
	expect_out_re "t\.conf:4\b"
	expect_out_re "block"
	run pw --explain "$P4:8080" -c t.conf
	expect_rc 0
	expect_out_re "t\.conf:3\b"
	expect_out_re "direct"
	run pw --explain "[$W6]:80" -c t.conf
	expect_rc 0
	expect_out_re "t\.conf:6\b"
	expect_out_re "via corp"
}
