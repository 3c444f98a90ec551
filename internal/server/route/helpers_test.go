package route_test

import (
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/route"
	"github.com/sluicehq/sluice/internal/testutil"
)

// node starts a clustered server on random ports routing to seeds.
func node(t testing.TB, name string, mutate func(*server.Options), seeds ...*server.Server) *server.Server {
	t.Helper()
	return testutil.RunServer(t, func(o *server.Options) {
		o.ServerName = name
		o.Cluster = &route.Config{Name: "c", Host: "127.0.0.1", Port: -1, ReconnectDelay: 50 * time.Millisecond}
		for _, s := range seeds {
			o.Cluster.Routes = append(o.Cluster.Routes, routeURL(s))
		}
		if mutate != nil {
			mutate(o)
		}
	})
}

func routeURL(s *server.Server) *url.URL {
	u, _ := url.Parse("nats-route://127.0.0.1:" + strconv.Itoa(s.Routes().Port()))
	return u
}

// mesh starts n servers, each routing to the first, and waits for the
// full mesh.
func mesh(t testing.TB, n int, mutate func(*server.Options)) []*server.Server {
	t.Helper()
	ss := []*server.Server{node(t, "s1", mutate)}
	for i := 2; i <= n; i++ {
		ss = append(ss, node(t, fmt.Sprintf("s%d", i), mutate, ss[0]))
	}
	waitMesh(t, ss...)
	return ss
}

func waitMesh(t testing.TB, ss ...*server.Server) {
	t.Helper()
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		for _, s := range ss {
			if n := len(s.Routes().Remotes()); n != len(ss)-1 {
				return fmt.Errorf("%s has %d peers, want %d", s.Name(), n, len(ss)-1)
			}
			if !s.Routes().PoolsFull() {
				var d []string
				for _, c := range s.Routes().Conns() {
					d = append(d, fmt.Sprintf("%s/%s/%d/sol=%v", c.RemoteName, c.Account, c.PoolIdx, c.Solicited))
				}
				return fmt.Errorf("%s: route pools not full: %v", s.Name(), d)
			}
		}
		return nil
	})
}

// waitInterest waits until s would forward subj of account $G somewhere:
// its index holds n subscriptions for it (local and remote).
func waitInterest(t testing.TB, s *server.Server, subj string, n int) {
	t.Helper()
	testutil.CheckFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		r := s.GlobalAccount().Match(subj)
		if r != n {
			return fmt.Errorf("%s: %d matches for %q, want %d", s.Name(), r, subj, n)
		}
		return nil
	})
}

func connect(t testing.TB, s *server.Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	return testutil.Connect(t, s, opts...)
}

func clusterAt(port int) *route.Config {
	return &route.Config{Name: "c", Host: "127.0.0.1", Port: port, ReconnectDelay: 50 * time.Millisecond}
}

func testutilWait(t testing.TB, f func() error) {
	t.Helper()
	testutil.CheckFor(t, 5*time.Second, 5*time.Millisecond, f)
}
