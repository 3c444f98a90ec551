package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// Issue 11 #1: a queue deny entry ("subject group") must also hold for
// wildcard queue subscriptions, which are accepted and filtered at
// delivery, as nats-server does.
const queueDenyConf = `
authorization { users: [
  {user: qd, password: p, permissions: {subscribe: {allow: ["q.>"], deny: ["q.deny badgrp", "q.w.* bad.*"]}}}
  {user: w, password: p}
] }
`

func TestQueueDenyWildcardRaw(t *testing.T) {
	t.Parallel()
	s := runConf(t, queueDenyConf)
	qd := rawAs(t, s, "qd")
	w := rawAs(t, s, "w")
	// The exact forms are refused when subscribing.
	qd.Send("SUB q.deny badgrp 9\r\n")
	qd.Expect(`-ERR 'Permissions Violation for Subscription to "q.deny" using queue "badgrp"'` + "\r\n")
	qd.Send("SUB q.w.x bad.1 9\r\n")
	qd.Expect(`-ERR 'Permissions Violation for Subscription to "q.w.x" using queue "bad.1"'` + "\r\n")
	// Wildcard queue subscriptions are accepted, but never receive a
	// subject denied to their group.
	qd.Send("SUB q.> badgrp 1\r\nSUB q.> bad.1 2\r\n")
	qd.Sync()
	for _, c := range []struct{ subj, want string }{
		{"q.deny", "MSG q.deny 2 1\r\n"}, // denied to badgrp only
		{"q.w.z", "MSG q.w.z 1 1\r\n"},   // denied to bad.* only
	} {
		w.Send("PUB " + c.subj + " 1\r\nx\r\n")
		w.Sync()
		qd.Expect(c.want + "x\r\n")
		qd.Sync() // nothing else was queued
	}
	// Another group on the same subject is not denied.
	qd.Send("UNSUB 2\r\nSUB q.> good 3\r\n")
	qd.Sync()
	w.Send("PUB q.deny 2\r\nok\r\n")
	w.Sync()
	qd.Expect("MSG q.deny 3 2\r\nok\r\n")
	qd.Sync()
}

// With nats.go: the denied member of a group is skipped and another
// member of the same group takes the message.
func TestQueueDenyWildcardNATS(t *testing.T) {
	t.Parallel()
	s := runConf(t, queueDenyConf)
	qd := mustDial(t, s, nats.UserInfo("qd", "p"))
	w := mustDial(t, s, nats.UserInfo("w", "p"))
	denied, err := qd.QueueSubscribeSync("q.>", "badgrp")
	if err != nil {
		t.Fatal(err)
	}
	qd.Flush()
	other, _ := w.QueueSubscribeSync("q.>", "badgrp")
	w.Flush()
	const n = 20
	for range n {
		w.Publish("q.deny", []byte("secretdata"))
	}
	w.Publish("q.last", nil)
	w.Flush()
	for i := range n {
		if m, err := other.NextMsg(5 * time.Second); err != nil || m.Subject != "q.deny" {
			t.Fatalf("message %d to the allowed member: %v, %v", i, m, err)
		}
	}
	// q.last goes to one of the two; flush both and look at what qd got.
	qd.Flush()
	for {
		m, err := denied.NextMsg(200 * time.Millisecond)
		if err != nil {
			break
		}
		if m.Subject == "q.deny" {
			t.Fatalf("denied member received %q", m.Data)
		}
	}
}

// allow_responses: a request delivered twice to one client (two matching
// subscriptions) spends a reply of its grant on the second delivery, as
// nats-server counts it; found by the differential harness.
func TestAllowResponsesRequestDeliveredTwice(t *testing.T) {
	t.Parallel()
	s := runConf(t, `authorization { users: [
  {user: svc, password: p, permissions: {allow_responses: {max: 1}}}
  {user: req, password: p}
] }`)
	svc := rawAs(t, s, "svc")
	req := rawAs(t, s, "req")
	req.Send("SUB _INBOX.> 9\r\n")
	req.Sync()
	for _, c := range []struct {
		subs    string
		reached bool // whether a reply gets through
	}{
		{"SUB s.> 1\r\n", true},
		{"SUB s.> 1\r\nSUB s.* 2\r\n", false},
	} {
		svc.Send(c.subs)
		svc.Sync()
		req.Send("PUB s.x _INBOX.a 1\r\nq\r\n")
		req.Sync()
		n := strings.Count(c.subs, "SUB")
		for range n {
			if l := svc.ReadLine(); !strings.HasPrefix(l, "MSG s.x ") {
				t.Fatalf("request: %q", l)
			}
			svc.ReadLine()
		}
		svc.Send("PUB _INBOX.a 1\r\nr\r\nPUB _INBOX.a 1\r\nr\r\n")
		want := `-ERR 'Permissions Violation for Publish to "_INBOX.a"'` + "\r\n"
		if !c.reached {
			svc.Expect(want)
		}
		svc.Expect(want)
		svc.Sync()
		if c.reached {
			req.Expect("MSG _INBOX.a 9 1\r\nr\r\n")
		}
		req.Sync()
		svc.Send("UNSUB 1\r\nUNSUB 2\r\n")
	}
}
