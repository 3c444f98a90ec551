package jetstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/sluicehq/sluice/pkg/api"
)

// A restore receives the archive in chunks on its own subject, each
// acked once written to the archive decoder. The stream is built aside
// (file streams in a scratch directory, memory streams in a store not yet
// registered) and only registered when the whole archive is in and
// sound: a truncated or corrupt archive leaves nothing behind.
var restoreStall atomic.Int64 // ns; 5s (tests shorten it)

func init() { restoreStall.Store(int64(5 * time.Second)) }

func handleStreamRestore(js *JetStream, a *jsAccount, r *apiReq, t []string) any {
	fail := func(e *api.ApiError) any {
		return &restoreResp{api.JSApiStreamRestoreResponse{ApiResponse: api.ApiResponse{Error: e}}}
	}
	if len(bytes.TrimSpace(r.msg)) == 0 {
		return fail(api.JSBadRequestErr)
	}
	var req api.JSApiStreamRestoreRequest
	if e := js.decode(r.msg, &req); e != nil {
		return fail(e)
	}
	name := t[2]
	if req.Config.Name == "" {
		req.Config.Name = name
	}
	if req.Config.Name != name {
		return fail(api.JSStreamMismatchErr)
	}
	cfg, e := a.checkStreamConfig(&req.Config)
	if e != nil {
		return fail(e)
	}
	setStaticMetadata(&cfg)
	a.createMu.Lock()
	defer a.createMu.Unlock()
	if a.lookup(name) != nil {
		return fail(api.JSStreamNameExistRestoreFailedErr)
	}
	if _, busy := js.restoring.LoadOrStore(a.name+" "+name, true); busy {
		return fail(api.JSStreamNameExistRestoreFailedErr)
	}
	if e := a.checkResources(&cfg, nil); e != nil {
		js.restoring.Delete(a.name + " " + name)
		return fail(e)
	}
	rs := &restore{js: js, a: a, cfg: cfg, account: r.account, wake: make(chan struct{}, 1), start: time.Now().UTC()}
	rs.subj = "$JS.SNAPSHOT.RESTORE." + name + "." + randName()
	sub, err := js.b.Subscribe(r.account, rs.subj, rs.chunk)
	if err != nil {
		js.restoring.Delete(a.name + " " + name)
		return fail(api.JSRestoreSubscribeFailedErrF.With("subject", rs.subj, "err", err))
	}
	rs.sub = sub
	js.log.Noticef("Starting restore for stream '%s > %s'", a.name, name)
	js.publishEvent(r.account, "$JS.EVENT.ADVISORY.STREAM.RESTORE_CREATE."+name, api.JSRestoreCreateAdvisory{
		TypedEvent: api.TypedEvent{Type: api.JSRestoreCreateAdvisoryType, ID: eventID(), Time: rs.start},
		Stream:     name, Domain: js.cfg.Domain,
	})
	go rs.run()
	return &restoreResp{api.JSApiStreamRestoreResponse{DeliverSubject: rs.subj}}
}

type restoreChunk struct {
	reply string
	data  []byte
}

type restore struct {
	js      *JetStream
	a       *jsAccount
	cfg     api.StreamConfig
	account string
	subj    string
	sub     Subscription
	start   time.Time
	wake    chan struct{}
	mu      struct {
		sync.Mutex
		q []restoreChunk
	}
}

// chunk queues a chunk; the subscription callback never blocks.
func (rs *restore) chunk(_, reply string, _, msg []byte) {
	rs.mu.Lock()
	rs.mu.q = append(rs.mu.q, restoreChunk{reply, msg})
	rs.mu.Unlock()
	select {
	case rs.wake <- struct{}{}:
	default:
	}
}

func (rs *restore) take() []restoreChunk {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	q := rs.mu.q
	rs.mu.q = nil
	return q
}

