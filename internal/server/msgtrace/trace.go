package msgtrace

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/sluicehq/sluice/pkg/api"
)

// Wanted is what a message's headers ask of tracing.
type Wanted struct {
	// Headers are every header of the message, names as sent.
	Headers map[string][]string
	// External is set when only a sampled traceparent asks for the trace:
	// the destination and sampling then come from the account.
	External bool
	Dest     string // Nats-Trace-Dest
	Only     bool   // Nats-Trace-Only: trace, do not deliver
	// OriginAccount is the obsolete Nats-Trace-Origin-Account header, which
	// disables tracing.
	OriginAccount string
}

var (
	destKey        = []byte(DestHeader)
	traceParentKey = []byte(TraceParentHeader)
	destDisabled   = []byte(DestDisabled)
)

// Parse reads a NATS header block (NATS/1.0 line first). It allocates only
// when the message asks for a trace: a Nats-Trace-Dest header (other than
// the disabled marker) or a traceparent header with the sampled flag.
func Parse(hdr []byte) (Wanted, bool) {
	if !bytes.HasPrefix(hdr, []byte("NATS/1.0")) {
		return Wanted{}, false
	}
	nl := bytes.Index(hdr, []byte("\r\n"))
	if nl < 0 {
		return Wanted{}, false
	}
	block := hdr[nl+2:]
	if !bytes.Contains(block, destKey) && !containsFold(block, TraceParentHeader) {
		return Wanted{}, false // the common case, without walking the headers
	}
	var dest, parent, disabled bool
	forEachHeader(block, func(k, v []byte) {
		switch {
		case !dest && !disabled && bytes.Equal(k, destKey):
			disabled = bytes.Equal(v, destDisabled)
			dest = !disabled
		case !parent && bytes.EqualFold(k, traceParentKey):
			parent = sampled(v)
		}
	})
	if disabled || (!dest && !parent) {
		return Wanted{}, false
	}
	w := Wanted{Headers: map[string][]string{}, External: !dest}
	forEachHeader(block, func(k, v []byte) {
		w.Headers[string(k)] = append(w.Headers[string(k)], string(v))
	})
	first := func(k string) string {
		if vs := w.Headers[k]; len(vs) > 0 {
			return vs[0]
		}
		return ""
	}
	if !w.External {
		switch strings.ToLower(first(OnlyHeader)) {
		case "1", "true", "on":
			w.Only = true
		}
		w.Dest = first(DestHeader)
	}
	w.OriginAccount = first(OriginAccountHeader)
	return w, true
}

