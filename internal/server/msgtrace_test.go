package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/testutil"
)

// The configuration the expectations below were taken from, run against
// nats-server v2.15.2 with the same clients (events compared with
// timestamps, ids and server details left out).
const msgTraceConf = `
server_name: tr1
accounts {
  S { users: [{user: s, password: s}]
      exports: [{service: "svc.>", allow_trace: true}, {service: "notr.>"}, {stream: "ev.>"}] }
  A { users: [{user: a, password: a, permissions: {publish: {deny: "secret.>"}, subscribe: {allow: ">"}}}
             {user: d, password: d, permissions: {subscribe: {allow: "new.>", deny: "new.hidden"}}}]
      mappings: { "old.>": "new.>" }
      msg_trace: { dest: "acc.traces", sampling: 100 }
      imports: [{service: {account: S, subject: "svc.>"}}
                {service: {account: S, subject: "notr.>"}}
                {stream: {account: S, subject: "ev.>"}, allow_trace: true}] }
  B { users: [{user: b, password: b}]
      imports: [{stream: {account: S, subject: "ev.>"}, to: "bev.>"}] }
}
`

type traceEvent struct {
	Server  map[string]any `json:"server"`
	Request struct {
		Header  map[string][]string `json:"header"`
		MsgSize int                 `json:"msgsize"`
	} `json:"request"`
	Events []map[string]any `json:"events"`
}

// steps renders the events as "type key=value ..." lines, leaving out
// what differs from run to run.
func (e traceEvent) steps() []string {
	var out []string
	for _, ev := range e.Events {
		var b strings.Builder
		b.WriteString(ev["type"].(string))
		for _, k := range []string{"acc", "subj", "from", "to", "sub", "queue", "error"} {
			if v, ok := ev[k]; ok {
				b.WriteString(" " + k + "=" + v.(string))
			}
		}
		out = append(out, b.String())
	}
	return out
}

