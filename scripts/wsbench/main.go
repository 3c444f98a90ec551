// Command wsbench compares sluice with nats-server over WebSocket, in
// one run on one machine: publish-only and publisher->subscriber
// throughput with nats.go over ws:// (with and without permessage-deflate),
// and resident memory per idle WebSocket connection.
//
//	go run ./scripts/wsbench -sluice bin/sluice -ref ~/peers/bin/nats-server
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

func main() {
	sluice := flag.String("sluice", "bin/sluice", "sluice binary")
	ref := flag.String("ref", filepath.Join(os.Getenv("HOME"), "peers/bin/nats-server"), "nats-server binary")
	runs := flag.Int("runs", 5, "alternating runs per workload")
	msgs := flag.Int("msgs", 500000, "messages per run")
	size := flag.Int("size", 128, "payload size")
	idle := flag.Int("idle", 2000, "idle WebSocket connections for the memory figure (0: skip)")
	only := flag.String("only", "", "run only this workload: publish, publish-deflate, pub->sub or pub->sub-deflate")
	flag.Parse()

	servers := []*proc{start("sluice", *sluice, "serve"), start("nats-server", *ref)}
	defer stopAll()
	// Memory first, on fresh processes: later the heap left by the
	// throughput runs would absorb the connections.
	if *idle > 0 {
		fmt.Printf("resident memory per idle WebSocket connection (%d connections, each CONNECT + SUB + PING):\n", *idle)
		for _, s := range servers {
			fmt.Printf("  %-12s %6.1f KiB\n", s.name, idleMemory(s, *idle)/1024)
		}
	}
	payload := bytes.Repeat([]byte("x"), *size)
	fmt.Printf("%d messages of %d B per run, median of %d alternating runs, msgs/s\n", *msgs, *size, *runs)
	fmt.Printf("%-34s %14s %14s %7s   %s\n", "workload", "sluice", "nats-server", "ratio", "server CPU per msg, sluice / nats-server")
	for _, comp := range []bool{false, true} {
		for _, w := range []struct {
			name string
			fn   func(url string, comp bool, n int, p []byte) float64
		}{{"publish", pubOnly}, {"pub->sub", pubSub}} {
			if key := map[bool]string{false: w.name, true: w.name + "-deflate"}[comp]; *only != "" && *only != key {
				continue
			}
			res := make([][]float64, len(servers))
			cpu := make([]float64, len(servers))
			for range *runs {
				for i, s := range servers {
					c0 := cpuSeconds(s.cmd.Process.Pid)
					res[i] = append(res[i], w.fn(s.wsURL, comp, *msgs, payload))
					cpu[i] += cpuSeconds(s.cmd.Process.Pid) - c0
				}
			}
			a, b := median(res[0]), median(res[1])
			per := func(i int) float64 { return cpu[i] / float64(*runs**msgs) * 1e9 }
			fmt.Printf("%-34s %14.0f %14.0f %7.2f   %.0f / %.0f ns\n", fmt.Sprintf("%s, compression %v", w.name, comp), a, b, a/b, per(0), per(1))
		}
	}
}

// started are the servers to stop on any exit, failures included.
var started []*proc

func stopAll() {
	for _, p := range started {
		p.stop()
	}
	started = nil
}

