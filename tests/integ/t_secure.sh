# t_secure.sh - secure execution (AT_SECURE): a setuid program trusts no
# environment variable, so SHIM_* cannot steer it; it blocks every
# connection but loopback.  glibc preloads into a setuid program only a
# library named without a slash, from a system directory, itself marked
# setuid: the case installs such a copy for its own duration.

SECURE_LIB=/usr/lib/x86_64-linux-gnu/libproxywrap-secure-test.so

tcase secure_execution
tc_secure_execution() {
	local pwc=$TOP/${PW_BUILD:-build}/bin/pwclient m lib=$SECURE_LIB
	[ -x "$pwc" ] || fail "no $pwc (make testbins)"
	command -v setpriv >/dev/null || { printf '# SKIP: no setpriv\n' >&2; exit 77; }
	trap 'rm -f "$SECURE_LIB"' EXIT
	cp "$PW_LIB" "$lib"
	chmod 4755 "$lib"
	cp "$pwc" suclient
	chmod 4755 suclient
	chmod 755 "$CD"
	# the environment asks for dante; a secure process must ignore it and
	# block, so the request reaches nobody
	m=$(mark)
	run inc setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    env LD_PRELOAD=libproxywrap-secure-test.so SHIM_PROXY="$U_DANTE" \
	    SHIM_VERBOSE=2 "$CD/suclient" get "$W4" 80 "$m"
	expect_rc 3
	expect_out_has "ERRNO EACCES"
	expect_err_re "secure-execution process: settings ignored"
	expect_err_re "blocked $W4:80"
	nobody_saw "$m"
	# the same program without the setuid bit follows SHIM_PROXY
	m=$(mark)
	chmod 0755 suclient
	run inc setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    env LD_PRELOAD="$lib" SHIM_PROXY="$U_DANTE" "$CD/suclient" get "$W4" 80 "$m"
	expect_rc 0
	world_saw "$m" "$PW4"
}
