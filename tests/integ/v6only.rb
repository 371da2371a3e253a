# v6only.rb - Ruby's own ways to connect, for t_fidelity_dns.sh.
#
#   ruby v6only.rb block|nonblock inet6 HOST PORT PATH
#       Addrinfo.getaddrinfo(HOST, PORT, :INET6)[0].connect (blocking),
#       or connect_nonblock + IO.select + SO_ERROR: Ruby sets IPV6_V6ONLY
#       on the socket either way (Addrinfo#connect_internal)
#   ruby v6only.rb tcp any HOST PORT PATH
#       Socket.tcp(HOST, PORT): getaddrinfo AF_UNSPEC, each answer in turn
#   ruby v6only.rb tcp_timeout any HOST PORT PATH
#       Socket.tcp(HOST, PORT, connect_timeout: 5): connect_nonblock,
#       IO.select, then connect_nonblock again (0 or EISCONN)
# Prints "remote ADDR", then the HTTP status line.
require "socket"

mode, _fam, host, port, path = ARGV
port = Integer(port)

sock = nil
case mode
when "block"
  ai = Addrinfo.getaddrinfo(host, port, :INET6, :STREAM)[0]
  sock = ai.connect
when "nonblock"
  ai = Addrinfo.getaddrinfo(host, port, :INET6, :STREAM)[0]
  sock = Socket.new(ai.pfamily, ai.socktype, ai.protocol)
  sock.ipv6only!
  if sock.connect_nonblock(ai, exception: false) == :wait_writable
    IO.select(nil, [sock], nil, 10) or abort("connect timed out")
    err = sock.getsockopt(:SOCKET, :ERROR).int
    raise SystemCallError.new("connect", err) if err != 0
  end
when "tcp"
  sock = Socket.tcp(host, port)
when "tcp_timeout"
  sock = Socket.tcp(host, port, connect_timeout: 5)
else
  abort "mode?"
end
puts "remote #{sock.remote_address.inspect_sockaddr}"
sock.write("GET #{path} HTTP/1.0\r\nHost: t\r\n\r\n")
resp = +""
while (chunk = (sock.readpartial(4096) rescue nil))
  resp << chunk
end
puts resp.lines.first.to_s.chomp
exit(resp.start_with?("HTTP/1.1 200", "HTTP/1.0 200") ? 0 : 1)
