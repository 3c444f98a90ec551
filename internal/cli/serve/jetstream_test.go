package servecmd

import (
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/nats-io/nats.go"
)

func TestNormalizeArgs(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"serve", "-js", "-sd", "/d", "--domain", "x"}, []string{"serve", "--jetstream", "--store-dir", "/d", "--domain", "x"}},
		{[]string{"serve", "-sd=/d"}, []string{"serve", "--store-dir=/d"}},
		{[]string{"pub", "-js"}, []string{"pub", "-js"}}, // only serve is rewritten
	} {
		if got := NormalizeArgs(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: got %v want %v", tc.in, got, tc.want)
		}
	}
}

// `sluice serve -js -sd DIR --domain D` runs JetStream where asked.
func TestServeJetStreamFlags(t *testing.T) {
	bin := sluiceBinary(t)
	sd := t.TempDir()
	p, addr := startServer(t, bin, "serve", "-a", "127.0.0.1", "-p", "-1", "-js", "-sd", sd, "--domain", "hub")
	nc, err := nats.Connect("nats://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	r, err := nc.Request("$JS.hub.API.INFO", nil, nats.DefaultTimeout)
	nc.Close()
	if err != nil || !strings.Contains(string(r.Data), `"domain":"hub"`) {
		t.Fatalf("account info through the domain: %v %s", err, r.Data)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, p)
	if logs := p.Logs(); !strings.Contains(logs, `Store Directory: "`+filepath.Join(sd, "jetstream")+`"`) {
		t.Fatalf("store dir not used:\n%s", logs)
	}
}
