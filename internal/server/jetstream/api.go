package jetstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/pkg/api"
)

// apiReq is one $JS.API request waiting for the API goroutine.
type apiReq struct {
	account, subj, reply string
	hdr, msg             []byte
}

// apiQueue runs API requests off the server's internal queue: a stream
// create or a purge of a big file stream must not hold up $SYS or other
// internal subscriptions.
type apiQueue struct {
	js    *JetStream
	limit int
	wake  chan struct{}
	done  chan struct{}
	mu    struct {
		sync.Mutex
		q       []apiReq
		stopped bool
	}
}

func newAPIQueue(js *JetStream, limit int) *apiQueue {
	q := &apiQueue{js: js, limit: limit, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go q.run()
	return q
}

// push queues r. As in nats-server, a queue that reaches
// request_queue_limit is emptied: every pending request is dropped and
// the count returned (0 when nothing was dropped).
func (q *apiQueue) push(r apiReq) (dropped int) {
	q.mu.Lock()
	if q.mu.stopped {
		q.mu.Unlock()
		return 0
	}
	q.mu.q = append(q.mu.q, r)
	if len(q.mu.q) >= q.limit {
		dropped = len(q.mu.q)
		clear(q.mu.q)
		q.mu.q = q.mu.q[:0]
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return dropped
}

func (q *apiQueue) run() {
	defer close(q.done)
	var batch []apiReq
	for range q.wake {
		q.mu.Lock()
		batch, q.mu.q = q.mu.q, batch[:0]
		stopped := q.mu.stopped
		q.mu.Unlock()
		for i := range batch {
			q.js.handleAPI(&batch[i])
			batch[i] = apiReq{}
		}
		if stopped {
			return
		}
	}
}

func (q *apiQueue) stop() {
	q.mu.Lock()
	q.mu.stopped = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	<-q.done
}

// apiRequest is the callback of $JS.API.> in every account.
func (js *JetStream) apiRequest(account, subj, reply string, hdr, msg []byte) {
	if js.forwardKVDomain(account, subj, reply, hdr, msg) {
		return
	}
	if reply == "" {
		return // requests without a reply are ignored
	}
	if d := js.cfg.Domain; d != "" && strings.HasPrefix(subj, "$JS."+d+".API.") {
		subj = "$JS.API." + subj[len("$JS."+d+".API."):]
		if strings.HasPrefix(subj, "$JS.API.DIRECT.GET.") {
			// Forward to the stream's own direct get subscription.
			js.b.Publish(account, subj, reply, hdr, msg)
			return
		}
	}
	if n := js.apiq.push(apiReq{account: account, subj: subj, reply: reply, hdr: hdr, msg: msg}); n > 0 {
		js.apiLimitReached(n)
	}
}

// apiLimitReached reports requests dropped at request_queue_limit: a
// warning (at most once a second) and, as nats-server, an advisory in the
// system account.
func (js *JetStream) apiLimitReached(dropped int) {
	now := time.Now().UnixNano()
	if last := js.apiDropWarn.Load(); now-last > int64(time.Second) && js.apiDropWarn.CompareAndSwap(last, now) {
		js.log.Warnf("JetStream API queue limit reached, dropping %d requests", dropped)
	}
	if sys := js.b.SystemAccount(); sys != "" {
		js.publishEvent(sys, api.JSAdvisoryAPILimitReached, api.JSAPILimitReachedAdvisory{
			TypedEvent: api.TypedEvent{Type: api.JSAPILimitReachedAdvisoryType, ID: eventID(), Time: time.Now().UTC()},
			Server:     js.b.ServerName(), Domain: js.cfg.Domain, Dropped: int64(dropped),
		})
	}
}

// handler answers one API request: it returns the response (with Type
// set) or nil for no reply.
type handler func(js *JetStream, a *jsAccount, r *apiReq, tokens []string) any

type route struct {
	tokens   int // number of tokens after $JS.API.
	h        handler
	respType string // the "type" of every answer, errors included
}

var routes = map[string]route{
	"INFO":                     {1, handleAccountInfo, api.JSApiAccountInfoResponseType},
	"STREAM.CREATE":            {3, handleStreamCreate, api.JSApiStreamCreateType},
	"STREAM.UPDATE":            {3, handleStreamUpdate, api.JSApiStreamUpdateType},
	"STREAM.DELETE":            {3, handleStreamDelete, api.JSApiStreamDeleteType},
	"STREAM.INFO":              {3, handleStreamInfo, api.JSApiStreamInfoType},
	"STREAM.NAMES":             {2, handleStreamNames, api.JSApiStreamNamesType},
	"STREAM.LIST":              {2, handleStreamList, api.JSApiStreamListType},
	"STREAM.PURGE":             {3, handleStreamPurge, api.JSApiStreamPurgeType},
	"STREAM.MSG.GET":           {4, handleMsgGet, api.JSApiMsgGetType},
	"STREAM.MSG.DELETE":        {4, handleMsgDelete, api.JSApiMsgDeleteType},
	"STREAM.LEADER.STEPDOWN":   {4, handleClusterOnly, api.JSApiStreamStepdownType},
	"STREAM.PEER.REMOVE":       {4, handleClusterOnly, api.JSApiStreamRemovePeerType},
	"STREAM.PEER.EVACUATE":     {4, handleClusterOnly, "io.nats.jetstream.api.v1.stream_evacuate_peer_response"},
	"CONSUMER.LEADER.STEPDOWN": {5, handleClusterOnly, "io.nats.jetstream.api.v1.consumer_leader_stepdown_response"},
}

// lookupRoute finds the handler of an API subject (after "$JS.API.").
func lookupRoute(rest string) (route, []string, bool) {
	tokens := strings.Split(rest, ".")
	for n := min(len(tokens), 3); n >= 1; n-- {
		if r, ok := routes[strings.Join(tokens[:n], ".")]; ok && (r.tokens == len(tokens) || r.tokens == 0 && len(tokens) > n) { // consumers hook: 0 = any count
			return r, tokens, true
		}
	}
	return route{}, nil, false
}

func (js *JetStream) handleAPI(r *apiReq) {
	rest := strings.TrimPrefix(r.subj, "$JS.API.")
	rt, tokens, ok := lookupRoute(rest)
	if !ok {
		return // unknown API subjects get no reply, as in nats-server
	}
	js.apiInflight.Add(1)
	defer js.apiInflight.Add(^uint64(0))
	js.apiTotal.Add(1)
	a := js.account(r.account)
	if a != nil {
		a.apiTotal.Add(1)
	}
	var resp any
	if a == nil && r.account == js.b.SystemAccount() && rt.respType != api.JSApiAccountInfoResponseType {
		// The system account never has JetStream; nats-server answers
		// its stream requests with a system response.
		rt.respType = "io.nats.jetstream.api.v1.system_response"
		resp = &api.ApiResponse{Error: api.JSNotEnabledForAccountErr}
	} else if a == nil {
		resp = notEnabled(rt.respType)
	} else if lvl := getHeader(r.hdr, hdrRequiredLevel); lvl != nil && !levelOK(lvl) {
		resp = &api.ApiResponse{Type: rt.respType, Error: api.JSRequiredApiLevelErr}
	} else {
		resp = rt.h(js, a, r, tokens)
	}
	if resp == nil {
		return
	}
	var rhdr []byte
	if h, ok := resp.(*headedResp); ok {
		resp, rhdr = h.resp, h.hdr
	}
	if e := responseError(resp); e != nil {
		js.apiErrors.Add(1)
		if a != nil {
			a.apiErrors.Add(1)
		}
	}
	setType(resp, rt.respType)
	b, err := json.Marshal(resp)
	if err != nil {
		js.log.Errorf("JetStream API response for %q: %v", r.subj, err)
		return
	}
	js.b.Publish(r.account, r.reply, "", rhdr, b)
	js.audit(r, b)
}

// headedResp is a response sent with headers.
type headedResp struct {
	resp any
	hdr  []byte
}

func levelOK(v []byte) bool {
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
		if n > APILevel {
			return false
		}
	}
	return len(v) > 0
}

// typed responses expose their envelope for setType/responseError.
type enveloped interface{ envelope() *api.ApiResponse }

func responseError(resp any) *api.ApiError {
	if e, ok := resp.(enveloped); ok {
		return e.envelope().Error
	}
	if e, ok := resp.(*api.ApiResponse); ok {
		return e.Error
	}
	return nil
}

func setType(resp any, t string) {
	if e, ok := resp.(enveloped); ok {
		e.envelope().Type = t
	} else if e, ok := resp.(*api.ApiResponse); ok {
		e.Type = t
	}
}

// notEnabled answers requests in an account without JetStream; paged
// responses carry their (zero) paging fields and null lists.
func notEnabled(t string) any {
	e := api.ApiResponse{Type: t, Error: api.JSNotEnabledForAccountErr}
	switch t {
	case api.JSApiStreamNamesType:
		return &namesResp{JSApiStreamNamesResponse: api.JSApiStreamNamesResponse{ApiResponse: e}}
	case api.JSApiStreamListType:
		return &listResp{JSApiStreamListResponse: api.JSApiStreamListResponse{ApiResponse: e}}
	}
	return &e
}

// decode reads a request body: empty means zero values; strict mode
// refuses unknown fields with nats-server's error.
func (js *JetStream) decode(msg []byte, v any) *api.ApiError {
	if len(bytes.TrimSpace(msg)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(msg))
	if !js.cfg.NotStrict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return api.JSInvalidJSONErr.With("err", err.Error()+" at offset "+itoa(int(se.Offset)))
		}
		return api.JSInvalidJSONErr.With("err", err)
	}
	return nil
}