// run feeds the chunks to the builder and answers the last one with the
// stream (or the error).
func (rs *restore) run() {
	js, name := rs.js, rs.cfg.Name
	defer js.restoring.Delete(rs.a.name + " " + name)
	defer js.b.Unsubscribe(rs.sub)
	pr, pw := io.Pipe()
	type built struct {
		s   *stream
		err error
	}
	result := make(chan built, 1)
	go func() {
		s, err := rs.a.buildRestore(rs.cfg, pr)
		pr.CloseWithError(err)
		result <- built{s, err}
	}()
	total := 0
	finish := func(reply string, err error) {
		var s *stream
		if err == nil {
			r := <-result
			s, err = r.s, r.err
		}
		end := time.Now().UTC()
		resp := api.JSApiStreamCreateResponse{ApiResponse: api.ApiResponse{Type: api.JSApiStreamCreateType}}
		if err != nil {
			var ae *api.ApiError
			if errors.As(err, &ae) {
				resp.Error = ae
			} else {
				resp.Error = api.JSStreamRestoreErrF.With("err", err)
			}
			js.log.Warnf("Restore failed for %s for stream '%s > %s' in %v: %v", friendlyBytes(int64(total)), rs.a.name, name, end.Sub(rs.start), err)
		} else {
			resp.StreamInfo = s.info(false)
			js.log.Noticef("Completed restore of %s for stream '%s > %s' in %v", friendlyBytes(int64(total)), rs.a.name, name, end.Sub(rs.start).Round(time.Millisecond))
			js.streamAdvisory(rs.a, name, "create")
		}
		js.publishEvent(rs.account, "$JS.EVENT.ADVISORY.STREAM.RESTORE_COMPLETE."+name, api.JSRestoreCompleteAdvisory{
			TypedEvent: api.TypedEvent{Type: api.JSRestoreCompleteAdvisoryType, ID: eventID(), Time: end},
			Stream:     name, Start: rs.start, End: end, Bytes: int64(total), Domain: js.cfg.Domain,
		})
		if reply != "" {
			b, _ := json.Marshal(resp)
			js.b.Publish(rs.account, reply, "", nil, b)
		}
	}
	stallFor := time.Duration(restoreStall.Load())
	stall := time.NewTimer(stallFor)
	defer stall.Stop()
	for {
		select {
		case <-rs.wake:
		case <-stall.C:
			err := fmt.Errorf("restore for stream '%s > %s' is stalled", rs.a.name, name)
			pw.CloseWithError(err)
			<-result
			finish("", err)
			return
		}
		for _, c := range rs.take() {
			if c.reply == "" {
				err := fmt.Errorf("restore for stream '%s > %s' requires reply subject for each chunk", rs.a.name, name)
				pw.CloseWithError(err)
				<-result
				finish("", err)
				return
			}
			if len(c.data) == 0 {
				pw.Close()
				finish(c.reply, nil)
				return
			}
			if _, err := pw.Write(c.data); err != nil {
				r := <-result
				if r.err != nil {
					err = r.err
				} else if r.s != nil {
					r.s.stop(true) // more data after a complete archive
				}
				finish(c.reply, err)
				return
			}
			total += len(c.data)
			js.b.Publish(rs.account, c.reply, "", nil, nil)
		}
		stall.Reset(stallFor)
	}
}

