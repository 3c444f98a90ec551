package server

import (
	"errors"
	"sync"

	"github.com/sluicehq/sluice/internal/server/msgtrace"
	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/pkg/api"
)

// MsgHandler receives messages for an internal subscription. hdr is the
// header block (nil when the message has none); msg is the payload. The
// slices belong to the handler.
type MsgHandler func(subject, reply string, hdr, msg []byte)

// OwningMsgHandler is a MsgHandler told whether hdr and msg (one buffer)
// are its to keep: true for the internal queue's copies and for a large
// payload the parser hands over, so a callback that keeps messages copies
// only borrowed ones. On a client's read loop it is also told it may wait
// (mayWait): a callback that cannot take the message yet (a stream's full
// ingest queue) returns a channel, and the read loop, reading nothing more
// from that client, calls it again once the channel is closed, or after
// ingestWaitMax with mayWait false.
type OwningMsgHandler func(subject, reply string, hdr, msg []byte, owned, mayWait bool) (wait <-chan struct{})

// InternalSub is a subscription owned by the server itself ($SYS services,
// later JetStream).
type InternalSub struct{ sub *subscription }

// SubscribeInternal registers cb for subject (and optional queue group) in
// acc. Callbacks run on the server's internal queue goroutine, never on a
// publisher's read loop, so a slow callback cannot stall a client.
func (s *Server) SubscribeInternal(acc *Account, subj, queue string, cb MsgHandler) (*InternalSub, error) {
	return s.subscribeInternal(&subscription{acc: acc, subject: subj, queue: queue, icb: cb})
}

// subscribeInternal indexes sub, made whole before any publisher can see it.
func (s *Server) subscribeInternal(sub *subscription) (*InternalSub, error) {
	if sub.acc == nil || sub.icb == nil {
		return nil, errors.New("internal subscribe: account and callback are required")
	}
	if !subject.ValidSubject(sub.subject) {
		return nil, subject.ErrInvalidSubject
	}
	if err := sub.acc.sl.Insert(sub.subject, sub.queue, sub); err != nil {
		return nil, err
	}
	s.routeInterest(sub, 1)
	return &InternalSub{sub: sub}, nil
}

// SubscribeInternalInline is SubscribeInternal for a callback that is
// quick and never blocks (JetStream's direct get): a client's publish
// calls it on the client's read loop, saving the hop through the internal
// queue. hdr and msg are borrowed for the call: a callback that keeps them
// copies them. It may run once more after UnsubscribeInternal.
func (s *Server) SubscribeInternalInline(acc *Account, subj string, cb MsgHandler) (*InternalSub, error) {
	return s.subscribeInternal(&subscription{acc: acc, subject: subj, icb: cb, inline: true})
}

// SubscribeInternalOwning is SubscribeInternalInline for a callback that
// keeps messages (a stream's ingest): it is told which ones it owns.
func (s *Server) SubscribeInternalOwning(acc *Account, subj string, cb OwningMsgHandler) (*InternalSub, error) {
	if cb == nil {
		return nil, errors.New("internal subscribe: account and callback are required")
	}
	return s.subscribeInternal(&subscription{acc: acc, subject: subj, inline: true, ocb: cb,
		icb: func(subject, reply string, hdr, msg []byte) { cb(subject, reply, hdr, msg, false, false) }})
}

// UnsubscribeInternal removes an internal subscription; callbacks already
// queued for it are dropped.
func (s *Server) UnsubscribeInternal(is *InternalSub) {
	if is == nil {
		return
	}
	s.intq.close(is.sub)
	if is.sub.acc.sl.Remove(is.sub.subject, is.sub.queue, is.sub) == nil {
		s.routeInterest(is.sub, -1)
	}
}

// PublishInternal sends a message from the server into acc, to local
// subscribers exactly as if a client had published it.
func (s *Server) PublishInternal(acc *Account, subj, reply string, hdr, msg []byte) {
	s.ipub.Lock()
	defer s.ipub.Unlock()
	c := s.internalPublisherLocked(acc)
	var buf []byte
	c.publish([]byte(subj), []byte(reply), len(hdr), joinHeaders(&buf, hdr, msg))
	c.endBatch()
}

