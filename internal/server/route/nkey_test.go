package route_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

// nats-server v2.15.2 has no nkey authorization for routes: the route
// CONNECT carries no nkey or signature, the cluster authorization block
// has no nkey field and takes no users list (nkey users included).
// sluice refuses the same files, so a route is never let in on an nkey
// setting that would silently not apply.
func TestClusterNkeyAuthorizationRefusedAsByNATSServer(t *testing.T) {
	const nk = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4"
	bin := refbin.NATSServer(t)
	for _, tc := range []struct{ auth, want string }{
		{"nkey: " + nk, `unknown field "nkey"`},
		{"user: r, password: p, nkey: " + nk, `unknown field "nkey"`},
		{"users: [ {nkey: " + nk + "} ]", "Cluster authorization does not allow multiple users"},
		{"users: [ {user: r, password: p} ]", "Cluster authorization does not allow multiple users"},
		{"token: secret", "Cluster authorization does not support tokens"},
	} {
		text := "cluster { listen: \"127.0.0.1:-1\", authorization { " + tc.auth + " } }\n"
		p := filepath.Join(t.TempDir(), "c.conf")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "-t", "-c", p).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("nats-server on %s: %v %s (want %q)", tc.auth, err, out, tc.want)
		}
		if _, err := loadConf(t, text); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("sluice on %s: %v (want %q)", tc.auth, err, tc.want)
		}
	}
}
