// gofetch - the Go client of bench/supervise.sh's throughput rows: Go makes
// its own system calls, so only the supervisor can route it.
//
//	gofetch URL N [PROXY]   N GETs of URL (a new connection each), the
//	                        bodies discarded; with PROXY (socks5://...)
//	                        Go's own proxy support, as HTTPS_PROXY would
//	                        configure it; prints mb_per_s
package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: gofetch URL N [PROXY]")
		os.Exit(2)
	}
	n, _ := strconv.Atoi(os.Args[2])
	tr := &http.Transport{DisableKeepAlives: true}
	if len(os.Args) > 3 {
		// http.ProxyURL, not ProxyFromEnvironment: that one never
		// proxies a loopback address
		u, err := url.Parse(os.Args[3])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		tr.Proxy = http.ProxyURL(u)
	}
	c := &http.Client{Transport: tr}
	var total int64
	t0 := time.Now()
	for i := 0; i < n; i++ {
		r, err := c.Get(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		k, err := io.Copy(io.Discard, r.Body)
		r.Body.Close()
		if err != nil || r.StatusCode != 200 {
			fmt.Fprintln(os.Stderr, "short body", err, r.Status)
			os.Exit(1)
		}
		total += k
	}
	s := time.Since(t0).Seconds()
	fmt.Printf("mb_per_s=%.1f bytes=%d\n", float64(total)/1e6/s, total)
}