type proc struct {
	name, wsURL, dir string
	cmd              *exec.Cmd
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func start(name, bin string, args ...string) *proc {
	dir, _ := os.MkdirTemp("", "wsbench")
	ws := freePort()
	conf := filepath.Join(dir, "c.conf")
	os.WriteFile(conf, fmt.Appendf(nil, "listen: \"127.0.0.1:%d\"\nwebsocket { listen: \"127.0.0.1:%d\", no_tls: true, compression: true }\n", freePort(), ws), 0o600)
	cmd := exec.Command(bin, append(args, "-c", conf)...)
	if err := cmd.Start(); err != nil {
		fail("start %s: %v", bin, err)
	}
	p := &proc{name: name, wsURL: fmt.Sprintf("ws://127.0.0.1:%d", ws), cmd: cmd, dir: dir}
	started = append(started, p)
	fmt.Printf("%s: %s\n", name, p.wsURL)
	for range 100 {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ws)); err == nil {
			c.Close()
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
	fail("%s never listened", name)
	return nil
}

func (p *proc) stop() {
	p.cmd.Process.Kill()
	p.cmd.Wait()
	os.RemoveAll(p.dir)
}

func fail(f string, a ...any) {
	stopAll()
	fmt.Fprintf(os.Stderr, "wsbench: "+f+"\n", a...)
	os.Exit(1)
}

func connect(url string, comp bool) *nats.Conn {
	nc, err := nats.Connect(url, nats.Compression(comp), nats.ReconnectBufSize(-1), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			fmt.Fprintf(os.Stderr, "wsbench: %s: async error %v\n", url, err)
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				fmt.Fprintf(os.Stderr, "wsbench: %s: disconnected: %v\n", url, err)
			}
		}))
	if err != nil {
		fail("connect %s: %v", url, err)
	}
	return nc
}

func pubOnly(url string, comp bool, n int, p []byte) float64 {
	nc := connect(url, comp)
	defer nc.Close()
	t0 := time.Now()
	for range n {
		nc.Publish("bench", p)
	}
	if err := nc.FlushTimeout(time.Minute); err != nil {
		fail("flush: %v", err)
	}
	return float64(n) / time.Since(t0).Seconds()
}

func pubSub(url string, comp bool, n int, p []byte) float64 {
	sc, pc := connect(url, comp), connect(url, comp)
	defer sc.Close()
	defer pc.Close()
	var got atomic.Int64
	done := make(chan struct{})
	sub, _ := sc.Subscribe("bench", func(*nats.Msg) {
		if got.Add(1) == int64(n) {
			close(done)
		}
	})
	sub.SetPendingLimits(-1, -1)
	sc.Flush()
	t0 := time.Now()
	// A window keeps the publisher at most 50,000 messages ahead: without
	// it output piles up in the server and nats.go was seen to lose
	// messages over ws:// from nats-server as well as from sluice.
	const window = 50000
	for i := range n {
		if i%1000 == 0 {
			for int64(i)-got.Load() > window {
				time.Sleep(50 * time.Microsecond)
			}
		}
		pc.Publish("bench", p)
	}
	pc.Flush()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		fail("%s: subscriber got %d of %d (compression %v)", url, got.Load(), n, comp)
	}
	return float64(n) / time.Since(t0).Seconds()
}

func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}

// cpuSeconds is the user and system CPU time of a process so far.
func cpuSeconds(pid int) float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	k, _ := strconv.ParseFloat(f[12], 64)
	return (u + k) / 100 // clock ticks (USER_HZ)
}

func rss(pid int) float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb * 1024
		}
	}
	return 0
}

// idleMemory opens n raw WebSocket clients (CONNECT, SUB, PING, PONG
// read) and returns the growth of the server's RSS per connection.
func idleMemory(p *proc, n int) float64 {
	addr := strings.TrimPrefix(p.wsURL, "ws://")
	before := rss(p.cmd.Process.Pid)
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		c, err := rawClient(addr, i)
		if err != nil {
			fail("idle connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	time.Sleep(2 * time.Second)
	return (rss(p.cmd.Process.Pid) - before) / float64(n)
}

func rawClient(addr string, i int) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	key := make([]byte, 16)
	rand.Read(key)
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
		addr, base64.StdEncoding.EncodeToString(key))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		return nil, fmt.Errorf("upgrade: %v", err)
	}
	msg := fmt.Sprintf("CONNECT {\"verbose\":false}\r\nSUB idle.%d 1\r\nPING\r\n", i)
	frame := append([]byte{0x82, 0x80 | byte(len(msg)), 0, 0, 0, 0}, msg...) // zero mask key
	if _, err := c.Write(frame); err != nil {
		return nil, err
	}
	var seen []byte
	buf := make([]byte, 4096)
	for !bytes.Contains(seen, []byte("PONG")) {
		k, err := br.Read(buf)
		if err != nil {
			return nil, err
		}
		seen = append(seen, buf[:k]...)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}
