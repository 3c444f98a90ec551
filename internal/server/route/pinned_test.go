package route_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/auth"
	"github.com/sluicehq/sluice/internal/server/route"
	"github.com/sluicehq/sluice/internal/testutil"
)

func withAccountsAB(o *server.Options) {
	o.Accounts = append(o.Accounts, &server.AccountConfig{Name: "A"}, &server.AccountConfig{Name: "B"})
	o.Users = append(o.Users, &auth.User{Username: "a", Password: "a", Account: "A"},
		&auth.User{Username: "b", Password: "b", Account: "B"})
}

// dedicated counts s's route connections pinned to acc (to the peer
// named peer when not empty).
func dedicated(s *server.Server, acc, peer string) int {
	n := 0
	for _, c := range s.Routes().Conns() {
		if c.Account == acc && (peer == "" || c.RemoteName == peer) {
			n++
		}
	}
	return n
}

func waitDedicated(t *testing.T, s *server.Server, acc, peer string, want int, logs func() string) {
	t.Helper()
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if n := dedicated(s, acc, peer); n != want {
			return fmt.Errorf("%s: %d connections for account %s, want %d\n%s", s.Name(), n, acc, want, logs())
		}
		return nil
	})
}

// exactlyOnce publishes on pub and checks that sub gets it once.
func exactlyOnce(t *testing.T, pub *nats.Conn, sub *nats.Subscription, subj string) {
	t.Helper()
	pub.Publish(subj, []byte("x"))
	pub.Flush()
	next(t, sub)
	noMore(t, sub)
}

// An account pinned at runtime on the seed (which has no routes to dial)
// gets its own connection (the peer dials it back), keeps its interest
// exactly once, and goes back to the pool when unpinned.
func TestPinAtRuntime(t *testing.T) {
	s1 := node(t, "s1", withAccountsAB)
	s2 := node(t, "s2", withAccountsAB, s1)
	waitMesh(t, s1, s2)
	a1 := connect(t, s1, nats.UserInfo("a", "a"))
	a2 := connect(t, s2, nats.UserInfo("a", "a"))
	before, _ := a2.SubscribeSync("a.before")
	a2.Flush()
	acc := s1.LookupAccount("A")
	testutilWait(t, func() error {
		if acc.Match("a.before") != 1 {
			return fmt.Errorf("no interest yet")
		}
		return nil
	})

	s1.Routes().Pin("A")
	noLogs := func() string { return "" }
	waitDedicated(t, s1, "A", "s2", 1, noLogs)
	waitDedicated(t, s2, "A", "s1", 1, noLogs)
	testutilWait(t, func() error {
		if n := acc.Match("a.before"); n != 1 {
			return fmt.Errorf("%d matches for a.before on s1", n)
		}
		return nil
	})
	exactlyOnce(t, a1, before, "a.before")
	after, _ := a1.SubscribeSync("a.after")
	a1.Flush()
	waitInterestIn(t, s2, "A", "a.after", 1)
	exactlyOnce(t, a2, after, "a.after")
	// The message went over A's own connection.
	var out int64
	for _, c := range s2.Routes().Conns() {
		if c.Account == "A" {
			out = c.OutMsgs
		}
	}
	if out == 0 {
		t.Fatalf("A's connection carried nothing")
	}

	s1.Routes().Unpin("A")
	waitDedicated(t, s1, "A", "", 0, noLogs)
	waitDedicated(t, s2, "A", "", 0, noLogs)
	waitInterestIn(t, s1, "A", "a.before", 1)
	waitInterestIn(t, s2, "A", "a.after", 1)
	exactlyOnce(t, a1, before, "a.before")
	exactlyOnce(t, a2, after, "a.after")
}

func waitInterestIn(t *testing.T, s *server.Server, acc, subj string, n int) {
	t.Helper()
	testutilWait(t, func() error {
		if got := s.LookupAccount(acc).Match(subj); got != n {
			return fmt.Errorf("%s: %d matches for %q in %s, want %d", s.Name(), got, subj, acc, n)
		}
		return nil
	})
}

