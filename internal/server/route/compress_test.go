package route_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/route"
	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

func compression(s *server.Server) (modes map[string]bool, wire, payload int64) {
	modes = map[string]bool{}
	for _, c := range s.Routes().Conns() {
		modes[c.Compression] = true
		wire += c.WireOut
		payload += c.OutBytes
	}
	return
}

func TestCompressionNegotiated(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{route.CompressionS2Fast, "", route.CompressionS2Fast}, // b accepts (the default)
		{route.CompressionS2Best, route.CompressionS2Best, route.CompressionS2Best},
		{"", "", route.CompressionOff}, // both accept: nobody starts it
		{route.CompressionS2Fast, route.CompressionOff, route.CompressionOff},
	} {
		t.Run(tc.a+"-"+tc.b, func(t *testing.T) {
			s1 := node(t, "s1", func(o *server.Options) { o.Cluster.Compression = tc.a })
			s2 := node(t, "s2", func(o *server.Options) { o.Cluster.Compression = tc.b }, s1)
			waitMesh(t, s1, s2)
			if m, _, _ := compression(s2); len(m) != 1 || !m[tc.want] {
				t.Fatalf("s2 routes use %v, want %s", m, tc.want)
			}
			sub, _ := connect(t, s2).SubscribeSync("z")
			waitInterest(t, s1, "z", 1)
			pub := connect(t, s1)
			payload := bytes.Repeat([]byte("compressible "), 100)
			for i := 0; i < 100; i++ {
				pub.Publish("z", payload)
			}
			for i := 0; i < 100; i++ {
				if m := next(t, sub); !bytes.Equal(m.Data, payload) {
					t.Fatal("payload damaged")
				}
			}
			_, wire, sent := compression(s1)
			if tc.want != route.CompressionOff && wire >= sent {
				t.Fatalf("%d bytes on the wire for %d of payload: not compressed", wire, sent)
			}
		})
	}
}

// nats-server asking for s2_fast and a sluice server accepting it (and the
// other way round) exchange compressed traffic.
func TestCompressionWithNATSServer(t *testing.T) {
	for _, refMode := range []string{"s2_fast", "accept"} {
		t.Run(refMode, func(t *testing.T) {
			s1 := node(t, "s1", func(o *server.Options) {
				if refMode == "accept" {
					o.Cluster.Compression = route.CompressionS2Better
				}
			})
			dir := t.TempDir()
			conf := fmt.Sprintf(`listen: "127.0.0.1:-1"
server_name: ref1
ports_file_dir: %q
cluster { name: c, listen: "127.0.0.1:-1", compression: %s, routes: ["nats-route://127.0.0.1:%d"] }
`, dir, refMode, s1.Routes().Port())
			cf := filepath.Join(dir, "ref.conf")
			os.WriteFile(cf, []byte(conf), 0o600)
			ref := &refNode{t: t, bin: refbin.NATSServer(t), conf: cf, dir: dir}
			ref.start()
			t.Cleanup(ref.stop)
			testutil.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
				if n := len(s1.Routes().Remotes()); n != 1 || !s1.Routes().PoolsFull() {
					return fmt.Errorf("%d peers\n%s", n, ref.logs.String())
				}
				return nil
			})
			if m, _, _ := compression(s1); m[route.CompressionOff] || len(m) != 1 {
				t.Fatalf("routes use %v", m)
			}
			r, a := ref.connect(t), connect(t, s1)
			flows(t, r, a, "ref.to.sluice", ref.logs.String)
			flows(t, a, r, "sluice.to.ref", ref.logs.String)
		})
	}
}
