package jetstream_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// Per-account jetstream limits from a configuration file; an account
// without jetstream gets 10039.
func TestAccountLimitsFromConfig(t *testing.T) {
	dir := t.TempDir()
	cf := filepath.Join(dir, "js.conf")
	os.WriteFile(cf, []byte(`
jetstream { store_dir: "`+dir+`", max_mem: 1G }
accounts {
  HR { jetstream { max_mem: 512M, max_file: 1G, max_streams: 1, max_consumers: 100 }, users: [{user: hr, password: hr}] }
  OPS { users: [{user: ops, password: ops}] }
}`), 0o600)
	var opts server.Options
	if _, err := opts.ProcessConfigFile(cf, true); err != nil {
		t.Fatal(err)
	}
	s := testutil.RunServer(t, func(o *server.Options) {
		host, port := o.Host, o.Port
		*o = opts
		o.Host, o.Port = host, port
	})
	hr := testutil.Connect(t, s, nats.UserInfo("hr", "hr"))
	j, _ := jetstream.New(hr)
	c := ctx(t)
	ai, err := j.AccountInfo(c)
	if err != nil || ai.Limits.MaxStreams != 1 || ai.Limits.MaxMemory != 512<<20 && ai.Limits.MaxMemory != 512e6 {
		t.Fatalf("HR account info %v %+v", err, ai)
	}
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "A", Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "B", Storage: jetstream.MemoryStorage}); apiErrCode(err) != 10027 {
		t.Fatalf("second stream: %v", err)
	}
	ops := testutil.Connect(t, s, nats.UserInfo("ops", "ops"))
	jo, _ := jetstream.New(ops)
	if _, err := jo.AccountInfo(c); err != jetstream.ErrJetStreamNotEnabledForAccount {
		t.Fatalf("OPS account info: %v", err)
	}
}
