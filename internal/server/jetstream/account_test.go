package jetstream_test

import (
	"os"
	"path/filepath"
	"strconv"
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

// A reload applies new account limits; other JetStream changes need a
// restart and are kept.
func TestReloadAccountLimits(t *testing.T) {
	dir := t.TempDir()
	cf := filepath.Join(dir, "js.conf")
	write := func(streams int, domain string) {
		os.WriteFile(cf, []byte(`
jetstream { store_dir: "`+dir+`", `+domain+` }
accounts { HR { jetstream { max_streams: `+strconv.Itoa(streams)+` }, users: [{user: hr, password: hr}] } }`), 0o600)
	}
	load := func() server.Options {
		var o server.Options
		if _, err := o.ProcessConfigFile(cf, true); err != nil {
			t.Fatal(err)
		}
		o.Host, o.Port = "127.0.0.1", server.RandomPort
		return o
	}
	write(1, "")
	s := testutil.RunServer(t, func(o *server.Options) { *o = load() })
	j, _ := jetstream.New(testutil.Connect(t, s, nats.UserInfo("hr", "hr")))
	c := ctx(t)
	write(5, "")
	res, err := s.ReloadOptions(load())
	if err != nil || len(res.Kept) > 0 {
		t.Fatalf("reload: %v %+v", err, res)
	}
	if ai, err := j.AccountInfo(c); err != nil || ai.Limits.MaxStreams != 5 {
		t.Fatalf("limits after reload: %v %+v", err, ai)
	}
	write(5, "domain: x")
	if res, err := s.ReloadOptions(load()); err != nil || len(res.Kept) != 1 || res.Kept[0] != "JetStream" {
		t.Fatalf("domain change at reload: %v %+v", err, res)
	}
}

// An account over its storage limit gets 10002 in the pub ack.
func TestAccountStorageLimit(t *testing.T) {
	dir := t.TempDir()
	cf := filepath.Join(dir, "js.conf")
	os.WriteFile(cf, []byte(`
jetstream { store_dir: "`+dir+`" }
accounts { A { jetstream { max_mem: 1000 }, users: [{user: a, password: a}] } }`), 0o600)
	var opts server.Options
	if _, err := opts.ProcessConfigFile(cf, true); err != nil {
		t.Fatal(err)
	}
	opts.Host, opts.Port = "127.0.0.1", server.RandomPort
	s := testutil.RunServer(t, func(o *server.Options) { *o = opts })
	j, _ := jetstream.New(testutil.Connect(t, s, nats.UserInfo("a", "a")))
	c := ctx(t)
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "L", Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	var err error
	for i := 0; i < 20 && err == nil; i++ {
		_, err = j.Publish(c, "L", make([]byte, 100))
	}
	if apiErrCode(err) != 10002 {
		t.Fatalf("over the account limit: %v", err)
	}
}
