package route_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// routeCIDs lists s's route connections by CID, with their compression.
func routeCIDs(s *server.Server) map[uint64]string {
	out := map[uint64]string{}
	for _, c := range s.Routes().Conns() {
		out[c.CID] = c.Compression
	}
	return out
}

func sameCIDs(a, b map[uint64]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

func waitModes(t *testing.T, s *server.Server, want string) {
	t.Helper()
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		for cid, m := range routeCIDs(s) {
			if m != want {
				return fmt.Errorf("%s cid %d: compression %q, want %q", s.Name(), cid, m, want)
			}
		}
		return nil
	})
}

// sendAcross sends n messages of a compressible payload from a to b's
// subscriber and checks they all arrive intact.
func sendAcross(t *testing.T, a, b *server.Server, subj string, n int) {
	t.Helper()
	sub, _ := connect(t, b).SubscribeSync(subj)
	waitInterest(t, a, subj, 1)
	nc := connect(t, a)
	body := []byte(strings.Repeat("compress me ", 200))
	for range n {
		nc.Publish(subj, body)
	}
	for range n {
		if m := next(t, sub); string(m.Data) != string(body) {
			t.Fatalf("%s: payload changed on the way", subj)
		}
	}
}

// Between compressed modes a reload changes the writer in place, as
// nats-server does: the same connections carry on.
func TestReloadCompressionInPlace(t *testing.T) {
	withMode := func(m string) func(o *server.Options) {
		return func(o *server.Options) { o.Cluster.Compression = m }
	}
	ss := mesh(t, 3, withMode("s2_fast"))
	for _, s := range ss {
		waitModes(t, s, "s2_fast")
	}
	sendAcross(t, ss[0], ss[1], "before", 20)
	before := make([]map[uint64]string, len(ss))
	for i, s := range ss {
		before[i] = routeCIDs(s)
	}

	// While messages are being sent, one side first: each side's writer
	// is its own, the peer's reader takes the new stream.
	sub, _ := connect(t, ss[1]).SubscribeSync("during")
	waitInterest(t, ss[0], "during", 1)
	pub := connect(t, ss[0])
	body := []byte(strings.Repeat("x", 5000))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 500 {
			pub.Publish("during", body)
		}
		pub.Flush()
	}()
	mustReload(t, ss[0], withMode("s2_best"))
	<-done
	for range 500 {
		next(t, sub)
	}
	waitModes(t, ss[0], "s2_best")
	waitModes(t, ss[1], "s2_fast")
	for _, s := range ss[1:] {
		mustReload(t, s, withMode("s2_best"))
	}
	for i, s := range ss {
		waitModes(t, s, "s2_best")
		if after := routeCIDs(s); !sameCIDs(before[i], after) {
			t.Fatalf("%s: routes were recreated: %v -> %v", s.Name(), before[i], after)
		}
	}
	sendAcross(t, ss[0], ss[1], "after.best", 20)
	sendAcross(t, ss[2], ss[0], "after.best2", 20)

	// s2_auto resolves from the round trip (local: below 10ms) in place.
	for _, s := range ss {
		mustReload(t, s, withMode("s2_auto"))
	}
	for i, s := range ss {
		waitModes(t, s, "s2_uncompressed")
		if after := routeCIDs(s); !sameCIDs(before[i], after) {
			t.Fatalf("%s: routes were recreated by s2_auto", s.Name())
		}
	}
	sendAcross(t, ss[1], ss[2], "after.auto", 20)

	// Turning compression off negotiates again: new connections.
	for _, s := range ss {
		mustReload(t, s, withMode("off"))
	}
	waitMesh(t, ss...)
	for i, s := range ss {
		waitModes(t, s, "off")
		after := routeCIDs(s)
		for cid := range after {
			if _, ok := before[i][cid]; ok {
				t.Fatalf("%s: cid %d survived turning compression off", s.Name(), cid)
			}
		}
	}
	sendAcross(t, ss[0], ss[2], "after.off", 20)
}

// From off to a compressed mode the routes are closed and recreated.
func TestReloadCompressionOffToOn(t *testing.T) {
	ss := mesh(t, 2, func(o *server.Options) { o.Cluster.Compression = "off" })
	before := routeCIDs(ss[0])
	for _, s := range ss {
		mustReload(t, s, func(o *server.Options) { o.Cluster.Compression = "s2_fast" })
	}
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		for _, s := range ss {
			for _, c := range s.Routes().Conns() {
				if c.Compression != "s2_fast" {
					return fmt.Errorf("%s: cid %d compression %q", s.Name(), c.CID, c.Compression)
				}
			}
		}
		return nil
	})
	waitMesh(t, ss...)
	after := routeCIDs(ss[0])
	for cid := range after {
		if _, ok := before[cid]; ok {
			t.Fatalf("cid %d was not recreated", cid)
		}
	}
	if len(after) == 0 || slices.Contains(mapsValues(after), "off") {
		t.Fatalf("routes after: %v", after)
	}
	sendAcross(t, ss[0], ss[1], "on", 20)
}

func mapsValues(m map[uint64]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// With nats-server on the other end: sluice moves from s2_fast to
// s2_best in place, and nats-server's reader takes the new stream
// without dropping the routes.
func TestMixedClusterReloadCompressionInPlace(t *testing.T) {
	s1 := node(t, "s1", func(o *server.Options) { o.Cluster.Compression = "s2_fast" })
	ref := startRefCluster(t, "ref1", fmt.Sprintf("compression: s2_fast\nroutes: [\"nats-route://127.0.0.1:%d\"]", s1.Routes().Port()))
	testutil.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := len(s1.Routes().Remotes()); n != 1 || !s1.Routes().PoolsFull() {
			return fmt.Errorf("s1: %d peers\n%s", n, ref.logs.String())
		}
		return nil
	})
	waitModes(t, s1, "s2_fast")
	r, a := ref.connect(t), connect(t, s1)
	flows(t, a, r, "mixed.before", ref.logs.String)
	before := routeCIDs(s1)
	closed := strings.Count(ref.logs.String(), "connection closed")

	mustReload(t, s1, func(o *server.Options) { o.Cluster.Compression = "s2_best" })
	waitModes(t, s1, "s2_best")
	body := strings.Repeat("compress me ", 500)
	sub, _ := r.SubscribeSync("mixed.after")
	r.Flush()
	waitInterest(t, s1, "mixed.after", 1)
	for range 50 {
		a.Publish("mixed.after", []byte(body))
	}
	for range 50 {
		if m := next(t, sub); string(m.Data) != body {
			t.Fatalf("payload changed crossing to nats-server")
		}
	}
	flows(t, r, a, "mixed.back", ref.logs.String)
	if after := routeCIDs(s1); !sameCIDs(before, after) {
		t.Fatalf("routes were recreated: %v -> %v\n%s", before, after, ref.logs.String())
	}
	if n := strings.Count(ref.logs.String(), "connection closed"); n != closed {
		t.Fatalf("nats-server saw a route close\n%s", ref.logs.String())
	}
}