const refAccounts = `accounts {
  A { users [{user: a, password: a}] }
  B { users [{user: b, password: b}] }
}
`

// The runtime pin protocol with nats-server both ways: nats-server pins A
// on a reload, sluice pins B; each side's account gets its own
// connection and its messages cross once.
func TestPinAtRuntimeWithNATSServer(t *testing.T) {
	s1 := node(t, "s1", withAccountsAB)
	conf := func(accounts string) string {
		return fmt.Sprintf(`listen: "127.0.0.1:-1"
server_name: ref1
%s
cluster { name: c, listen: "127.0.0.1:%%s", routes: ["nats-route://127.0.0.1:%d"] %s }
`, refAccounts, s1.Routes().Port(), accounts)
	}
	ref := startRefConf(t, fmt.Sprintf(conf(""), "-1"))
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if len(s1.Routes().Remotes()) != 1 || !s1.Routes().PoolsFull() {
			return fmt.Errorf("not meshed\n%s", ref.logs.String())
		}
		return nil
	})
	rc, err := testutil.ConnectURL(ref.url, nats.UserInfo("a", "a"))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	a1 := connect(t, s1, nats.UserInfo("a", "a"))
	toRef, _ := rc.SubscribeSync("to.ref")
	rc.Flush()
	waitInterestIn(t, s1, "A", "to.ref", 1)

	// nats-server pins A on a reload (its cluster port stays the same).
	ru, err := route.ParseURL(ref.route)
	if err != nil {
		t.Fatal(err)
	}
	ref.rewrite(fmt.Sprintf(conf(", accounts: [A]"), ru.Port()))
	ref.reload()
	waitDedicated(t, s1, "A", "ref1", 1, ref.logs.String)
	waitInterestIn(t, s1, "A", "to.ref", 1)
	exactlyOnce(t, a1, toRef, "to.ref")
	toS1, _ := a1.SubscribeSync("to.s1")
	a1.Flush()
	flowsOnce(t, rc, toS1, "to.s1", ref.logs.String)

	// sluice pins B on a server that routes to nats-server.
	s3 := testutil.RunServer(t, func(o *server.Options) {
		o.ServerName = "s3"
		withAccountsAB(o)
		o.Cluster = clusterAt(-1)
		o.Cluster.Routes = append(o.Cluster.Routes, ru)
	})
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if len(s3.Routes().Remotes()) != 2 || !s3.Routes().PoolsFull() {
			return fmt.Errorf("s3 not meshed\n%s", ref.logs.String())
		}
		return nil
	})
	rb, err := testutil.ConnectURL(ref.url, nats.UserInfo("b", "b"))
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	b3 := connect(t, s3, nats.UserInfo("b", "b"))
	bRef, _ := rb.SubscribeSync("b.ref")
	rb.Flush()
	waitInterestIn(t, s3, "B", "b.ref", 1)

	s3.Routes().Pin("B")
	waitDedicated(t, s3, "B", "ref1", 1, ref.logs.String)
	waitInterestIn(t, s3, "B", "b.ref", 1)
	exactlyOnce(t, b3, bRef, "b.ref")
	bS3, _ := b3.SubscribeSync("b.s3")
	b3.Flush()
	flowsOnce(t, rb, bS3, "b.s3", ref.logs.String)
}

// flowsOnce publishes until sub gets a message (interest may still be
// on its way), then checks one more message arrives exactly once.
func flowsOnce(t *testing.T, pub *nats.Conn, sub *nats.Subscription, subj string, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pub.Publish(subj, nil)
		pub.Flush()
		if _, err := sub.NextMsg(100 * time.Millisecond); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: nothing arrived\n%s", subj, logs())
		}
	}
	for {
		if _, err := sub.NextMsg(200 * time.Millisecond); err != nil {
			break
		}
	}
	exactlyOnce(t, pub, sub, subj)
}