// internalPublisherLocked is the client the server publishes through
// into acc (s.ipub held).
func (s *Server) internalPublisherLocked(acc *Account) *client {
	c := s.ipub.c
	if c == nil {
		c = &client{srv: s, opts: defaultInternalOpts}
		s.ipub.c = c
	}
	if c.acc != acc {
		// Cached matches belong to the previous account's index.
		c.acc, c.cache.m = acc, nil
	}
	return c
}

var defaultInternalOpts = api.ConnectInfo{Echo: true, Headers: true}

type internalMsg struct {
	sub          *subscription
	subj, reply  string
	hdr, payload []byte
}

// internalQueue runs internal subscription callbacks on its own goroutine.
type internalQueue struct {
	log  Logger
	wake chan struct{}
	done chan struct{}
	mu   struct {
		sync.Mutex
		pending    []internalMsg
		inProgress int // taken from pending, not yet called back
		stopped    bool
	}
}

// internalQueueName is how /ipqueuesz names the queue.
const internalQueueName = "Internal recvQ"

// stats reports the messages waiting and those being called back.
func (q *internalQueue) stats() (pending, inProgress int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.mu.pending), q.mu.inProgress
}

func newInternalQueue(log Logger) *internalQueue {
	q := &internalQueue{log: log, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go q.run()
	return q
}

// push copies the message and queues it for sub's callback.
func (q *internalQueue) push(sub *subscription, subj, reply []byte, hdrLen int, msg []byte) bool {
	return q.pushOwned(sub, string(subj), reply, hdrLen, append([]byte(nil), msg...))
}

// pushOwned is push for a message buffer the queue may keep.
func (q *internalQueue) pushOwned(sub *subscription, subj string, reply []byte, hdrLen int, buf []byte) bool {
	m := internalMsg{sub: sub, subj: subj, reply: string(reply)}
	if hdrLen > 0 {
		m.hdr = buf[:hdrLen:hdrLen]
	}
	m.payload = buf[hdrLen:]
	q.mu.Lock()
	if q.mu.stopped || sub.closed {
		q.mu.Unlock()
		return false
	}
	q.mu.pending = append(q.mu.pending, m)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

func (q *internalQueue) close(sub *subscription) {
	q.mu.Lock()
	sub.closed = true
	q.mu.Unlock()
}

func (q *internalQueue) run() {
	defer close(q.done)
	var batch []internalMsg
	for range q.wake {
		q.mu.Lock()
		batch, q.mu.pending = q.mu.pending, batch[:0]
		q.mu.inProgress = len(batch)
		stopped := q.mu.stopped
		q.mu.Unlock()
		for i := range batch {
			m := &batch[i]
			q.mu.Lock()
			closed := m.sub.closed
			q.mu.inProgress = len(batch) - i
			q.mu.Unlock()
			if !closed {
				q.call(m)
			}
			// A traced message's stream went away before taking it.
			msgtrace.Unclaimed(m.subj, "stream closed")
			batch[i] = internalMsg{}
		}
		q.mu.Lock()
		q.mu.inProgress = 0
		q.mu.Unlock()
		if stopped {
			return
		}
	}
}

func (q *internalQueue) call(m *internalMsg) {
	defer func() {
		if r := recover(); r != nil {
			q.log.Errorf("internal subscription on %q panicked: %v", m.sub.subject, r)
		}
	}()
	if m.sub.ocb != nil {
		m.sub.ocb(m.subj, m.reply, m.hdr, m.payload, true, false) // the queue's own copy
		return
	}
	m.sub.icb(m.subj, m.reply, m.hdr, m.payload)
}

func (q *internalQueue) stop() {
	q.mu.Lock()
	if q.mu.stopped {
		q.mu.Unlock()
		return
	}
	q.mu.stopped = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	<-q.done
}
