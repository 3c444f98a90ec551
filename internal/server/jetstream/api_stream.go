package jetstream

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/pkg/api"
)

// Page sizes, as nats-server's.
const (
	namesPageLimit    = 1024
	listPageLimit     = 256
	subjectsPageLimit = 100000
)

func errResp(e *api.ApiError) *api.ApiResponse { return &api.ApiResponse{Error: e} }

func handleStreamCreate(js *JetStream, a *jsAccount, r *apiReq, t []string) any {
	name := t[2]
	var cfg api.StreamConfig
	if e := js.decode(r.msg, &cfg); e != nil {
		return errResp(e)
	}
	if name != cfg.Name {
		return errResp(api.JSStreamMismatchErr)
	}
	checked, e := a.checkStreamConfig(&cfg)
	if e != nil {
		return errResp(e)
	}
	setStaticMetadata(&checked)
	a.createMu.Lock()
	defer a.createMu.Unlock()
	if s := a.lookup(name); s != nil {
		if !reflect.DeepEqual(s.config(), checked) {
			return errResp(api.JSStreamNameExistErr)
		}
		return &createResp{api.JSApiStreamCreateResponse{StreamInfo: s.info(false), DidCreate: true}}
	}
	if a.subjectsOverlap(name, checked.Subjects) {
		return errResp(api.JSStreamSubjectOverlapErr)
	}
	if e := a.checkResources(&checked, nil); e != nil {
		return errResp(e)
	}
	s, err := a.openStream(checked, time.Now().UTC())
	if err != nil {
		if checked.Storage == api.FileStorage {
			os.RemoveAll(filepath.Join(a.dir, name)) // no half-made stream to recover later
		}
		return errResp(api.JSStreamCreateErrF.With("err", err))
	}
	js.streamAdvisory(a, name, "create")
	return &createResp{api.JSApiStreamCreateResponse{StreamInfo: s.info(false), DidCreate: true}}
}

// checkResources enforces max_streams and the account's and server's
// storage limits against the stream's reservation (max_bytes).
func (a *jsAccount) checkResources(cfg *api.StreamConfig, old *api.StreamConfig) *api.ApiError {
	l, ok := a.limitsForReplicas(cfg.Replicas)
	if !ok {
		return api.JSNoLimitsErr
	}
	if old == nil && l.MaxStreams > 0 && len(a.streams()) >= l.MaxStreams {
		return api.JSMaximumStreamsLimitErr
	}
	if cfg.MaxBytes <= 0 {
		return nil
	}
	// Reserved bytes of the account's other streams of the same storage.
	var reserved int64
	for _, s := range a.streams() {
		c := s.config()
		if c.Storage == cfg.Storage && c.Name != cfg.Name && c.MaxBytes > 0 {
			reserved += c.MaxBytes
		}
	}
	max, srvMax := l.MaxStore, a.js.maxStore()
	if cfg.Storage == api.MemoryStorage {
		max, srvMax = l.MaxMemory, a.js.maxMemory()
	}
	if max >= 0 && reserved+cfg.MaxBytes > max {
		return api.JSAccountResourcesExceededErr
	}
	if reserved+cfg.MaxBytes > srvMax {
		if cfg.Storage == api.MemoryStorage {
			return api.JSMemoryResourcesExceededErr
		}
		return api.JSStorageResourcesExceededErr
	}
	return nil
}

func handleStreamUpdate(js *JetStream, a *jsAccount, r *apiReq, t []string) any {
	name := t[2]
	var cfg api.StreamConfig
	if e := js.decode(r.msg, &cfg); e != nil {
		return errResp(e)
	}
	if name != cfg.Name {
		return errResp(api.JSStreamMismatchErr)
	}
	a.createMu.Lock()
	defer a.createMu.Unlock()
	s := a.lookup(name)
	if s == nil {
		return errResp(api.JSStreamNotFoundErr)
	}
	old := s.config()
	checked, e := a.checkUpdate(old, &cfg)
	if e != nil {
		return errResp(e)
	}
	setStaticMetadata(&checked)
	if a.subjectsOverlap(name, checked.Subjects) {
		return errResp(api.JSStreamSubjectOverlapErr)
	}
	if e := a.checkResources(&checked, &old); e != nil {
		return errResp(e)
	}
	if err := s.update(checked); err != nil {
		return errResp(api.JSStreamUpdateErrF.With("err", err))
	}
	js.streamAdvisory(a, name, "modify")
	return &createResp{api.JSApiStreamCreateResponse{StreamInfo: s.info(false)}}
}

func handleStreamDelete(js *JetStream, a *jsAccount, r *apiReq, t []string) any {
	a.createMu.Lock()
	defer a.createMu.Unlock()
	s := a.lookup(t[2])
	if s == nil {
		return errResp(api.JSStreamNotFoundErr)
	}
	if err := s.stop(true); err != nil {
		return errResp(api.JSStreamDeleteErrF.With("err", err))
	}
	js.streamAdvisory(a, t[2], "delete")
	return &successResp{api.JSApiSuccessResponse{Success: true}}
}