// containsFold reports whether b contains lower (a lowercase ASCII word)
// in any case.
func containsFold(b []byte, lower string) bool {
	n := len(lower)
	for i := 0; i+n <= len(b); i++ {
		j := 0
		for j < n && b[i+j]|0x20 == lower[j] {
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

// forEachHeader calls fn with each non-empty header's name and trimmed
// value, in order.
func forEachHeader(block []byte, fn func(k, v []byte)) {
	for len(block) > 0 {
		line := block
		if i := bytes.Index(block, []byte("\r\n")); i >= 0 {
			line, block = block[:i], block[i+2:]
		} else {
			block = nil
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.Trim(v, " \t")
		if len(k) > 0 && len(v) > 0 {
			fn(k, v)
		}
	}
}

// sampled reports a W3C traceparent (version-trace-parent-flags) whose
// flags have the sampled bit.
func sampled(v []byte) bool {
	parts := bytes.Split(v, []byte("-"))
	if len(parts) != 4 || len(parts[3]) != 2 {
		return false
	}
	f, err := strconv.ParseUint(string(parts[3]), 16, 8)
	return err == nil && f&1 == 1
}

// Sample draws whether a message is traced at sampling percent (1..100;
// anything else means always).
func Sample(sampling int) bool {
	if sampling <= 0 || sampling >= 100 {
		return true
	}
	return rand.IntN(100) < sampling
}

// Trace is one traced message's event, filled in as the server works.
// It is filled by the publisher's goroutine; a stream hop (jetstream.go)
// completes its own step on the stream's goroutine.
type Trace struct {
	Dest string // where the event goes, in Account
	Only bool
	// Account is the tracer's account: the ingress account.
	Account  string
	encoding string
	hop      string // the Nats-Trace-Hop a routed message came with
	ev       Event
	ingress  *Ingress
	// pending counts the parts still working on the message: the
	// publisher and each stream hop. send publishes the event.
	pending atomic.Int32
	send    func(*Trace)
	dropped atomic.Bool // never sent (a message an atomic batch staged)
}

// New starts a trace with its ingress step.
func New(w Wanted, dest string, kind int, cid uint64, name, account, subj string, msgSize int) *Trace {
	in := &Ingress{Base: base(TypeIngress), Kind: kind, CID: cid, Name: name, Account: account, Subject: subj}
	t := &Trace{Dest: dest, Only: w.Only, Account: account, ingress: in}
	if vs := w.Headers[AcceptEncoding]; len(vs) > 0 {
		t.encoding = vs[0]
	}
	t.ev.Request = Request{Header: w.Headers, MsgSize: msgSize}
	t.ev.Events = []any{in}
	t.pending.Store(1)
	return t
}

func base(typ string) Base { return Base{Type: typ, Timestamp: time.Now().UTC()} }

// SetMsgSize sets the size the message announced (header and payload).
func (t *Trace) SetMsgSize(n int) { t.ev.Request.MsgSize = n }

// IngressError records why the message was refused where it came in.
func (t *Trace) IngressError(err string) { t.ingress.Error = err }

// Mapped records a subject mapping.
func (t *Trace) Mapped(to string) {
	t.ev.Events = append(t.ev.Events, &SubjectMapping{Base: base(TypeSubjectMapping), MappedTo: to})
}

// StreamExport records the message entering importing account acc as to.
func (t *Trace) StreamExport(acc, to string) {
	t.ev.Events = append(t.ev.Events, &StreamExport{Base: base(TypeStreamExport), Account: acc, To: to})
}

// ServiceImport records a request entering exporting account acc.
func (t *Trace) ServiceImport(acc, from, to string) {
	t.ev.Events = append(t.ev.Events, &ServiceImport{Base: base(TypeServiceImport), Account: acc, From: from, To: to})
}

// JetStream records a stream's part; the caller fills the outcome.
func (t *Trace) JetStream(stream string) *JetStream {
	js := &JetStream{Base: base(TypeJetStream), Stream: stream}
	t.ev.Events = append(t.ev.Events, js)
	return js
}

// Egress records a delivery to a client connection (cid, name) through
// its subscription; acc is named only when it is not the ingress account.
func (t *Trace) Egress(cid uint64, name, acc, sub, queue, err string) {
	if acc == t.Account {
		acc = ""
	}
	t.ev.Events = append(t.ev.Events, &Egress{Base: base(TypeEgress), Kind: KindClient, CID: cid, Name: name,
		Account: acc, Subscription: sub, Queue: queue, Error: err})
}

// Event is the document so far.
func (t *Trace) Event() *Event { return &t.ev }

// Encode returns the event as JSON for server, compressed as the tracer's
// Accept-Encoding asks (snappy/s2 or gzip), and the Content-Encoding to
// send with it ("" for none, "identity" for an encoding not supported).
func (t *Trace) Encode(server api.EventServer) ([]byte, string, error) {
	t.ev.Server = server
	b, err := json.Marshal(&t.ev)
	if err != nil {
		return nil, "", err
	}
	enc := strings.ToLower(t.encoding)
	switch {
	case enc == "":
		return b, "", nil
	case strings.Contains(enc, "snappy") || strings.Contains(enc, "s2"):
		var bb bytes.Buffer
		w := s2.NewWriter(&bb, s2.WriterSnappyCompat())
		w.Write(b)
		if err := w.Close(); err != nil {
			return nil, "", err
		}
		return bb.Bytes(), "snappy", nil
	case strings.Contains(enc, "gzip"):
		var bb bytes.Buffer
		w := gzip.NewWriter(&bb)
		w.Write(b)
		if err := w.Close(); err != nil {
			return nil, "", err
		}
		return bb.Bytes(), "gzip", nil
	}
	return b, "identity", nil
}
