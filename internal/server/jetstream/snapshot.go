package jetstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/pkg/api"
)

// Snapshot chunking, as nats-server: chunks of 128 KiB in a window of
// 8 MiB unless asked otherwise; a receiver silent for 5s is gone.
const (
	snapChunkDefault  = 128 << 10
	snapWindowDefault = 8 << 20
)

var snapAckTimeout = 5 * time.Second

func init() {
	routes["STREAM.SNAPSHOT"] = route{3, handleStreamSnapshot, api.JSApiStreamSnapshotType}
	routes["STREAM.RESTORE"] = route{3, handleStreamRestore, api.JSApiStreamRestoreType}
}

type (
	snapshotResp struct {
		api.JSApiStreamSnapshotResponse
	}
	restoreResp struct{ api.JSApiStreamRestoreResponse }
)

func (r *snapshotResp) envelope() *api.ApiResponse { return &r.ApiResponse }
func (r *restoreResp) envelope() *api.ApiResponse  { return &r.ApiResponse }

// archiveConsumer is a consumer entry of the archive (the JSON of both
// servers; store.ConsumerState has nats-server's field names).
type archiveConsumer struct {
	Config *api.ConsumerConfig  `json:"config"`
	State  *store.ConsumerState `json:"state"`
}

func handleStreamSnapshot(js *JetStream, a *jsAccount, r *apiReq, t []string) any {
	fail := func(e *api.ApiError) any {
		return &snapshotResp{api.JSApiStreamSnapshotResponse{ApiResponse: api.ApiResponse{Error: e}}}
	}
	if len(r.msg) == 0 {
		return fail(api.JSBadRequestErr)
	}
	s := a.lookup(t[2])
	if s == nil {
		return fail(api.JSStreamNotFoundErr)
	}
	var req api.JSApiStreamSnapshotRequest
	if e := js.decode(r.msg, &req); e != nil {
		return fail(e)
	}
	if !subject.ValidLiteral(req.DeliverSubject) {
		return fail(api.JSSnapshotDeliverSubjectInvalidErr)
	}
	if req.CheckMsgs {
		if lost := s.st.State().Lost; lost != nil {
			return fail(api.JSStreamSnapshotErrF.With("err", fmt.Sprintf("stream has lost %d messages (%d bytes) to corruption", len(lost.Msgs), lost.Bytes)))
		}
	}
	snap := s.newSnapshot(!req.NoConsumers)
	cfg := s.config()
	state := snap.state
	js.log.Noticef("Starting snapshot for stream '%s > %s'", a.name, s.name)
	go s.sendSnapshot(snap, &req, r.account)
	return &snapshotResp{api.JSApiStreamSnapshotResponse{Config: &cfg, State: &state}}
}

// snapshot is what an archive holds: the state when it was taken, the
// consumers then, and the messages up to its last sequence read as the
// archive is written (publishes meanwhile go after it and are left out).
type snapshot struct {
	state     api.StreamState
	consumers []archiveConsumer
}

func (s *stream) newSnapshot(withConsumers bool) *snapshot {
	snap := &snapshot{state: s.state(false)}
	snap.state.Consumers = 0
	if withConsumers {
		for _, e := range s.consumerList() {
			cfg := e.c.Config()
			if cfg.Direct {
				continue // a mirror's or source's feeder, not the stream's own
			}
			st := e.c.State()
			last := snap.state.LastSeq
			st.Delivered.Stream = min(st.Delivered.Stream, last)
			st.AckFloor.Stream = min(st.AckFloor.Stream, last)
			for seq := range st.Pending {
				if seq > last {
					delete(st.Pending, seq)
				}
			}
			for seq := range st.Redelivered {
				if seq > last {
					delete(st.Redelivered, seq)
				}
			}
			if cfg.Name == "" {
				cfg.Name = e.name
			}
			snap.consumers = append(snap.consumers, archiveConsumer{Config: &cfg, State: st})
		}
		snap.state.Consumers = len(snap.consumers)
	}
	return snap
}

// archiveBlock is the s2 block size of archives (s2's default, as
// nats-server's): the archive writer fills blocks of this size.
const archiveBlock = 1 << 20

