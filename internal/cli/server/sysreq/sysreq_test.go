package sysreq

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/pkg/api"
)

// responders connects n services on subject answering with body.
func responders(t *testing.T, n int, body string) *nats.Conn {
	t.Helper()
	s := testutil.RunServer(t)
	nc := testutil.Connect(t, s)
	for i := 0; i < n; i++ {
		if _, err := nc.Subscribe("svc", func(m *nats.Msg) { m.Respond([]byte(body)) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return nc
}

func TestStreamExpectAndIdle(t *testing.T) {
	nc := responders(t, 3, `{}`)
	ctx := context.Background()
	n, err := Stream(ctx, nc, Request{Subject: "svc", Expect: 2, Timeout: 10 * time.Second}, func(Reply) error { return nil })
	if err != nil || n != 2 {
		t.Fatalf("expect 2: %d, %v", n, err)
	}
	// Unknown count: all three arrive, then the idle gap ends the wait,
	// long before the timeout.
	start := time.Now()
	got, err := Collect(ctx, nc, Request{Subject: "svc", Timeout: time.Minute, Idle: 500 * time.Millisecond})
	if err != nil || len(got) != 3 || time.Since(start) > 30*time.Second {
		t.Fatalf("idle: %d answers, %v, after %s", len(got), err, time.Since(start))
	}
	for _, r := range got {
		if r.RTT <= 0 || string(r.Msg.Data) != "{}" {
			t.Fatalf("reply %+v", r)
		}
	}
	// An error from the callback stops the gathering.
	stop := errors.New("stop")
	if _, err := Stream(ctx, nc, Request{Subject: "svc", Timeout: time.Minute}, func(Reply) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("callback error: %v", err)
	}
	// A cancelled context ends it too.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Stream(cctx, nc, Request{Subject: "nobody.but.me", Timeout: time.Minute, Idle: -1}, func(Reply) error { return nil }); err == nil {
		t.Fatal("cancelled context: no error")
	}
}

func TestStreamLearnsExpectedCount(t *testing.T) {
	nc := responders(t, 2, `{"server":{"name":"x"},"statsz":{"active_servers":2}}`)
	// Idle -1 would wait for the whole timeout; the learned count ends it.
	got, err := Collect(context.Background(), nc, Request{Subject: "svc", Timeout: time.Minute, Idle: -1, Learn: ActiveServers})
	if err != nil || len(got) != 2 {
		t.Fatalf("%d answers, %v", len(got), err)
	}
}

func TestNoResponders(t *testing.T) {
	nc := responders(t, 0, "")
	_, err := Collect(context.Background(), nc, Request{Subject: PingSubject, Timeout: 10 * time.Second})
	if cmdutil.ExitCode(err) != cmdutil.ExitNoResponders || !errors.Is(err, ErrNoSystemAccess) || !strings.Contains(err.Error(), "system account") {
		t.Fatalf("ping: %v", err)
	}
	_, err = Collect(context.Background(), nc, Request{Subject: ServerSubject("NABC", "VARZ"), Timeout: 10 * time.Second})
	if cmdutil.ExitCode(err) != cmdutil.ExitNoResponders || !strings.Contains(err.Error(), "no server has the id NABC") {
		t.Fatalf("one server: %v", err)
	}
	_, err = One(context.Background(), responders(t, 0, ""), "nobody", nil, 10*time.Second)
	if cmdutil.ExitCode(err) != cmdutil.ExitNoResponders {
		t.Fatalf("One: %v", err)
	}
}

func TestDecode(t *testing.T) {
	msg := func(s string) *nats.Msg { return &nats.Msg{Subject: "x", Data: []byte(s)} }
	r, err := Decode[api.Varz](msg(`{"server":{"name":"n1","id":"NID"},"data":{"server_id":"NID","server_name":"n1"}}`))
	if err != nil || r.Data.Name != "n1" || r.Server.ID != "NID" {
		t.Fatalf("%+v %v", r, err)
	}
	_, err = Decode[api.Varz](msg(`{"server":{"name":"n1","id":"NID"},"error":{"code":400,"description":"bad filter"}}`))
	if err == nil || err.Error() != "server n1 (NID): bad filter (code 400)" {
		t.Fatalf("error answer: %v", err)
	}
	if _, err = Decode[api.Varz](msg(`{"server":{"id":"NID"}}`)); err == nil || !strings.Contains(err.Error(), "without data") {
		t.Fatalf("no data: %v", err)
	}
	if _, err = Decode[api.Varz](msg(`nope`)); err == nil {
		t.Fatal("bad JSON decoded")
	}
}

func TestHelpers(t *testing.T) {
	if !LooksLikeServerID("NCKU6O4E4IMB2SPPYZ7F3LUUSSWT6HNL3LPK5AB5ZLYYODEU7TQTK5KL") || LooksLikeServerID("n1") ||
		LooksLikeServerID("ncku6o4e4imb2sppyz7f3luusswt6hnl3lpk5ab5zlyyodeu7tqtk5kl") {
		t.Fatal("LooksLikeServerID")
	}
	if id, ok := targetID("$SYS.REQ.SERVER.NID.VARZ"); !ok || id != "NID" {
		t.Fatalf("targetID: %q %v", id, ok)
	}
	if _, ok := targetID("$SYS.REQ.SERVER.PING.VARZ"); ok {
		t.Fatal("targetID of a PING")
	}
	for d, want := range map[time.Duration]string{
		3080 * time.Millisecond: "3.08s", 4*time.Minute + 12*time.Second: "4m12s",
		3*time.Hour + 2*time.Minute: "3h2m0s", 50*time.Hour + 4*time.Minute: "2d2h4m",
	} {
		if got := Uptime(d); got != want {
			t.Errorf("Uptime(%s) = %q, want %q", d, got, want)
		}
	}
	b, err := WithFilter(api.ConnzOptions{Sort: "cid", Limit: 5}, api.EventFilterOptions{Name: "n1", Exact: true})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	if m["sort"] != "cid" || m["limit"] != float64(5) || m["server_name"] != "n1" || m["exact_match"] != true {
		t.Fatalf("WithFilter: %s", b)
	}
	var sb strings.Builder
	s := NewSections("Heading")
	s.Section("One")
	s.Add("Short", 1)
	s.AddList("Longer label", []string{"a", "b"})
	s.AddIf("Empty", "")
	s.Write(&sb)
	want := "Heading\n\nOne:\n\n         Short: 1\n  Longer label: a\n                b\n"
	if sb.String() != want {
		t.Fatalf("Sections:\n%q\nwant\n%q", sb.String(), want)
	}
}