func handleClusterOnly(*JetStream, *jsAccount, *apiReq, []string) any {
	return &api.ApiResponse{Error: api.JSClusterRequiredErr}
}

func handleAccountInfo(_ *JetStream, a *jsAccount, _ *apiReq, _ []string) any {
	return &infoResp{JSApiAccountInfoResponse: api.JSApiAccountInfoResponse{JetStreamAccountStats: a.info()}}
}

// Response wrappers with an envelope accessor.
type (
	infoResp       struct{ api.JSApiAccountInfoResponse }
	createResp     struct{ api.JSApiStreamCreateResponse }
	streamInfoResp struct{ api.JSApiStreamInfoResponse }
	namesResp      struct{ api.JSApiStreamNamesResponse }
	listResp       struct{ api.JSApiStreamListResponse }
	successResp    struct{ api.JSApiSuccessResponse }
	purgeResp      struct{ api.JSApiStreamPurgeResponse }
	msgGetResp     struct{ api.JSApiMsgGetResponse }
)

func (r *infoResp) envelope() *api.ApiResponse       { return &r.ApiResponse }
func (r *createResp) envelope() *api.ApiResponse     { return &r.ApiResponse }
func (r *streamInfoResp) envelope() *api.ApiResponse { return &r.ApiResponse }
func (r *namesResp) envelope() *api.ApiResponse      { return &r.ApiResponse }
func (r *listResp) envelope() *api.ApiResponse       { return &r.ApiResponse }
func (r *successResp) envelope() *api.ApiResponse    { return &r.ApiResponse }
func (r *purgeResp) envelope() *api.ApiResponse      { return &r.ApiResponse }
func (r *msgGetResp) envelope() *api.ApiResponse     { return &r.ApiResponse }