// writeArchive writes the archive of snap to w (S2-compressed). Three
// stages overlap: loading messages from the store (loadMsgs), encoding
// entries into blocks, and s2 compressing blocks on the encoder's
// goroutines (which hand the blocks back for reuse once written).
func (s *stream) writeArchive(snap *snapshot, w io.Writer) (err error) {
	spare := make(chan []byte, 4)
	enc := s2.NewWriter(w, s2.WriterConcurrency(2), s2.WriterBlockSize(archiveBlock),
		s2.WriterBufferDone(func(b []byte) {
			select {
			case spare <- b[:0]:
			default:
			}
		}))
	defer func() {
		if err != nil { // end the encoder's goroutines; the reader sees err, not what they still hold
			if pw, ok := w.(*io.PipeWriter); ok {
				pw.CloseWithError(err)
			}
			enc.Close()
		}
	}()
	aw := &archiveWriter{put: enc.EncodeBuffer, size: archiveBlock, spare: spare}
	now := time.Now().UnixNano()
	b, err := json.Marshal(snap.state)
	if err != nil {
		return err
	}
	if err := aw.write("state.json", now, 0, nil, b); err != nil {
		return err
	}
	for _, c := range snap.consumers {
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		if err := aw.write("consumers/"+c.Config.Name, now, 0, nil, b); err != nil {
			return err
		}
	}
	done := make(chan struct{})
	defer close(done)
	batches, free, loadErr := s.loadMsgs(snap.state.FirstSeq, snap.state.LastSeq, done)
	for batch := range batches {
		for i := range batch.Msgs {
			m := &batch.Msgs[i]
			if err := aw.write(m.Subject, m.Time, m.Seq, m.Header, m.Data); err != nil {
				return err
			}
		}
		select {
		case free <- batch:
		default:
		}
	}
	if err := <-loadErr; err != nil {
		return err
	}
	if err := aw.end(); err != nil {
		return err
	}
	return enc.Close()
}

// rangeLoader is a store that reads runs of messages at once (both stores
// do, through their engine).
type rangeLoader interface {
	LoadRange(start, last uint64, budget int, b *store.Batch) (uint64, error)
}

// loadMsgs reads the messages first..last in batches on a goroutine of
// its own (until done is closed); the error channel gets one value once
// the batches channel is closed. Batches done with go back through free:
// their buffers are reused, a snapshot allocates a few of them.
func (s *stream) loadMsgs(first, last uint64, done <-chan struct{}) (<-chan *store.Batch, chan<- *store.Batch, <-chan error) {
	const (
		batchLen   = 256
		batchBytes = 128 << 10 // read under one hold of the store's lock
	)
	out := make(chan *store.Batch, 4)
	free := make(chan *store.Batch, 8)
	errc := make(chan error, 1)
	go func() {
		defer close(out)
		var err error
		defer func() { errc <- err }()
		if last == 0 {
			return
		}
		batch := &store.Batch{}
		send := func() bool {
			if len(batch.Msgs) == 0 {
				return true
			}
			select {
			case out <- batch:
			case <-done:
				return false
			}
			select {
			case batch = <-free:
				batch.Msgs = batch.Msgs[:0]
			default:
				batch = &store.Batch{}
			}
			return true
		}
		if rl, ok := s.st.(rangeLoader); ok {
			for seq := max(first, 1); seq <= last; {
				var lerr error
				if seq, lerr = rl.LoadRange(seq, last, batchBytes, batch); lerr != nil {
					err = fmt.Errorf("couldn't load next message after seq %d: %w", seq, lerr)
					return
				}
				if !send() {
					return
				}
			}
			return
		}
		for seq := max(first, 1); seq <= last; {
			m, lerr := s.st.LoadNext("", seq)
			if errors.Is(lerr, store.ErrNotFound) || lerr == nil && m.Seq > last {
				break
			}
			if lerr != nil {
				err = fmt.Errorf("couldn't load next message after seq %d: %w", seq, lerr)
				return
			}
			batch.Msgs = append(batch.Msgs, *m)
			if len(batch.Msgs) == batchLen && !send() {
				return
			}
			seq = m.Seq + 1
		}
		send()
	}()
	return out, free, errc
}

