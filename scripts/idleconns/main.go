// Command idleconns opens N client connections to a NATS server, completes
// the handshake on each (CONNECT, one SUB, PING/PONG) and holds them open
// until killed, so the server's memory per idle connection can be read.
//
//	go run ./scripts/idleconns 127.0.0.1:4222 10000
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: idleconns HOST:PORT COUNT")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "idleconns: COUNT must be a positive number")
		os.Exit(2)
	}
	conns := make([]net.Conn, 0, n)
	for i := 0; i < n; i++ {
		c, err := handshake(os.Args[1], i)
		if err != nil {
			fmt.Fprintf(os.Stderr, "idleconns: connection %d: %v\n", i, err)
			os.Exit(1)
		}
		conns = append(conns, c)
	}
	fmt.Println("ready", len(conns))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	<-sig
}

func handshake(addr string, i int) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	r := bufio.NewReader(c)
	if _, err := r.ReadString('\n'); err != nil { // INFO
		return nil, err
	}
	fmt.Fprintf(c, "CONNECT {\"verbose\":false,\"protocol\":1}\r\nSUB inbox.%d 1\r\nPING\r\n", i)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(line, "PONG") {
			return c, nil
		}
	}
}
