package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

const permsConf = `
authorization {
  default_permissions { publish: "public.>", subscribe: "public.>" }
  users: [
    { user: plain, password: p }
    { user: pubber, password: p, permissions: {
        publish: { allow: ["orders.>", "_INBOX.>"], deny: ["orders.secret"] }
        subscribe: { deny: ">" }
    } }
    { user: watcher, password: p, permissions: {
        publish: []
        subscribe: { allow: ["orders.>", "_INBOX.>"], deny: ["orders.secret", "orders.*.audit"] }
    } }
    { user: worker, password: p, permissions: {
        subscribe: ["jobs.* workers", "jobs.* team.*", "status"]
    } }
    { user: requester, password: p, permissions: { publish: ">", subscribe: ">" } }
    { user: svc, password: p, permissions: {
        subscribe: "svc.>"
        allow_responses: { max: 2, expires: "1m" }
    } }
  ]
}
`

// rawAs connects over raw TCP as a user, in verbose mode, without echo.
func rawAs(t *testing.T, s *server.Server, user string) *testutil.RawConn {
	t.Helper()
	rc, _ := testutil.NewRawConn(t, s)
	t.Cleanup(rc.Close)
	rc.Connect(fmt.Sprintf(`{"verbose":false,"pedantic":false,"user":%q,"pass":"p","protocol":0}`, user), false)
	return rc
}

// TestPermissionViolationsRaw pins nats-server's exact error lines and
// that the connection stays open after each.
func TestPermissionViolationsRaw(t *testing.T) {
	t.Parallel()
	s := runConf(t, permsConf)
	for _, c := range []struct {
		user, send, want string
	}{
		{"pubber", "PUB orders.secret 1\r\nx\r\n", `-ERR 'Permissions Violation for Publish to "orders.secret"'`},
		{"pubber", "PUB other 1\r\nx\r\n", `-ERR 'Permissions Violation for Publish to "other"'`},
		{"pubber", "SUB orders.new 1\r\n", `-ERR 'Permissions Violation for Subscription to "orders.new"'`},
		{"watcher", "PUB orders.new 1\r\nx\r\n", `-ERR 'Permissions Violation for Publish to "orders.new"'`},
		{"watcher", "SUB orders.secret 1\r\n", `-ERR 'Permissions Violation for Subscription to "orders.secret"'`},
		{"worker", "SUB jobs.a 1\r\n", `-ERR 'Permissions Violation for Subscription to "jobs.a"'`},
		{"worker", "SUB jobs.a other 1\r\n", `-ERR 'Permissions Violation for Subscription to "jobs.a" using queue "other"'`},
		{"plain", "PUB private 1\r\nx\r\n", `-ERR 'Permissions Violation for Publish to "private"'`},
	} {
		rc := rawAs(t, s, c.user)
		rc.Send(c.send)
		rc.Expect(c.want + "\r\n")
		rc.Send("PING\r\n")
		rc.Expect("PONG\r\n") // still connected
	}
	// Allowed operations get no error.
	for _, c := range []struct{ user, send string }{
		{"pubber", "PUB orders.new 1\r\nx\r\n"},
		{"watcher", "SUB orders.> 1\r\n"},
		{"worker", "SUB jobs.a workers 1\r\nSUB jobs.b team.blue 2\r\nSUB status 3\r\n"},
		{"plain", "PUB public.news 1\r\nx\r\nSUB public.> 1\r\n"},
	} {
		rc := rawAs(t, s, c.user)
		rc.Send(c.send + "PING\r\n")
		rc.Expect("PONG\r\n")
	}
}

// A wildcard subscription that is allowed still never receives denied
// subjects under it.
func TestSubscribeDenyFiltersWildcardDeliveries(t *testing.T) {
	t.Parallel()
	s := runConf(t, permsConf)
	pub := mustDial(t, s, nats.UserInfo("pubber", "p"))
	w := mustDial(t, s, nats.UserInfo("watcher", "p"))
	sub, err := w.SubscribeSync("orders.>")
	if err != nil {
		t.Fatal(err)
	}
	w.Flush()
	for _, subj := range []string{"orders.1", "orders.x.audit", "orders.2"} {
		pub.Publish(subj, []byte(subj))
	}
	pub.Flush()
	var got []string
	for range 2 {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		got = append(got, m.Subject)
	}
	if strings.Join(got, ",") != "orders.1,orders.2" {
		t.Fatalf("delivered %v, want orders.1 and orders.2 (orders.x.audit denied)", got)
	}
	// A last message proves nothing denied is still queued before it.
	pub.Publish("orders.3", nil)
	if m, err := sub.NextMsg(5 * time.Second); err != nil || m.Subject != "orders.3" {
		t.Fatalf("after the denied subject: %v, %v", m, err)
	}
}

// allow_responses lets a user with no publish rights answer the requests
// it received, up to max replies each.
func TestAllowResponses(t *testing.T) {
	t.Parallel()
	s := runConf(t, permsConf)
	svc := mustDial(t, s, nats.UserInfo("svc", "p"))
	expectErr := asyncErrors(t, svc)
	svc.Subscribe("svc.echo", func(m *nats.Msg) {
		m.Respond([]byte("one"))
		m.Respond([]byte("two"))
		m.Respond([]byte("three")) // over max: refused
	})
	svc.Flush()

	req := mustDial(t, s, nats.UserInfo("requester", "p"))
	inbox := nats.NewInbox()
	replies, _ := req.SubscribeSync(inbox)
	req.Flush()
	if err := req.PublishRequest("svc.echo", inbox, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"one", "two"} {
		m, err := replies.NextMsg(5 * time.Second)
		if err != nil || string(m.Data) != want {
			t.Fatalf("reply %q: %v %v", want, m, err)
		}
	}
	expectErr(`Permissions Violation for Publish to "` + inbox + `"`) // the third reply
	// Publishing anywhere else is refused.
	svc.Publish("elsewhere", nil)
	expectErr(`Permissions Violation for Publish to "elsewhere"`)
}

// Queue permissions spread work only to the groups allowed.
func TestQueuePermissions(t *testing.T) {
	t.Parallel()
	s := runConf(t, permsConf)
	w := mustDial(t, s, nats.UserInfo("worker", "p"))
	expectErr := asyncErrors(t, w)
	ok, err := w.QueueSubscribeSync("jobs.x", "team.red")
	if err != nil {
		t.Fatal(err)
	}
	w.QueueSubscribeSync("jobs.x", "intruders")
	w.Flush()
	expectErr(`using queue "intruders"`)
	req := mustDial(t, s, nats.UserInfo("requester", "p"))
	req.Publish("jobs.x", []byte("work"))
	if m, err := ok.NextMsg(5 * time.Second); err != nil || string(m.Data) != "work" {
		t.Fatalf("allowed queue member got %v, %v", m, err)
	}
}
