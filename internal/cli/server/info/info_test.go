package infocmd_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	infocmd "github.com/sluicehq/sluice/internal/cli/server/info"
	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/pkg/api"
)

func TestInfo(t *testing.T) {
	srvtest.Both(t, srvtest.RefOptions{}, func(t *testing.T, s *srvtest.Server) {
		// By name (resolved by ping), by id, and the connected server.
		for _, args := range [][]string{{s.Name}, {s.ID}, {}} {
			r := clitest.Run(t, append([]string{"server", "info"}, args...)...)
			clitest.ExpectCode(t, r, 0)
			for _, want := range []string{"Server information for " + s.Name + " (" + s.ID + ")", "Process Details:",
				"Connection Details:", "Auth Required: true", "Limits:", "Statistics:", "Connections: "} {
				if !strings.Contains(r.Stdout, want) {
					t.Fatalf("info %v: missing %q in:\n%s", args, want, r.Stdout)
				}
			}
		}
	})
}

func TestInfoJSON(t *testing.T) {
	srvtest.Both(t, srvtest.RefOptions{}, func(t *testing.T, s *srvtest.Server) {
		r := clitest.Run(t, "server", "info", s.Name, "--json")
		clitest.ExpectCode(t, r, 0)
		var v api.Varz
		if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
			t.Fatalf("%v: %s", err, r.Stdout)
		}
		if v.ID != s.ID || v.Name != s.Name || !v.AuthRequired || v.Connections < 1 {
			t.Fatalf("varz %+v", v)
		}
	})
}

func TestInfoErrors(t *testing.T) {
	s := srvtest.Serve(t)
	r := clitest.Run(t, "server", "info", "nosuch")
	if r.Code != cmdutil.ExitNotFound || !strings.Contains(r.Stderr, `server "nosuch" not found; known servers: `+s.Name) {
		t.Fatalf("unknown name: exit %d %s", r.Code, r.Stderr)
	}
	// An id nobody has: nobody answers.
	r = clitest.Run(t, "server", "info", "NAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "--timeout", "200ms")
	if r.Code != cmdutil.ExitNoResponders || !strings.Contains(r.Stderr, "no server has the id NAAAA") {
		t.Fatalf("unknown id: exit %d %s", r.Code, r.Stderr)
	}
	r = clitest.Run(t, "server", "info", "a", "b")
	if r.Code != cmdutil.ExitUsage {
		t.Fatalf("two servers: exit %d %s", r.Code, r.Stderr)
	}
	srvtest.ActAs(t, srvtest.AppUser, srvtest.AppPass)
	r = clitest.Run(t, "server", "info", s.Name)
	if r.Code != cmdutil.ExitNoResponders || !strings.Contains(r.Stderr, "system account") {
		t.Fatalf("non-system user: exit %d, %s", r.Code, r.Stderr)
	}
}

func TestDescribe(t *testing.T) {
	v := &api.Varz{ID: "NID", Name: "n1", Version: "2.15.2", SluiceVersion: "0.1.0", Host: "0.0.0.0", Port: 4222,
		ClientConnectURLs: []string{"nats://a:4222", "nats://b:4222"}, MaxPayload: 1 << 20, TLSTimeout: 2,
		WriteDeadline: 10 * time.Second, Start: time.Now(), Uptime: "1m2s",
		JetStream: api.JetStreamVarz{Config: &api.JetStreamConfig{StoreDir: "/data/js", MaxMemory: 1 << 30, Domain: "hub"},
			Stats: &api.JetStreamStats{API: api.JetStreamAPIStats{Level: 2, Total: 1234}}},
		Cluster: api.ClusterOptsVarz{Name: "east", Host: "0.0.0.0", Port: 6222, URLs: []string{"r1:6222"}},
		Gateway: api.GatewayOptsVarz{Name: "east", Gateways: []api.RemoteGatewayOptsVarz{{Name: "west"}, {Name: "central"}}}}
	var b strings.Builder
	infocmd.Describe(v).Write(&b)
	out := b.String()
	for _, want := range []string{"Server information for n1 (NID)", "Sluice Version: 0.1.0", "Client URLs: nats://a:4222\n",
		"  nats://b:4222\n", "JetStream:", "Storage Directory: /data/js", "Domain: hub", "API Requests: 1,234",
		"Maximum Payload: 1.0 MiB", "Maximum Subscriptions: unlimited", "TLS Timeout: 2s", "Cluster:", "Name: east",
		"Super Cluster:", "Clusters: central\n", "  west\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}