// Servers that disagree on cluster { accounts }: the one that pins A
// dials A's connection, the other takes it and uses it too, so A's
// messages cross once (nats-server refuses the connection and A's
// traffic between the two stops).
func TestPinnedOnOneSideOnly(t *testing.T) {
	s1 := node(t, "s1", withAccountsAB)
	s2 := node(t, "s2", func(o *server.Options) {
		withAccountsAB(o)
		o.Cluster.PinnedAccounts = []string{"A"}
	}, s1)
	waitMesh(t, s1, s2)
	waitDedicated(t, s1, "A", "s2", 1, func() string { return "" })
	a1 := connect(t, s1, nats.UserInfo("a", "a"))
	a2 := connect(t, s2, nats.UserInfo("a", "a"))
	s1sub, _ := a1.SubscribeSync("to.s1")
	s2sub, _ := a2.SubscribeSync("to.s2")
	a1.Flush()
	a2.Flush()
	waitInterestIn(t, s2, "A", "to.s1", 1)
	waitInterestIn(t, s1, "A", "to.s2", 1)
	exactlyOnce(t, a2, s1sub, "to.s1")
	exactlyOnce(t, a1, s2sub, "to.s2")
}

// A runtime pin in a mesh of three, driven by SetPinned as a reload
// would: every peer of the pinning server gets A's connection, the other
// pair keeps A in its pool, and A's messages cross once everywhere.
func TestSetPinnedMesh(t *testing.T) {
	ss := mesh(t, 3, withAccountsAB)
	ss[0].Routes().SetPinned(append(ss[0].Routes().Pinned(), "A"))
	noLogs := func() string { return "" }
	waitDedicated(t, ss[0], "A", "", 2, noLogs)
	waitDedicated(t, ss[1], "A", "s3", 0, noLogs)
	if got := ss[0].Routes().Pinned(); len(got) != 2 || got[0] != "$SYS" || got[1] != "A" {
		t.Fatalf("pinned %v", got)
	}
	cs := make([]*nats.Conn, 3)
	for i, s := range ss {
		cs[i] = connect(t, s, nats.UserInfo("a", "a"))
	}
	for i := range ss {
		subj := fmt.Sprintf("to.%d", i)
		sub, _ := cs[i].SubscribeSync(subj)
		cs[i].Flush()
		for j := range ss {
			if j != i {
				waitInterestIn(t, ss[j], "A", subj, 1)
			}
		}
		for j := range ss {
			if j != i {
				exactlyOnce(t, cs[j], sub, subj)
			}
		}
	}
	ss[0].Routes().SetPinned([]string{"$SYS"})
	waitDedicated(t, ss[0], "A", "", 0, noLogs)
	sub, _ := cs[1].SubscribeSync("after.unpin")
	cs[1].Flush()
	waitInterestIn(t, ss[0], "A", "after.unpin", 1)
	exactlyOnce(t, cs[0], sub, "after.unpin")
}

// nats-server pins A in its configuration, sluice does not: sluice takes
// the connection nats-server dials for A and uses it, both ways.
func TestPinnedByNATSServerOnly(t *testing.T) {
	s1 := node(t, "s1", withAccountsAB)
	ref := startRefConf(t, fmt.Sprintf(`listen: "127.0.0.1:-1"
server_name: ref1
%s
cluster { name: c, listen: "127.0.0.1:-1", routes: ["nats-route://127.0.0.1:%d"], accounts: [A] }
`, refAccounts, s1.Routes().Port()))
	waitDedicated(t, s1, "A", "ref1", 1, ref.logs.String)
	rc, err := testutil.ConnectURL(ref.url, nats.UserInfo("a", "a"))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	a1 := connect(t, s1, nats.UserInfo("a", "a"))
	toRef, _ := rc.SubscribeSync("to.ref")
	rc.Flush()
	flowsOnce(t, a1, toRef, "to.ref", ref.logs.String)
	toS1, _ := a1.SubscribeSync("to.s1")
	a1.Flush()
	flowsOnce(t, rc, toS1, "to.s1", ref.logs.String)
}
