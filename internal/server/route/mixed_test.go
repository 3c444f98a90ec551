package route_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/route"
	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

// refNode is a nats-server v2.15.2 process in a mixed cluster.
type refNode struct {
	t      *testing.T
	bin    string
	conf   string
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
	logs   *cmdutil.SyncBuffer
	url    string
	route  string // the cluster URL from the ports file
}

// startRef runs nats-server named name in cluster c, routing to the
// sluice seed, with a fixed cluster port (so it can come back on it).
func startRef(t *testing.T, name string, seed *server.Server) *refNode {
	t.Helper()
	dir := t.TempDir()
	conf := fmt.Sprintf(`listen: "127.0.0.1:-1"
server_name: %s
ports_file_dir: %q
cluster { name: c, listen: "127.0.0.1:-1", routes: ["nats-route://127.0.0.1:%d"] }
`, name, dir, seed.Routes().Port())
	cf := filepath.Join(dir, "ref.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &refNode{t: t, bin: refbin.NATSServer(t), conf: cf, dir: dir}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *refNode) start() {
	t := r.t
	t.Helper()
	r.logs = &cmdutil.SyncBuffer{}
	r.cmd = exec.Command(r.bin, "-c", r.conf)
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.exited = make(chan struct{})
	go func(cmd *exec.Cmd, ch chan struct{}) { cmd.Wait(); close(ch) }(r.cmd, r.exited)
	pf := filepath.Join(r.dir, "nats-server_"+strconv.Itoa(r.cmd.Process.Pid)+".ports")
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		b, err := os.ReadFile(pf)
		if err != nil {
			return err
		}
		var p struct{ Nats, Cluster []string }
		if err := json.Unmarshal(b, &p); err != nil || len(p.Nats) == 0 || len(p.Cluster) == 0 {
			return fmt.Errorf("ports file: %v", err)
		}
		r.url, r.route = p.Nats[0], p.Cluster[0]
		return nil
	})
}

func (r *refNode) stop() {
	if r.cmd != nil {
		r.cmd.Process.Kill()
		<-r.exited
		r.cmd = nil
	}
}

func (r *refNode) connect(t *testing.T) *nats.Conn {
	t.Helper()
	nc, err := testutil.ConnectURL(r.url)
	if err != nil {
		t.Fatalf("connect to nats-server: %v\n%s", err, r.logs.String())
	}
	t.Cleanup(nc.Close)
	return nc
}

// flows waits until a message published by pub reaches sub (interest may
// take a moment to propagate through the cluster).
func flows(t *testing.T, pub, subc *nats.Conn, subj string, logs func() string) {
	t.Helper()
	sub, err := subc.SubscribeSync(subj)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	subc.Flush()
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		pub.Publish(subj, []byte(strconv.Itoa(i)))
		pub.Flush()
		if _, err := sub.NextMsg(100 * time.Millisecond); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no message from %s to %s\n%s", subj, pub.ConnectedServerName(), subc.ConnectedServerName(), logs())
		}
	}
}

func TestMixedClusterWithNATSServer(t *testing.T) {
	s1 := node(t, "s1", nil)
	ref := startRef(t, "ref1", s1)
	s2 := node(t, "s2", nil, s1)
	// Both sluice servers see all peers, the reference one through gossip.
	testutil.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		for _, s := range []*server.Server{s1, s2} {
			if n := len(s.Routes().Remotes()); n != 2 || !s.Routes().PoolsFull() {
				return fmt.Errorf("%s: %d peers (pools full %v)\n%s", s.Name(), n, s.Routes().PoolsFull(), ref.logs.String())
			}
		}
		return nil
	})
	r, a, b := ref.connect(t), connect(t, s1), connect(t, s2)
	logs := ref.logs.String
	flows(t, r, b, "ref.to.sluice", logs)
	flows(t, b, r, "sluice.to.ref", logs)
	flows(t, a, r, "seed.to.ref", logs)

	// Headers cross both ways.
	hs, _ := r.SubscribeSync("hdr")
	r.Flush()
	testutil.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if s2.GlobalAccount().Match("hdr") != 1 {
			return fmt.Errorf("no interest yet")
		}
		return nil
	})
	m := nats.NewMsg("hdr")
	m.Header.Set("X-Test", "1")
	m.Data = []byte("h")
	b.PublishMsg(m)
	if got := next(t, hs); got.Header.Get("X-Test") != "1" {
		t.Fatalf("header lost: %v", got.Header)
	}

	// Queue members only on the reference server and s2: each message
	// published on s1 reaches exactly one of them.
	var nr, nb atomic.Int32
	r.QueueSubscribe("jobs", "q", func(*nats.Msg) { nr.Add(1) })
	b.QueueSubscribe("jobs", "q", func(*nats.Msg) { nb.Add(1) })
	r.Flush()
	b.Flush()
	waitInterest(t, s1, "jobs", 2)
	for i := 0; i < 100; i++ {
		a.Publish("jobs", nil)
	}
	a.Flush()
	testutil.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if nr.Load()+nb.Load() != 100 {
			return fmt.Errorf("ref=%d sluice=%d, want 100 in all", nr.Load(), nb.Load())
		}
		return nil
	})

	// Request/reply both ways, and no responders through the reference.
	r.Subscribe("svc.ref", func(m *nats.Msg) { m.Respond([]byte("from ref")) })
	b.Subscribe("svc.sluice", func(m *nats.Msg) { m.Respond([]byte("from sluice")) })
	r.Flush()
	b.Flush()
	waitInterest(t, s1, "svc.ref", 1)
	waitInterest(t, s1, "svc.sluice", 1)
	if m, err := a.Request("svc.ref", nil, 2*time.Second); err != nil || string(m.Data) != "from ref" {
		t.Fatalf("request to ref: %v %v", m, err)
	}
	testutil.CheckFor(t, 5*time.Second, 50*time.Millisecond, func() error {
		m, err := r.Request("svc.sluice", nil, time.Second)
		if err != nil {
			return err
		}
		if string(m.Data) != "from sluice" {
			return fmt.Errorf("got %q", m.Data)
		}
		return nil
	})
	if _, err := r.Request("svc.nobody", nil, 2*time.Second); err != nats.ErrNoResponders {
		t.Fatalf("got %v, want no responders", err)
	}

	// The reference server leaves and comes back: the cluster heals.
	ref.stop()
	testutil.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := len(s1.Routes().Remotes()); n != 1 {
			return fmt.Errorf("s1 has %d peers", n)
		}
		return nil
	})
	ref.start()
	r = ref.connect(t)
	flows(t, r, b, "back.ref.to.sluice", logs)
	flows(t, b, r, "back.sluice.to.ref", logs)

	// A sluice server leaves and a new one joins through the reference
	// alone: nats-server gossips s1 to it.
	s2.Shutdown()
	u, err := route.ParseURL(ref.route)
	if err != nil {
		t.Fatal(err)
	}
	s3 := testutil.RunServer(t, func(o *server.Options) {
		o.ServerName = "s3"
		o.Cluster = clusterAt(-1)
		o.Cluster.Routes = []*url.URL{u}
	})
	testutil.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := len(s3.Routes().Remotes()); n != 2 || !s3.Routes().PoolsFull() {
			return fmt.Errorf("s3: %d peers", n)
		}
		return nil
	})
	c := connect(t, s3)
	flows(t, c, a, "s3.to.s1", logs)
	flows(t, a, c, "s1.to.s3", logs)
	flows(t, c, r, "s3.to.ref", logs)
}
