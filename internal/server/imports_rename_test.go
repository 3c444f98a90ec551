package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
)

// Issue 11 #5: wildcard service imports renamed with 'to', and stream
// imports renamed with 'to', are accepted and routed as nats-server does
// (each form checked against the reference: -t passes and the routing is
// the same, see internal/difftest).
func TestWildcardImportRenames(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		service       bool
		export, to    string
		publish, want string // published in B, received in A (services) or the reverse
	}{
		{true, "svc.>", "x.y.>", "x.y.a.b", "svc.a.b"},
		{true, "svc.>", "x.>", "x.a", "svc.a"},
		{true, "$JS.API.>", "main.>", "main.STREAM.INFO.S", "$JS.API.STREAM.INFO.S"},
		{true, "svc.*", "*.loc", "a.loc", "svc.a"},
		{true, "svc.*.*", "loc.$2.$1", "loc.a.b", "svc.b.a"},
		{true, "svc.*.*", "loc.{{wildcard(2)}}.{{wildcard(1)}}", "loc.a.b", "svc.b.a"},
		{true, "svc.x", "loc.*", "loc.q", "svc.x"},
		{true, "svc.>", ">", "any.thing", "svc.any.thing"},
		{false, "s.>", "t.y.>", "s.a.b", "t.y.a.b"},
		{false, "s.*.*", "t.$2.$1", "s.a.b", "t.b.a"},
		{false, "s.*", "*.t", "s.a", "a.t"},
	} {
		kind := "stream"
		if c.service {
			kind = "service"
		}
		t.Run(fmt.Sprintf("%s %s to %s", kind, c.export, c.to), func(t *testing.T) {
			s := runConf(t, fmt.Sprintf(`accounts {
  A { users: [{user: a, password: a}], exports: [{%[1]s: %[2]q}] }
  B { users: [{user: b, password: b}], imports: [{%[1]s: {account: A, subject: %[2]q}, to: %[3]q}] }
}`, kind, c.export, c.to))
			a := mustDial(t, s, nats.UserInfo("a", "a"))
			b := mustDial(t, s, nats.UserInfo("b", "b"))
			if !c.service {
				sub, _ := b.SubscribeSync(">")
				b.Flush()
				a.Publish(c.publish, []byte("x"))
				if m, err := sub.NextMsg(5 * time.Second); err != nil || m.Subject != c.want {
					t.Fatalf("B got %v, %v; want %s", m, err, c.want)
				}
				return
			}
			a.Subscribe(">", func(m *nats.Msg) { m.Respond([]byte(m.Subject)) })
			a.Flush()
			m, err := b.Request(c.publish, nil, 5*time.Second)
			if err != nil || string(m.Data) != c.want {
				t.Fatalf("reply %v, %v; want the service to see %s", m, err, c.want)
			}
		})
	}
}

func TestImportRenameErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ kind, export, to, want string }{
		{"service", "svc.*", "loc", "not using all of the token wildcard"},
		{"service", "svc.>", "loc", "invalid subject"},
		{"service", "svc.*", "loc.>", "invalid subject"},
		{"service", "svc.*", "loc.*.*", "wildcard index out of range"},
		{"service", "svc.*", "loc.{{partition(2,1)}}", "only wildcard references"},
		{"stream", "s.*", "x", "not using all of the token wildcard"},
		{"stream", "s.>", "x", "invalid subject"},
	} {
		var o server.Options
		_, err := o.ProcessConfigFile(writeConf(t, fmt.Sprintf(`accounts {
  A { users: [{user: a, password: a}], exports: [{%[1]s: %[2]q}] }
  B { users: [{user: b, password: b}], imports: [{%[1]s: {account: A, subject: %[2]q}, to: %[3]q}] }
}`, c.kind, c.export, c.to)), true)
		if err == nil {
			_, err = server.New(o)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "failed to create mapping transform") {
			t.Errorf("%s %s to %s: got %v, want %q", c.kind, c.export, c.to, err, c.want)
		}
	}
}
