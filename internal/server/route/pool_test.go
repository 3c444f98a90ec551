package route_test

import (
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/auth"
)

func withAccountA(o *server.Options) {
	o.Accounts = append(o.Accounts, &server.AccountConfig{Name: "A"})
	o.Users = append(o.Users, &auth.User{Username: "a", Password: "a", Account: "A"},
		&auth.User{Username: "g", Password: "g"})
}

func TestPoolSizes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		p1, p2 int
		conns  int // route connections each side holds
	}{
		{"one", 1, 1, 2},        // a pool of one and $SYS's own
		{"five", 5, 5, 6},       // five and $SYS
		{"unpooled", -1, -1, 1}, // one connection, as before v2.10
		{"mixed", 3, -1, 1},     // a pooled server treats an unpooled peer as one connection
		{"different", 2, 4, 5},  // the larger pool wins, $SYS pinned on both
	} {
		t.Run(tc.name, func(t *testing.T) {
			s1 := node(t, "s1", func(o *server.Options) { o.Cluster.PoolSize = tc.p1 })
			s2 := node(t, "s2", func(o *server.Options) { o.Cluster.PoolSize = tc.p2 }, s1)
			waitMesh(t, s1, s2)
			for _, s := range []*server.Server{s1, s2} {
				if n := len(s.Routes().Conns()); n != tc.conns {
					t.Fatalf("%s holds %d route connections, want %d", s.Name(), n, tc.conns)
				}
			}
			// Every account's traffic finds its way whichever pool member carries it.
			a, b := connect(t, s1), connect(t, s2)
			for i := 0; i < 10; i++ {
				subj := fmt.Sprintf("p.%d", i)
				sub, _ := b.SubscribeSync(subj)
				b.Flush()
				waitInterest(t, s1, subj, 1)
				a.Publish(subj, nil)
				next(t, sub)
			}
		})
	}
}

func TestPinnedAccount(t *testing.T) {
	pin := func(o *server.Options) {
		withAccountA(o)
		o.Cluster.PinnedAccounts = []string{"A"}
	}
	s1 := node(t, "s1", pin)
	s2 := node(t, "s2", pin, s1)
	waitMesh(t, s1, s2)
	pinned := func(s *server.Server) (n int, out int64) {
		for _, c := range s.Routes().Conns() {
			if c.Account == "A" {
				n++
				out += c.OutMsgs
			}
		}
		return
	}
	if n, _ := pinned(s1); n != 1 {
		t.Fatalf("%d connections pinned to A, want 1", n)
	}
	a1 := connect(t, s1, nats.UserInfo("a", "a"))
	a2 := connect(t, s2, nats.UserInfo("a", "a"))
	g2 := connect(t, s2, nats.UserInfo("g", "g"))
	sa, _ := a2.SubscribeSync("only.a")
	sg, _ := g2.SubscribeSync("only.a")
	a2.Flush()
	g2.Flush()
	testutilWait(t, func() error {
		if s1.LookupAccount("A").Match("only.a") != 1 {
			return fmt.Errorf("no interest in A yet")
		}
		return nil
	})
	_, before := pinned(s1)
	a1.Publish("only.a", []byte("x"))
	next(t, sa)
	noMore(t, sg) // accounts stay apart across the cluster
	if _, after := pinned(s1); after != before+1 {
		t.Fatalf("pinned connection carried %d messages, want 1", after-before)
	}
}
