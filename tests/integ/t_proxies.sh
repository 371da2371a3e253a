# t_proxies.sh - the topology holds, and curl reaches the world through
# every real proxy, by -p URL and by a rule file.  Each case proves the
# request arrived from the proxy host (198.18.1.1) and that the proxy
# itself logged it.

tcase topology_isolated smoke
tc_topology_isolated() {
	local m
	m=$(mark)
	# No route from the client to the world: only proxies get there.
	run inc curl -sS -m 5 "http://$W4$m"
	expect_fail
	nobody_saw "$m"
	m=$(mark)
	run inc curl -sS -m 5 "http://$P4:8080$m"
	expect_rc 0
	local_saw "$m" "$C4"
	# The proxies work when asked by curl itself.
	m=$(mark)
	run inc curl -sS -m 5 -x "$U_DANTE" "http://$W4$m"
	expect_rc 0
	world_saw "$m" "$PW4"
}

# through NAME -p|-c: curl via the named proxy.
through() {
	need_prog curl
	local name=$1 how=$2 url m n
	url=$(proxy_url "$name")
	m=$(mark)
	n=$(pcount "$name" "$W4" 80)
	if [ "$how" = -p ]; then
		run pw -p "$url" curl -sS -m 10 "http://$W4$m"
	else
		conf t.conf <<-EOC
		# via $name
		proxy up $url
		via up 198.18.1.0/24
		EOC
		run pw -c t.conf curl -sS -m 10 "http://$W4$m"
	fi
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
	proxy_saw "$name" "$W4" 80 "$n"
}

tcase curl_dante_p smoke
tc_curl_dante_p() { through dante -p; }
tcase curl_dante_conf
tc_curl_dante_conf() { through dante -c; }
tcase curl_dante_user_p
tc_curl_dante_user_p() { through dante_user -p; }
tcase curl_dante_user_conf
tc_curl_dante_user_conf() { through dante_user -c; }
tcase curl_tinyproxy_p
tc_curl_tinyproxy_p() { through tiny -p; }
tcase curl_tinyproxy_conf
tc_curl_tinyproxy_conf() { through tiny -c; }
tcase curl_squid_p smoke
tc_curl_squid_p() { through squid -p; }
tcase curl_squid_conf
tc_curl_squid_conf() { through squid -c; }
tcase curl_microsocks_p
tc_curl_microsocks_p() { through ms -p; }
tcase curl_microsocks_conf
tc_curl_microsocks_conf() { through ms -c; }

tcase curl_https_tinyproxy smoke
tc_curl_https_tinyproxy() {
	need_prog curl
	local m n
	m=$(mark)
	n=$(pcount tiny "$W4" 443)
	run pw -p "$U_TINY" curl -ksS -m 10 "https://$W4$m"
	expect_rc 0
	expect_out_has "world $W4:443 $m"
	world_saw "$m" "$PW4"
	proxy_saw tiny "$W4" 443 "$n"
}

tcase curl_https_squid
tc_curl_https_squid() {
	need_prog curl
	local m n
	m=$(mark)
	n=$(pcount squid "$W4" 443)
	run pw -p "$U_SQUID" curl -ksS -m 10 "https://$W4$m"
	expect_rc 0
	expect_out_has "world $W4:443 $m"
	world_saw "$m" "$PW4"
	proxy_saw squid "$W4" 443 "$n"
}

# An IPv6 destination through dante reached over IPv4.
tcase curl_v6_dest_dante
tc_curl_v6_dest_dante() {
	need_prog curl
	local m n
	m=$(mark)
	n=$(pcount dante "$W6" 80)
	run pw -p "$U_DANTE" curl -sS -m 10 -g "http://[$W6]$m"
	expect_rc 0
	expect_out_has "world $W6:80 $m"
	world_saw "$m" "$PW6"
	proxy_saw dante "$W6" 80 "$n"
}

# An IPv6 destination through dante reached over IPv6, by rule file.
tcase curl_v6_dest_v6_proxy
tc_curl_v6_dest_v6_proxy() {
	need_prog curl
	local m
	m=$(mark)
	conf t.conf <<-EOC
	proxy d6 $U_DANTE6
	via d6 2001:db8:1::/64
	EOC
	run pw -c t.conf curl -sS -m 10 -g "http://[$W6]$m"
	expect_rc 0
	expect_out_has "world $W6:80 $m"
	world_saw "$m" "$PW6"
}

# An IPv4 destination through a proxy given by an IPv6 address.
tcase curl_v4_dest_v6_proxy
tc_curl_v4_dest_v6_proxy() {
	need_prog curl
	local m
	m=$(mark)
	run pw -p "$U_DANTE6" curl -sS -m 10 "http://$W4$m"
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
}

# -p twice: a chain, first hop first.  dante carries the connection to
# tinyproxy, which opens the one to the world.
tcase curl_chain_dante_tinyproxy
tc_curl_chain_dante_tinyproxy() {
	need_prog curl
	local m nd nt
	m=$(mark)
	nd=$(pcount dante "$P4" 8888)
	nt=$(pcount tiny "$W4" 80)
	run pw -p "$U_DANTE" -p "$U_TINY" curl -sS -m 10 "http://$W4$m"
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
	proxy_saw dante "$P4" 8888 "$nd"
	proxy_saw tiny "$W4" 80 "$nt"
}