func TestMessageTrace(t *testing.T) {
	t.Parallel()
	s := runConf(t, msgTraceConf)
	svc := mustDial(t, s, nats.UserInfo("s", "s"), nats.Name("svc"))
	svc.Subscribe("svc.>", func(m *nats.Msg) { m.Respond([]byte("ok")) })
	svc.Subscribe("notr.>", func(m *nats.Msg) { m.Respond([]byte("ok")) })
	svc.Flush()
	b := mustDial(t, s, nats.UserInfo("b", "b"))
	bsub, _ := b.SubscribeSync("bev.>")
	b.Flush()
	d := mustDial(t, s, nats.UserInfo("d", "d"))
	dsub, _ := d.SubscribeSync("new.>")
	d.Flush()
	a := mustDial(t, s, nats.UserInfo("a", "a"), nats.Name("tracer"), nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	wild, _ := a.SubscribeSync("new.>")
	a.QueueSubscribeSync("new.x", "q")
	evsub, _ := a.SubscribeSync("ev.>")
	traces, _ := a.SubscribeSync("traces.>")
	accTraces, _ := a.SubscribeSync("acc.traces")
	a.Flush()

	next := func(sub *nats.Subscription) traceEvent {
		t.Helper()
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("no trace event: %v", err)
		}
		data := m.Data
		if m.Header.Get("Content-Encoding") == "snappy" {
			if data, err = io.ReadAll(s2.NewReader(bytes.NewReader(data))); err != nil {
				t.Fatal(err)
			}
		}
		var e traceEvent
		if err := json.Unmarshal(data, &e); err != nil {
			t.Fatalf("trace event %q: %v", data, err)
		}
		return e
	}
	publish := func(nc *nats.Conn, subj, dest string, only bool, extra ...string) {
		t.Helper()
		m := nats.NewMsg(subj)
		m.Data = []byte("payload")
		if dest != "" {
			m.Header.Set("Nats-Trace-Dest", dest)
		}
		if only {
			m.Header.Set("Nats-Trace-Only", "true")
		}
		for i := 0; i+1 < len(extra); i += 2 {
			m.Header.Set(extra[i], extra[i+1])
		}
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
		nc.Flush()
	}
	expect := func(name string, e traceEvent, want ...string) {
		t.Helper()
		if got := e.steps(); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: steps\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	nothing := func(name string, subs ...*nats.Subscription) {
		t.Helper()
		a.Flush()
		for _, sub := range subs {
			if m, err := sub.NextMsg(50 * time.Millisecond); err == nil {
				t.Errorf("%s: %s received %q", name, sub.Subject, m.Data)
			}
		}
	}

	// Mapping, a plain and a queue subscription, a subscription that
	// denies the subject; trace-only delivers to nobody.
	publish(a, "old.hidden", "traces.map", true)
	e := next(traces)
	expect("mapping", e, "in acc=A subj=old.hidden", "sm to=new.hidden",
		"eg sub=new.> error=Not delivered because subscription denies this subject", "eg sub=new.>")
	if e.Request.MsgSize == 0 || e.Request.Header["Nats-Trace-Only"][0] != "true" || e.Server["name"] != "tr1" {
		t.Errorf("mapping: request %+v server %v", e.Request, e.Server["name"])
	}
	nothing("trace-only", wild, dsub)

	// Delivered and traced.
	publish(a, "new.x", "traces.deliver", false)
	expect("deliver", next(traces), "in acc=A subj=new.x", "eg sub=new.>", "eg sub=new.>", "eg sub=new.x queue=q")
	if m, err := wild.NextMsg(time.Second); err != nil || m.Header.Get("Nats-Trace-Dest") != "traces.deliver" {
		t.Fatalf("traced message not delivered as published: %v %v", m, err)
	}

	// Service imports: followed where the export allows it.
	publish(a, "svc.a", "traces.svc", true)
	expect("service", next(traces), "in acc=A subj=svc.a", "si acc=S from=svc.a to=svc.a", "eg acc=S sub=svc.>")
	publish(a, "notr.a", "traces.notr", true)
	expect("service without allow_trace", next(traces), "in acc=A subj=notr.a", "si acc=S from=notr.a to=notr.a")

	// Stream exports, seen from the exporter.
	strace, _ := svc.SubscribeSync("straces")
	svc.Flush()
	publish(svc, "ev.1", "straces", true)
	got := next(strace).steps()
	if len(got) != 4 || got[0] != "in acc=S subj=ev.1" || !contains(got, "se acc=B to=bev.1") ||
		!contains(got, "se acc=A to=ev.1") || !contains(got, "eg acc=A sub=ev.>") {
		t.Errorf("stream exports: %q", got)
	}
	nothing("trace-only stream", evsub, bsub)
	// Delivered: B's import does not allow tracing, so B gets it with
	// tracing disabled downstream.
	publish(svc, "ev.2", "straces", false)
	next(strace)
	if m, err := bsub.NextMsg(time.Second); err != nil || m.Header.Get("Nats-Trace-Dest") != "trace disabled" {
		t.Errorf("untraced import: %v %v", m, err)
	}

	// A sampled traceparent goes to the account's destination; compressed
	// as the tracer asked.
	publish(a, "new.tp", "", false, "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "Accept-Encoding", "snappy")
	expect("traceparent", next(accTraces), "in acc=A subj=new.tp", "eg sub=new.>", "eg sub=new.>")
	if _, err := wild.NextMsg(time.Second); err != nil {
		t.Fatalf("traceparent message not delivered: %v", err)
	}

	// A refused publish is traced with the ingress error.
	publish(a, "secret.x", "traces.denied", false)
	expect("denied", next(traces), `in acc=A subj=secret.x error=Permissions Violation for Publish to "secret.x"`)

	// A destination the tracer may not publish to stops the message.
	publish(a, "new.y", "secret.traces", false)
	nothing("forbidden destination", wild)
}

// An HPUB refused for its size is still traced, with the ingress error
// nats-server gives it; the publisher is closed as usual.
func TestMessageTraceOversize(t *testing.T) {
	t.Parallel()
	s := runConf(t, "max_payload: 64\n")
	watcher := mustDial(t, s)
	events, _ := watcher.SubscribeSync("traces")
	watcher.Flush()
	rc, _ := testutil.NewRawConn(t, s)
	rc.Connect(`{"verbose":false,"headers":true}`, false)
	hdr := "NATS/1.0\r\nNats-Trace-Dest: traces\r\n\r\n"
	rc.Send(fmt.Sprintf("HPUB big %d %d\r\n%s", len(hdr), len(hdr)+100, hdr))
	rc.Expect("-ERR 'Maximum Payload Violation'\r\n")
	m, err := events.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("no trace event: %v", err)
	}
	var e traceEvent
	if err := json.Unmarshal(m.Data, &e); err != nil {
		t.Fatal(err)
	}
	if got := e.steps(); len(got) != 1 || got[0] != "in acc=$G subj=big error=maximum payload exceeded" || e.Request.MsgSize != len(hdr)+100 {
		t.Errorf("oversize trace: %q size %d", got, e.Request.MsgSize)
	}
}
