package server_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/pkg/conf"
)

func writeConf(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "nats-server.conf")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigAppliesCoreOptions(t *testing.T) {
	p := writeConf(t, `
# a typical nats-server.conf
listen: 127.0.0.1:4333
server_name: edge-1
max_payload: 2MB
max_pending: 32MB
max_control_line: 8KB
max_connections: 100
max_subscriptions: 50
ping_interval: "30s"
ping_max: 3
write_deadline: "5s"
lame_duck_duration: "45s"
lame_duck_grace_period: "2s"
debug: true
logtime: false
authorization { user: app, password: s3cret, timeout: 1.5 }
`)
	var o server.Options
	warns, err := o.ProcessConfigFile(p, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Fatalf("unexpected warnings %v", warns)
	}
	want := server.Options{
		Host: "127.0.0.1", Port: 4333, ServerName: "edge-1", MaxPayload: 2 << 20,
		MaxPending: 32 << 20, MaxControlLine: 8 << 10, MaxConn: 100, MaxSubs: 50,
		PingInterval: 30 * time.Second, MaxPingsOut: 3, WriteDeadline: 5 * time.Second,
		LameDuckDuration: 45 * time.Second, LameDuckGracePeriod: 2 * time.Second,
		Debug: true, Username: "app", Password: "s3cret", AuthTimeout: 1500 * time.Millisecond,
		ConfigFile: p, ConfigDigest: o.ConfigDigest,
	}
	if !reflect.DeepEqual(o, want) {
		t.Fatalf("options\n got %+v\nwant %+v", o, want)
	}
	if !strings.HasPrefix(o.ConfigDigest, "sha256:") {
		t.Fatalf("digest %q", o.ConfigDigest)
	}
}

func TestConfigMaxConnectionsZeroRefusesAll(t *testing.T) {
	var o server.Options
	if _, err := o.ProcessConfigFile(writeConf(t, "max_connections: 0\n"), false); err != nil {
		t.Fatal(err)
	}
	if o.MaxConn >= 0 {
		t.Fatalf("max_connections 0 gave %d, want negative (refuse all)", o.MaxConn)
	}
}

func TestConfigWarnings(t *testing.T) {
	p := writeConf(t, `
port: 4222
gateway { name: g1 }
cluster { name: c1, listen: 0.0.0.0:6222 }
no_such_option: 1
VAR_ONLY: "abc"
server_name: $VAR_ONLY
ping_interval: 60
`)
	var o server.Options
	warns, err := o.ProcessConfigFile(p, false)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(warns))
	for i, w := range warns {
		got[i] = w.String()
	}
	want := []string{
		p + ":3:1: 'gateway' is not supported yet; ignored",
		p + ":4:1: 'cluster' is not supported yet; ignored",
		p + `:5:1: unknown field "no_such_option"; ignored`,
		p + ":8:16: ping_interval should be converted to a duration",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("warnings\n got %q\nwant %q", got, want)
	}
	if o.PingInterval != time.Minute || o.ServerName != "abc" {
		t.Fatalf("ping %v name %q", o.PingInterval, o.ServerName)
	}
	// With strict, the unknown key is an error.
	var so server.Options
	_, err = so.ProcessConfigFile(p, true)
	var ce *server.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), `:5:1: unknown field "no_such_option"`) {
		t.Fatalf("strict: %v", err)
	}
}

func TestConfigErrorsNameFileLineColumn(t *testing.T) {
	cases := []struct{ text, want string }{
		{"max_payload: \"1MB\"\n", `:1:14: 'max_payload' must be a whole number`},
		{"port: 70000\n", `:1:7: 'port' must be between -1 and 65535, got 70000`},
		{"debug: maybe\n", `:1:8: 'debug' must be true or false, not a string`},
		{"ping_interval: \"soon\"\n", `:1:16: 'ping_interval': invalid duration "soon"`},
		{"lame_duck_duration: \"10s\"\n", `invalid lame_duck_duration of 10s, minimum is 30 seconds`},
		{"server_name: \"a b\"\n", `server name cannot contain spaces`},
		{"authorization { user: a, password: b, token: c }\n", `Cannot have a user/pass and token`},
		{"max_payload: 2MB\nmax_pending: 1MB\n", `max_payload (2097152) can not be higher than max_pending (1048576)`},
		{"listen: nowhere\n", `'listen' must be host:port`},
	}
	for _, c := range cases {
		p := writeConf(t, c.text)
		var o server.Options
		_, err := o.ProcessConfigFile(p, false)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%q: got %v, want %q", c.text, err, c.want)
		}
	}
}

func TestConfigReportsEveryError(t *testing.T) {
	p := writeConf(t, "port: \"x\"\nmax_payload: \"y\"\nping_max: -1\n")
	var o server.Options
	_, err := o.ProcessConfigFile(p, false)
	var ce *server.ConfigError
	if !errors.As(err, &ce) || len(ce.Issues) != 3 {
		t.Fatalf("want 3 issues, got %v", err)
	}
}

func TestConfigSyntaxErrorPosition(t *testing.T) {
	p := writeConf(t, "port: 4222\nauthorization {\n  user: a\n")
	var o server.Options
	_, err := o.ProcessConfigFile(p, false)
	var ce *conf.Error
	if !errors.As(err, &ce) || ce.Pos.File != p || ce.Pos.Line == 0 {
		t.Fatalf("want a positioned syntax error, got %v", err)
	}
}

func TestConfigMissingFile(t *testing.T) {
	var o server.Options
	if _, err := o.ProcessConfigFile(filepath.Join(t.TempDir(), "nope.conf"), false); err == nil {
		t.Fatal("missing file accepted")
	}
}

// Every configuration in the golden corpus must at least be readable: the
// features not built yet give warnings, never errors or panics. Only the
// certificate files a tls {} block names may be missing on this machine.
func TestConfigCorpusLoads(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/conf/*.conf")
	if len(files) == 0 {
		t.Skip("no corpus")
	}
	for _, f := range files {
		var o server.Options
		if _, err := o.ProcessConfigFile(f, false); err != nil {
			var ce *server.ConfigError
			if !errors.As(err, &ce) {
				continue
			}
			for _, is := range ce.Issues {
				if !strings.Contains(is.Msg, "no such file") && !strings.Contains(is.Msg, "cannot find") {
					t.Errorf("%s: %v", filepath.Base(f), is)
				}
			}
		}
	}
}
