package msgtrace

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/sluicehq/sluice/pkg/api"
)

// The JetStream hop of a trace. A stream stores on its own goroutine, so
// its step is finished there: the event is sent by whichever of the
// publisher and the stream finishes last (as nats-server does), and a
// trace-only message runs the stream's checks but is not stored.

// Hop is a stream's part in a trace. Its methods accept a nil Hop (an
// untraced message) and then do nothing.
type Hop struct {
	t  *Trace
	js *JetStream
}

// JetStreamHop records that stream takes the message and returns the hop
// the stream completes; the trace is not sent before it is done.
func (t *Trace) JetStreamHop(stream string) *Hop {
	t.pending.Add(1)
	return &Hop{t: t, js: t.JetStream(stream)}
}

// SetSender sets what publishes the event once every part is done.
func (t *Trace) SetSender(send func(*Trace)) { t.send = send }

// Finish is the publisher's end of the trace: it sends the event unless
// a stream still works on the message (it then sends it when done).
func (t *Trace) Finish() {
	t.release()
}

func (t *Trace) release() {
	if t.pending.Add(-1) == 0 && t.send != nil && !t.dropped.Load() {
		t.send(t)
	}
}

// Staged marks a message an atomic batch staged: nats-server never sends
// the trace of a staged message (its stream part does not finish until
// the commit, which reports under the commit message's own trace), so
// neither does sluice. A batch refusing the message still reports it.
func (h *Hop) Staged() {
	if h != nil {
		h.t.dropped.Store(true)
	}
}

// Only reports a trace-only message: checked, never stored nor acked.
func (h *Hop) Only() bool { return h != nil && h.t.Only }

// SkipStore is called where the stream would store the message under
// subj: it records the subject and reports whether to stop there
// (trace-only).
func (h *Hop) SkipStore(subj string) bool {
	if h == nil {
		return false
	}
	h.js.Subject = subj
	h.js.Timestamp = time.Now().UTC()
	return h.t.Only
}

// Result records why the stream did not store the message (its error,
// or a duplicate message id, in nats-server's words). It reports a
// trace-only message that passed the checks: it gets no acknowledgement
// (one that failed them gets its error, as from nats-server).
func (h *Hop) Result(e *api.ApiError, dup bool) (passedTraceOnly bool) {
	switch {
	case h == nil:
		return false
	case e != nil:
		h.js.Error = jsErrorText(e, h.t.ev.Request.Header)
	case dup:
		h.js.Error = "msgid is duplicate"
	}
	return h.t.Only && e == nil && !dup
}

// Done ends the stream's part; the event goes out if the publisher is
// done too.
func (h *Hop) Done() {
	if h != nil {
		h.t.release()
	}
}

// Hand-off from the server's delivery to the stream's ingest queue: the
// hop is keyed by the message's subject string, allocated for this one
// message, which travels unchanged from the server's internal queue to
// the stream's queue (header and payload may be copied on the way).
var (
	handed  sync.Map // *byte (the subject's bytes) -> *Hop
	nHanded atomic.Int64
)

// Hand leaves h for whoever receives subj, which must be a string of its
// own (see strings.Clone), not shared with another message.
func Hand(subj string, h *Hop) {
	if subj == "" || h == nil {
		return
	}
	nHanded.Add(1)
	handed.Store(unsafe.StringData(subj), h)
}

// Claim takes the hop handed with subj, if any. It is cheap when no trace
// is in flight.
func Claim(subj string) *Hop {
	if subj == "" || nHanded.Load() == 0 {
		return nil
	}
	v, ok := handed.LoadAndDelete(unsafe.StringData(subj))
	if !ok {
		return nil
	}
	nHanded.Add(-1)
	return v.(*Hop)
}

// Unclaimed finishes a hop nobody claimed (the stream went away before
// the message reached it), so its trace is still sent.
func Unclaimed(subj, why string) {
	if h := Claim(subj); h != nil {
		h.js.Error = why
		h.Done()
	}
}

// jsErrorText is the error nats-server's trace shows for a publish a
// stream refused: for some checks its own words rather than the API
// error the publisher gets back.
func jsErrorText(e *api.ApiError, hdr map[string][]string) string {
	first := func(k string) string {
		if vs := hdr[k]; len(vs) > 0 {
			return vs[0]
		}
		return ""
	}
	switch e.ErrCode {
	case api.JSStreamWrongLastSequenceErrF.ErrCode:
		actual := strings.TrimPrefix(e.Description, "wrong last sequence: ")
		if want := first("Nats-Expected-Last-Subject-Sequence"); want != "" {
			return fmt.Sprintf("last sequence by subject mismatch: %s vs %s", want, actual)
		}
		return fmt.Sprintf("last sequence mismatch: %s vs %s", first("Nats-Expected-Last-Sequence"), actual)
	case api.JSStreamWrongLastMsgIDErrF.ErrCode:
		return fmt.Sprintf("last msgid mismatch: %q vs %q", first("Nats-Expected-Last-Msg-Id"), strings.TrimPrefix(e.Description, "wrong last msg ID: "))
	case api.JSStreamNotMatchErr.ErrCode:
		return "expected stream does not match"
	case api.JSMessageTTLDisabledErr.ErrCode:
		return "message TTL disabled"
	case api.JSStreamMessageExceedsMaximumErr.ErrCode, api.JSStreamHeaderExceedsMaximumErr.ErrCode:
		return "maximum payload exceeded"
	case api.JSStreamRollupFailedF.ErrCode:
		return e.Description
	}
	return e.Error()
}
