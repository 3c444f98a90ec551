package route_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

// JetStream with a cluster block: refused with nats-server's errors where
// nats-server refuses too, and refused as unsupported where nats-server
// would run clustered JetStream (sluice has no meta group yet).
func TestJetStreamWithClusterRefused(t *testing.T) {
	ref := refbin.NATSServer(t)
	for _, tc := range []struct {
		name, conf, want string
		refToo           bool
	}{
		{"no server name", `cluster { name: c, listen: "127.0.0.1:-1" }`,
			"jetstream cluster requires `server_name` to be set", true},
		{"no cluster name", "server_name: a\ncluster { listen: \"127.0.0.1:-1\" }",
			"jetstream cluster requires `cluster.name` to be set", true},
		{"no routes", "server_name: a\ncluster { name: c, listen: \"127.0.0.1:-1\" }",
			"JetStream cluster requires configured routes or solicited leafnode for the system account", true},
		{"clustered", "server_name: a\ncluster { name: c, listen: \"127.0.0.1:-1\", routes: [\"nats-route://127.0.0.1:1\"] }",
			"clustered JetStream is not supported yet", false},
		{"routes only", "server_name: a\ncluster { name: c, routes: [\"nats-route://127.0.0.1:1\"] }",
			"clustered JetStream is not supported yet", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			conf := "listen: \"127.0.0.1:-1\"\njetstream { store_dir: \"" + dir + "\" }\n" + tc.conf + "\n"
			o, err := loadConf(t, conf)
			if err != nil {
				t.Fatal(err)
			}
			o.Host, o.Port = "127.0.0.1", server.RandomPort
			if _, err = server.New(o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if !tc.refToo {
				return
			}
			cf := filepath.Join(dir, "ref.conf")
			if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, ref, "-c", cf).CombinedOutput()
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Fatalf("nats-server: %v\n%s", err, out)
			}
		})
	}
}
