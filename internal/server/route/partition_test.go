package route_test

import (
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// Proxy modes.
const (
	forward   = iota
	blackhole // read and drop: the peer looks alive to TCP but says nothing
	stall     // stop reading: the sender's socket fills up
)

// proxy sits between two servers and can stop forwarding.
type proxy struct {
	ln     net.Listener
	target string
	mode   atomic.Int32
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		d, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, d)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, d)
		go p.pipe(d, c)
	}
}

func (p *proxy) pipe(from, to net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32*1024)
	for {
		for p.mode.Load() == stall {
			time.Sleep(5 * time.Millisecond)
		}
		n, err := from.Read(buf)
		if n > 0 && p.mode.Load() == forward {
			if _, werr := to.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			to.Close()
			return
		}
	}
}

func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.mode.Store(forward)
	p.wg.Wait()
}

func (p *proxy) url() *url.URL {
	u, _ := url.Parse("nats-route://" + p.ln.Addr().String())
	return u
}

func fastPings(o *server.Options) {
	o.Cluster.PingInterval = 50 * time.Millisecond
	o.Cluster.MaxPingsOut = 2
	o.Cluster.WriteDeadline = 200 * time.Millisecond
}

// A route cut by a proxy that stops forwarding: both sides notice (no
// PONG), keep serving their own clients, and heal when it forwards again.
func TestPartitionHeals(t *testing.T) {
	s1 := node(t, "s1", fastPings)
	px := newProxy(t, fmt.Sprintf("127.0.0.1:%d", s1.Routes().Port()))
	s2 := testutil.RunServer(t, func(o *server.Options) {
		o.ServerName = "s2"
		o.Cluster = clusterAt(-1)
		o.Cluster.Routes = []*url.URL{px.url()}
		fastPings(o)
	})
	waitMesh(t, s1, s2)
	c1, c2 := connect(t, s1), connect(t, s2)
	flows(t, c1, c2, "before", func() string { return "" })

	px.mode.Store(blackhole)
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if n1, n2 := len(s1.Routes().Remotes()), len(s2.Routes().Remotes()); n1+n2 != 0 {
			return fmt.Errorf("peers still held: s1=%d s2=%d", n1, n2)
		}
		return nil
	})
	// Each side still serves its own clients.
	for _, nc := range []*nats.Conn{c1, c2} {
		sub, _ := nc.SubscribeSync("local")
		nc.Publish("local", []byte("x"))
		next(t, sub)
		sub.Unsubscribe()
	}

	px.mode.Store(forward)
	waitMesh(t, s1, s2)
	flows(t, c1, c2, "after", func() string { return "" })
	flows(t, c2, c1, "after.back", func() string { return "" })
}

// A peer that stops reading is cut by the write deadline; publishers on
// this side are never held up by it.
func TestStalledRouteDoesNotBlockClients(t *testing.T) {
	s1 := node(t, "s1", fastPings)
	px := newProxy(t, fmt.Sprintf("127.0.0.1:%d", s1.Routes().Port()))
	s2 := testutil.RunServer(t, func(o *server.Options) {
		o.ServerName = "s2"
		o.Cluster = clusterAt(-1)
		o.Cluster.Routes = []*url.URL{px.url()}
		fastPings(o)
	})
	waitMesh(t, s1, s2)
	remote := connect(t, s1)
	remote.SubscribeSync("flood")
	remote.Flush()
	waitInterest(t, s2, "flood", 1)
	local := connect(t, s2)
	var got atomic.Int32
	local.Subscribe("flood", func(*nats.Msg) { got.Add(1) })
	local.Flush()

	px.mode.Store(stall)
	pub := connect(t, s2)
	payload := make([]byte, 1024)
	const n = 20000 // 20 MB: far more than the socket buffers hold
	for i := 0; i < n; i++ {
		pub.Publish("flood", payload)
	}
	if err := pub.FlushTimeout(10 * time.Second); err != nil {
		t.Fatalf("publisher held up by the stalled route: %v", err)
	}
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if got.Load() != n {
			return fmt.Errorf("local subscriber got %d of %d", got.Load(), n)
		}
		return nil
	})
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if len(s2.Routes().Remotes()) != 0 {
			return fmt.Errorf("the stalled route is still up")
		}
		return nil
	})
	px.mode.Store(forward)
	waitMesh(t, s1, s2)
}