func handleStreamInfo(js *JetStream, a *jsAccount, r *apiReq, t []string) any {
	var req api.JSApiStreamInfoRequest
	fail := func(e *api.ApiError) any {
		return &streamInfoResp{api.JSApiStreamInfoResponse{ApiResponse: api.ApiResponse{Error: e}}}
	}
	if e := js.decode(r.msg, &req); e != nil {
		return fail(e)
	}
	s := a.lookup(t[2])
	if s == nil {
		return fail(api.JSStreamNotFoundErr)
	}
	resp := &streamInfoResp{api.JSApiStreamInfoResponse{StreamInfo: s.info(req.DeletedDetails)}}
	resp.StreamInfo.Cluster = &api.ClusterInfo{Leader: js.b.ServerName()}
	if req.SubjectsFilter != "" {
		if !subject.ValidSubject(req.SubjectsFilter) {
			return fail(api.JSStreamInfoMaxSubjectsErr)
		}
		totals := s.st.SubjectsTotals(req.SubjectsFilter)
		names := make([]string, 0, len(totals))
		for n := range totals {
			names = append(names, n)
		}
		sort.Strings(names)
		off := min(max(req.Offset, 0), len(names))
		end := min(off+subjectsPageLimit, len(names))
		page := make(map[string]uint64, end-off)
		for _, n := range names[off:end] {
			page[n] = totals[n]
		}
		if len(page) > 0 {
			resp.StreamInfo.State.Subjects = page
		}
		resp.ApiPaged = api.ApiPaged{Total: len(names), Offset: off, Limit: subjectsPageLimit}
	}
	return resp
}

// filteredStreams lists the account's streams whose subjects overlap
// filter (all when empty).
func filteredStreams(a *jsAccount, filter string) []*stream {
	all := a.streams()
	if filter == "" || filter == ">" {
		return all
	}
	out := all[:0:0]
	for _, s := range all {
		for _, subj := range s.config().Subjects {
			if subject.Collide(subj, filter) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

func handleStreamNames(js *JetStream, a *jsAccount, r *apiReq, _ []string) any {
	var req api.JSApiStreamNamesRequest
	if e := js.decode(r.msg, &req); e != nil {
		return &namesResp{api.JSApiStreamNamesResponse{ApiResponse: api.ApiResponse{Error: e}}}
	}
	all := filteredStreams(a, req.Subject)
	off := min(max(req.Offset, 0), len(all))
	resp := &namesResp{api.JSApiStreamNamesResponse{ApiPaged: api.ApiPaged{Total: len(all), Offset: off, Limit: namesPageLimit}}}
	for _, s := range all[off:min(off+namesPageLimit, len(all))] {
		resp.Streams = append(resp.Streams, s.name)
	}
	return resp
}

func handleStreamList(js *JetStream, a *jsAccount, r *apiReq, _ []string) any {
	var req api.JSApiStreamNamesRequest
	if e := js.decode(r.msg, &req); e != nil {
		return &listResp{api.JSApiStreamListResponse{ApiResponse: api.ApiResponse{Error: e}}}
	}
	all := filteredStreams(a, req.Subject)
	off := min(max(req.Offset, 0), len(all))
	resp := &listResp{api.JSApiStreamListResponse{ApiPaged: api.ApiPaged{Total: len(all), Offset: off, Limit: listPageLimit}}}
	resp.Streams = []*api.StreamInfo{}
	for _, s := range all[off:min(off+listPageLimit, len(all))] {
		si := s.info(false)
		// LIST shows only the stored metadata, not the server's version keys.
		si.Config.Metadata = s.config().Metadata
		resp.Streams = append(resp.Streams, si)
	}
	return resp
}

func handleStreamPurge(js *JetStream, a *jsAccount, r *apiReq, t []string) any {
	var req api.JSApiStreamPurgeRequest
	if e := js.decode(r.msg, &req); e != nil {
		return errResp(e)
	}
	s := a.lookup(t[2])
	if s == nil {
		return errResp(api.JSStreamNotFoundErr)
	}
	cfg := s.config()
	if cfg.Sealed {
		return errResp(api.JSStreamSealedErr)
	}
	if cfg.DenyPurge {
		return errResp(api.JSStreamPurgeFailedF.With("err", "stream purge not permitted"))
	}
	if req.Subject != "" && !subject.ValidSubject(req.Subject) {
		return errResp(api.JSStreamPurgeFailedF.With("err", "invalid subject"))
	}
	if req.Sequence > 0 && req.Keep > 0 {
		return errResp(api.JSBadRequestErr)
	}
	n, err := s.st.Purge(store.PurgeOpts{Subject: req.Subject, Seq: req.Sequence, Keep: req.Keep})
	if err != nil {
		return errResp(api.JSStreamPurgeFailedF.With("err", err))
	}
	if err := s.st.Sync(); err != nil {
		return errResp(api.JSStreamPurgeFailedF.With("err", err))
	}
	return &purgeResp{api.JSApiStreamPurgeResponse{Success: true, Purged: n}}
}

func handleMsgDelete(js *JetStream, a *jsAccount, r *apiReq, t []string) any {
	var req api.JSApiMsgDeleteRequest
	if len(r.msg) == 0 {
		return errResp(api.JSBadRequestErr)
	}
	if e := js.decode(r.msg, &req); e != nil {
		return errResp(e)
	}
	s := a.lookup(t[3])
	if s == nil {
		return errResp(api.JSStreamNotFoundErr)
	}
	cfg := s.config()
	if cfg.Sealed {
		return errResp(api.JSStreamSealedErr)
	}
	if cfg.DenyDelete {
		return errResp(api.JSStreamMsgDeleteFailedF.With("err", "message delete not permitted"))
	}
	var ok bool
	var err error
	if req.NoErase {
		ok, err = s.st.Remove(req.Seq)
	} else {
		ok, err = s.st.Erase(req.Seq)
	}
	if (err == nil && !ok) || errors.Is(err, store.ErrDeleted) || errors.Is(err, store.ErrNotFound) {
		return errResp(api.JSSequenceNotFoundErrF.With("seq", req.Seq))
	}
	if err != nil {
		return errResp(api.JSStreamMsgDeleteFailedF.With("err", err))
	}
	if err := s.st.Sync(); err != nil {
		return errResp(api.JSStreamMsgDeleteFailedF.With("err", err))
	}
	return &successResp{api.JSApiSuccessResponse{Success: true}}
}
