package cli_test

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/cli/clitest"
)

// Issue 11 #7: --version works as with nats and nats-server; serve's help
// shows server flags only and refuses client connection flags.
func TestVersionFlagAndServeFlags(t *testing.T) {
	clitest.Isolate(t)
	for _, args := range [][]string{{"--version"}, {"-v"}} {
		r := clitest.Run(t, args...)
		if r.Code != 0 || !strings.HasPrefix(r.Stdout, "sluice version ") {
			t.Errorf("%v: code %d, out %q, err %q", args, r.Code, r.Stdout, r.Stderr)
		}
	}
	r := clitest.Run(t, "serve", "--help")
	if r.Code != 0 || !strings.Contains(r.Stdout, "--max-payload") {
		t.Fatalf("serve --help: %d %q", r.Code, r.Stderr)
	}
	for _, client := range []string{"--creds", "--context", "--js-domain", "--tlsca ", "Global Flags"} {
		if strings.Contains(r.Stdout, client) {
			t.Errorf("serve --help shows %q:\n%s", client, r.Stdout)
		}
	}
	if r := clitest.Run(t, "serve", "--creds", "x.creds", "-p", "-1"); r.Code == 0 || !strings.Contains(r.Stderr, "--creds: client connection flags have no meaning for serve") {
		t.Errorf("serve --creds: %d %q", r.Code, r.Stderr)
	}
	// Client commands keep them.
	if r := clitest.Run(t, "pub", "--help"); !strings.Contains(r.Stdout, "--creds") {
		t.Errorf("pub --help lost the connection flags:\n%s", r.Stdout)
	}
}
