// Command nullserver is a NATS "server" that does no server work: it
// sends an INFO, reads the client's bytes with the same raw read(2) loop
// sluice uses, discards them unparsed, and answers a PING that ends what
// it read. With -ws it first upgrades to WebSocket and follows frame
// boundaries without unmasking the payloads. `nats bench pub` against it
// measures what a server that does no work gets from that client on the
// machine (the client's ceiling, give or take the noise: a server that
// keeps up gets as much), which the publish rows of scripts/bench-vs-ref
// are read against.
//
//	go run ./scripts/nullserver [-ws]    # prints the port it listens on
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/sluicehq/sluice/internal/server/sockio"
)

const info = `INFO {"server_id":"nullserver","version":"2.15.2","proto":1,"max_payload":1048576,"headers":true}` + "\r\n"

func main() {
	ws := flag.Bool("ws", false, "speak WebSocket")
	flag.Parse()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "nullserver:", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	serve := serveTCP
	if *ws {
		serve = serveWS
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go serve(c.(*net.TCPConn))
	}
}

// rawReader reads c as sluice does.
func rawReader(c *net.TCPConn) io.Reader {
	if sr := sockio.NewReader(c); sr != nil {
		return sr
	}
	return c
}

var ping = []byte("PING\r\n")

func serveTCP(c *net.TCPConn) {
	defer c.Close()
	c.Write([]byte(info))
	rd := rawReader(c)
	buf := make([]byte, 64*1024)
	// The last bytes of the previous read: a PING may straddle two reads.
	var tail [len("PING\r\n") - 1]byte
	var seen []byte
	for {
		n, err := rd.Read(buf)
		if err != nil {
			return
		}
		seen = append(append(seen[:0], tail[:]...), buf[:n]...)
		if bytes.HasSuffix(seen, ping) {
			c.Write([]byte("PONG\r\n"))
		}
		copy(tail[:], seen[len(seen)-len(tail):])
	}
}