// buildRestore reads an archive into a new store and, when all of it is
// in and sound, opens it as the stream.
func (a *jsAccount) buildRestore(cfg api.StreamConfig, r io.Reader) (s *stream, err error) {
	ar := newArchiveReader(s2.NewReader(r))
	e, _, data, err := ar.next()
	if err != nil {
		return nil, archiveErr(err)
	}
	if e.name != "state.json" {
		return nil, errors.New("invalid archive: expected state.json first")
	}
	var state api.StreamState
	if err := json.Unmarshal(data, &state); err != nil {
		return nil, fmt.Errorf("error in state.json: %w", err)
	}
	switch {
	case state.Consumers < 0:
		return nil, errors.New("invalid stream state: negative consumer count")
	case state.FirstSeq == 0 && (state.LastSeq != 0 || state.Msgs != 0),
		state.FirstSeq > state.LastSeq && (state.FirstSeq-1 != state.LastSeq || state.Msgs != 0):
		return nil, errors.New("invalid stream state: inconsistent message count or sequence range")
	case state.FirstSeq > 0 && state.FirstSeq <= state.LastSeq && state.Msgs > state.LastSeq-state.FirstSeq+1:
		return nil, errors.New("invalid stream state: message count exceeds sequence range")
	}
	if e := a.restoreRoom(&cfg, state.Bytes); e != nil {
		return nil, e
	}
	dir := ""
	if cfg.Storage == api.FileStorage {
		dir = filepath.Join(filepath.Dir(a.dir), "restore", cfg.Name+"-"+randName())
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, err
		}
	}
	st, err := openStore(dir, storeConfig(&cfg, a.js), a.js.log)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	registered := false
	defer func() {
		if !registered {
			st.Delete()
			if dir != "" {
				os.RemoveAll(dir)
			}
		}
	}()
	if state.FirstSeq > 1 {
		if _, err := st.Compact(state.FirstSeq); err != nil {
			return nil, fmt.Errorf("error setting first sequence: %w", err)
		}
	}
	var consumers []archiveConsumer
	for range state.Consumers {
		e, _, data, err := ar.next()
		if err != nil {
			return nil, archiveErr(err)
		}
		name, ok := strings.CutPrefix(e.name, "consumers/")
		if !ok || !validName(name) {
			return nil, fmt.Errorf("invalid archive: expected consumer, found %q", e.name)
		}
		var c archiveConsumer
		if err := json.Unmarshal(data, &c); err != nil {
			return nil, fmt.Errorf("failed to decode consumer %q state: %w", name, err)
		}
		if c.Config == nil || c.State == nil {
			return nil, fmt.Errorf("consumer %q is missing its config or state", name)
		}
		if c.Config.Durable == "" {
			c.Config.Name = name
		}
		consumers = append(consumers, c)
	}
	last := uint64(0)
	if state.FirstSeq > 0 {
		last = state.FirstSeq - 1
	}
	for {
		e, hdr, data, err := ar.next()
		if err != nil {
			return nil, archiveErr(err)
		}
		if e.endOfStore {
			break
		}
		if e.seq == 0 {
			return nil, errors.New("invalid archive: expected message sequence")
		}
		if e.seq <= last {
			return nil, fmt.Errorf("invalid archive: message sequence %d out of order", e.seq)
		}
		if max := int64(cfg.MaxMsgSize); max >= 0 && e.hdr+e.size > max {
			return nil, fmt.Errorf("message sequence %d exceeds maximum message size", e.seq)
		}
		var ttl int64
		if v := getHeader(hdr, hdrTTL); v != nil && cfg.AllowMsgTTL {
			ttl, _ = parseTTL(string(v))
			if ttl > 0 && time.Now().After(time.Unix(0, e.ts).Add(time.Duration(ttl)*time.Second)) {
				last = e.seq // expired: keep its sequence, not the message
				continue
			}
		}
		if err := st.StoreRaw(e.name, hdr, data, e.seq, e.ts, ttl); err != nil {
			return nil, fmt.Errorf("failed to store message sequence %d: %w", e.seq, err)
		}
		last = e.seq
	}
	if gap := state.LastSeq; gap > last {
		if err := st.SkipMsgs(last+1, gap-last); err != nil {
			return nil, fmt.Errorf("failed to process trailing gap: %w", err)
		}
	}
	for _, c := range consumers {
		name := c.Config.Name
		if c.Config.Durable != "" {
			name = c.Config.Durable
		}
		cs, err := st.ConsumerStore(name)
		if err != nil {
			return nil, err
		}
		if err := cs.Update(c.State); err != nil {
			return nil, err
		}
		if err := cs.Sync(); err != nil {
			return nil, err
		}
	}
	if err := st.Sync(); err != nil {
		return nil, err
	}
	// Register: under createMu, the name must still be free.
	a.createMu.Lock()
	defer a.createMu.Unlock()
	if a.lookup(cfg.Name) != nil {
		return nil, api.JSStreamNameExistRestoreFailedErr
	}
	if dir != "" {
		if err := st.Stop(); err != nil {
			return nil, err
		}
		final := filepath.Join(a.dir, cfg.Name)
		if err := os.MkdirAll(a.dir, 0o750); err != nil {
			return nil, err
		}
		if err := os.Rename(dir, final); err != nil {
			return nil, err
		}
		dir, registered = final, true
		s, err = a.openStream(cfg, time.Now().UTC())
		if err != nil {
			os.RemoveAll(final)
			return nil, err
		}
	} else {
		registered = true
		s, err = a.openStreamStore(cfg, time.Now().UTC(), st)
		if err != nil {
			st.Delete()
			return nil, err
		}
	}
	for _, c := range consumers {
		if _, err := s.startConsumer(*c.Config, time.Now().UTC(), true); err != nil {
			s.stop(true)
			return nil, fmt.Errorf("failed to add consumer %q: %w", c.Config.Name, err)
		}
	}
	return s, nil
}

func archiveErr(err error) error {
	if errors.Is(err, errArchiveInvalid) {
		return err
	}
	// S2 reports a corrupt or cut stream.
	if errors.Is(err, s2.ErrCorrupt) || errors.Is(err, s2.ErrCRC) {
		return fmt.Errorf("invalid archive: corrupt or truncated data: %w", err)
	}
	if errors.Is(err, s2.ErrUnsupported) {
		return fmt.Errorf("invalid archive: not an S2 stream: %w", err)
	}
	return err
}

// restoreRoom checks the account can hold what the archive says it has.
func (a *jsAccount) restoreRoom(cfg *api.StreamConfig, size uint64) *api.ApiError {
	l, ok := a.limitsForReplicas(cfg.Replicas)
	if !ok {
		return api.JSNoLimitsErr
	}
	limit := l.MaxStore
	if cfg.Storage == api.MemoryStorage {
		limit = l.MaxMemory
	}
	if limit < 0 {
		return nil
	}
	mem, file, _, _ := a.usage()
	used := file
	if cfg.Storage == api.MemoryStorage {
		used = mem
	}
	if used+size > uint64(limit) {
		if cfg.Storage == api.MemoryStorage {
			return api.JSMemoryResourcesExceededErr
		}
		return api.JSStorageResourcesExceededErr
	}
	return nil
}
