// supgo - a Go client for the supervisor's tests: Go makes its own system
// calls, so the shim sees none of them.  Built twice by the tests:
// CGO_ENABLED=0 (static) and CGO_ENABLED=1 (dynamic: os/user links libc).
//
//	supgo ADDR:PORT PATH [NET]   dial (NET: tcp, or tcp6 for an IPv6-only
//	                             socket), print the peer, HTTP GET, print
//	                             the status line
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) != 3 && len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: supgo ADDR:PORT PATH [tcp|tcp6]")
		os.Exit(2)
	}
	network := "tcp"
	if len(os.Args) == 4 {
		network = os.Args[3]
	}
	if u, err := user.Current(); err == nil {
		fmt.Printf("user=%s\n", u.Username)
	}
	c, err := net.DialTimeout(network, os.Args[1], 5*time.Second)
	if err != nil {
		var e syscall.Errno
		if errors.As(err, &e) {
			fmt.Printf("dial errno=%d\n", int(e))
		} else {
			fmt.Printf("dial error %v\n", err)
		}
		return
	}
	defer c.Close()
	// Go asks getpeername: a routed socket's is the destination
	fmt.Printf("peer=%s\n", c.RemoteAddr())
	fmt.Fprintf(c, "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", os.Args[2])
	buf := make([]byte, 12)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		fmt.Printf("read error %v\n", err)
	}
	fmt.Printf("status=%s\n", buf[:n])
}