// sendSnapshot streams the archive to the deliver subject in chunks,
// each acked by the receiver, at most a window's worth unacked.
func (s *stream) sendSnapshot(snap *snapshot, req *api.JSApiStreamSnapshotRequest, account string) {
	js := s.js
	start := time.Now().UTC()
	js.publishEvent(account, "$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_CREATE."+s.name, api.JSSnapshotCreateAdvisory{
		TypedEvent: api.TypedEvent{Type: api.JSSnapshotCreatedAdvisoryType, ID: eventID(), Time: start},
		Stream:     s.name, State: snap.state, Domain: js.cfg.Domain,
	})
	err := s.streamChunks(snap, req, account)
	end := time.Now().UTC()
	ev := api.JSSnapshotCompleteAdvisory{
		TypedEvent: api.TypedEvent{Type: api.JSSnapshotCompleteAdvisoryType, ID: eventID(), Time: end},
		Stream:     s.name, Start: start, End: end, Domain: js.cfg.Domain,
	}
	if err != nil {
		ev.Error = err.Error()
		js.log.Warnf("Snapshot for stream '%s > %s' failed after %v: %v", account, s.name, end.Sub(start), err)
	} else {
		js.log.Noticef("Completed snapshot of %s for stream '%s > %s' in %v", friendlyBytes(int64(snap.state.Bytes)), account, s.name, end.Sub(start).Round(time.Millisecond))
	}
	js.publishEvent(account, "$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_COMPLETE."+s.name, ev)
}

func (s *stream) streamChunks(snap *snapshot, req *api.JSApiStreamSnapshotRequest, account string) error {
	b := s.js.b
	chunk := req.ChunkSize
	if chunk == 0 {
		chunk = snapChunkDefault
	}
	window := req.WindowSize
	if window == 0 {
		window = snapWindowDefault
	}
	chunk = min(max(chunk, 1024), 1<<20)
	window = max(min(max(window, 1024), 32<<20), chunk)
	slots := make(chan struct{}, window/chunk)
	for range window / chunk {
		slots <- struct{}{}
	}
	to := req.DeliverSubject
	interest := func() bool { return true }
	if ic, ok := b.(interestChecker); ok {
		interest = func() bool { return ic.HasInterest(account, to) }
	}
	// The receiver subscribes once it has our answer (its request inbox,
	// a wildcard, already covers the subject): wait a little for it.
	ready := interest
	if sc, ok := b.(interface {
		HasSubscription(account, subj string) bool
	}); ok {
		ready = func() bool { return sc.HasSubscription(account, to) }
	}
	for deadline := time.Now().Add(2 * time.Second); !ready() && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	ackSubj := "$JS.SNAPSHOT.ACK." + s.name + "." + randName()
	done := make(chan struct{})
	defer close(done)
	sub, err := b.Subscribe(account, ackSubj+".>", func(string, string, []byte, []byte) {
		select {
		case slots <- struct{}{}:
		case <-done:
		default:
		}
	})
	if err != nil {
		return err
	}
	defer b.Unsubscribe(sub)

	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(s.writeArchive(snap, pw)) }()
	defer pr.Close()
	status := func(st string) { b.Publish(account, to, "", statusHeader(st), nil) }
	timer := time.NewTimer(snapAckTimeout)
	defer timer.Stop()
	for index := 1; ; index++ {
		select {
		case <-slots:
		case <-timer.C:
			status("408 No Flow Response")
			return errors.New("no flow response")
		}
		if !interest() {
			status("408 No Interest")
			return errors.New("no interest")
		}
		buf := make([]byte, chunk) // published as is: a chunk is not copied again
		n, err := io.ReadFull(pr, buf)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			if n > 0 {
				b.Publish(account, to, "", nil, buf[:n])
			}
			status("204")
			return nil
		}
		if err != nil {
			status("500 " + err.Error())
			return err
		}
		b.Publish(account, to, ackSubj+"."+strconv.Itoa(n)+"."+strconv.Itoa(index), nil, buf)
		timer.Reset(snapAckTimeout)
	}
}
