package jetstream

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"reflect"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/server/jetstream/consumer"
	"github.com/sluicehq/sluice/pkg/api"
)

// The CONSUMER.* routes (MSG.NEXT is subscribed by each consumer).
func init() {
	routes["CONSUMER.CREATE"] = route{0, handleConsumerCreate, api.JSApiConsumerCreateType}
	routes["CONSUMER.DURABLE.CREATE"] = route{5, handleConsumerCreate, api.JSApiConsumerCreateType}
	routes["CONSUMER.INFO"] = route{4, handleConsumerInfo, api.JSApiConsumerInfoType}
	routes["CONSUMER.DELETE"] = route{4, handleConsumerDelete, api.JSApiConsumerDeleteType}
	routes["CONSUMER.NAMES"] = route{3, handleConsumerNames, api.JSApiConsumerNamesType}
	routes["CONSUMER.LIST"] = route{3, handleConsumerList, api.JSApiConsumerListType}
	routes["CONSUMER.PAUSE"] = route{4, handleConsumerPause, api.JSApiConsumerPauseType}
	routes["CONSUMER.UNPIN"] = route{4, handleConsumerUnpin, api.JSApiConsumerUnpinType}
	routes["CONSUMER.RESET"] = route{4, handleConsumerReset, api.JSApiConsumerResetType}
}

// consumerAPISubjects are the CONSUMER.* API subjects JetStream listens
// on under prefix pre ("$JS.API."); MSG.NEXT is each consumer's own, so a
// request for a missing consumer finds no responders, as in nats-server.
func consumerAPISubjects(pre string) []string {
	var out []string
	for _, f := range []string{"CREATE", "DURABLE.CREATE", "INFO", "DELETE", "NAMES", "LIST", "PAUSE", "UNPIN", "RESET", "LEADER.STEPDOWN"} {
		out = append(out, pre+"CONSUMER."+f+".>")
	}
	return out
}

type (
	consumerInfoResp  struct{ api.JSApiConsumerInfoResponse }
	consumerNamesResp struct{ api.JSApiConsumerNamesResponse }
	consumerListResp  struct{ api.JSApiConsumerListResponse }
	consumerPauseResp struct{ api.JSApiConsumerPauseResponse }
)

func (r *consumerInfoResp) envelope() *api.ApiResponse  { return &r.ApiResponse }
func (r *consumerNamesResp) envelope() *api.ApiResponse { return &r.ApiResponse }
func (r *consumerListResp) envelope() *api.ApiResponse  { return &r.ApiResponse }
func (r *consumerPauseResp) envelope() *api.ApiResponse { return &r.ApiResponse }

func handleConsumerCreate(js *JetStream, a *jsAccount, r *apiReq, t []string) any {
	if len(t) < 3 {
		return nil
	}
	durableAPI := t[1] == "DURABLE"
	var streamName, name, filter string
	if durableAPI {
		streamName, name = t[3], t[4]
	} else {
		streamName = t[2]
		if len(t) > 3 {
			name = t[3]
		}
		if len(t) > 4 {
			filter = strings.Join(t[4:], ".")
		}
	}
	var req api.CreateConsumerRequest
	if e := js.decode(r.msg, &req); e != nil {
		return errResp(e)
	}
	if req.Stream != "" && req.Stream != streamName {
		return errResp(api.JSStreamMismatchErr)
	}
	var cfg api.ConsumerConfig // a missing config is an empty one, as in nats-server
	if req.Config != nil {
		cfg = *req.Config
	}
	switch {
	case durableAPI:
		if cfg.Durable == "" {
			return errResp(api.JSConsumerDurableNameNotSetErr)
		}
		if cfg.Durable != name {
			return errResp(api.JSConsumerDurableNameNotMatchSubjectErr)
		}
	case name == "":
		if cfg.Durable != "" {
			return errResp(api.JSConsumerEphemeralWithDurableNameErr)
		}
	default:
		if cfg.Durable != "" && cfg.Durable != name {
			return errResp(api.JSConsumerDurableNameNotMatchSubjectErr)
		}
		cfg.Name = name
	}
	if filter != "" {
		if len(cfg.FilterSubjects) > 0 {
			return errResp(api.JSConsumerMultipleFiltersNotAllowed)
		}
		if cfg.FilterSubject != filter {
			return errResp(api.JSConsumerCreateFilterSubjectMismatchErr)
		}
	}
	for _, n := range []string{cfg.Name, cfg.Durable} {
		if len(n) > consumer.MaxNameLen {
			return errResp(api.JSConsumerNameTooLongErrF.With("max", consumer.MaxNameLen))
		}
		if strings.ContainsAny(n, `\/`) {
			return errResp(api.JSConsumerNameContainsPathSeparatorsErr)
		}
	}
	switch req.Action {
	case "", "create", "update":
	default:
		return errResp(api.JSInvalidJSONErr.With("err", `unknown consumer action: "`+req.Action+`"`))
	}
	s := a.lookup(streamName)
	if s == nil {
		return errResp(api.JSStreamNotFoundErr)
	}
	scfg := s.config()
	accMAP := a.limits.Load().MaxAckPending
	if e := consumer.SetDefaults(&cfg, &scfg, accMAP); e != nil {
		return errResp(e)
	}
	if e := consumer.Check(&cfg, &scfg, accMAP); e != nil {
		return errResp(e)
	}
	if cfg.Name == "" && cfg.Durable != "" {
		cfg.Name = cfg.Durable
	}
	setConsumerMetadata(&cfg)
	// A consumer feeding a mirror or source is made for the stream the
	// caller knew: Nats-Stream-Identity, when sent, must be this
	// stream's, and the answer carries it (nats-server 2.15).
	feeds := cfg.Direct || cfg.Sourcing
	if feeds {
		ident := streamIdentity(s.created)
		if want := getHeader(r.hdr, hdrStreamIdent); len(want) > 0 && string(want) != ident {
			return errResp(api.JSConsumerStreamIdentityMismatchF.With("msg", ident))
		}
	}
	withIdent := func(resp any) any {
		if !feeds {
			return resp
		}
		return &headedResp{resp: resp, hdr: identityHeader(s.created)}
	}
	a.createMu.Lock()
	defer a.createMu.Unlock()
	if cfg.Name != "" {
		if e := s.consumer(cfg.Name); e != nil {
			old := e.c.Config()
			if req.Action == "create" {
				if !reflect.DeepEqual(old, cfg) {
					return errResp(api.JSConsumerAlreadyExists)
				}
				return withIdent(infoWithVersion(e))
			}
			if scfg.Retention == api.WorkQueuePolicy && !s.partitionUnique(cfg.Name, consumer.Filters(&cfg)) {
				return errResp(api.JSConsumerWQConsumerNotUniqueErr)
			}
			if err := consumer.CheckUpdate(&old, &cfg); err != nil {
				return errResp(api.JSConsumerCreateErrF.With("err", err))
			}
			e.c.UpdateConfig(cfg)
			if s.persists(&cfg) {
				s.writeConsumerMeta(cfg.Name, consumerMeta{Config: cfg, Created: e.c.Created()})
			}
			return withIdent(infoWithVersion(e))
		}
	}
	if req.Action == "update" {
		return errResp(api.JSConsumerDoesNotExist)
	}
	maxc := scfg.MaxConsumers
	if l := a.limits.Load().MaxConsumers; maxc <= 0 || (l > 0 && l < maxc) {
		maxc = l
	}
	if maxc > 0 && s.numLimitable() >= maxc {
		return errResp(api.JSMaximumConsumersLimitErr)
	}
	// Direct consumers feed mirrors and sources; work-queue rules do not
	// bind them (as in nats-server).
	if scfg.Retention == api.WorkQueuePolicy && !cfg.Direct {
		if cfg.AckPolicy != api.AckExplicit && cfg.AckPolicy != api.AckFlowControl {
			return errResp(api.JSConsumerWQRequiresExplicitAckErr)
		}
		if cfg.DeliverPolicy != api.DeliverAll {
			return errResp(api.JSConsumerWQConsumerNotDeliverAllErr)
		}
		if s.numLimitable() > 0 {
			f := consumer.Filters(&cfg)
			if len(f) == 0 {
				return errResp(api.JSConsumerWQMultipleUnfilteredErr)
			}
			if !s.partitionUnique(cfg.Name, f) {
				return errResp(api.JSConsumerWQConsumerNotUniqueErr)
			}
		}
	}
	if cfg.Name == "" {
		cfg.Name = ephemeralName()
	}
	e, err := s.startConsumer(cfg, time.Now().UTC(), false)
	if err != nil {
		return errResp(api.JSConsumerStoreFailedErrF.With("err", err))
	}
	js.consumerAdvisory(a, s.name, e.name, "create", &cfg)
	return withIdent(infoWithVersion(e))
}

// setConsumerMetadata keeps the required API level in the stored config
// and drops the version keys a client may echo back.
func setConsumerMetadata(cfg *api.ConsumerConfig) {
	m := make(map[string]string, len(cfg.Metadata)+1)
	for k, v := range cfg.Metadata {
		if k != metaVersion && k != metaLevel {
			m[k] = v
		}
	}
	lvl := "0"
	if cfg.PauseUntil != nil || cfg.PriorityPolicy != api.PriorityNone || cfg.PinnedTTL != 0 || len(cfg.PriorityGroups) > 0 {
		lvl = "1"
	}
	if cfg.AckPolicy == api.AckFlowControl {
		lvl = "4"
	}
	m[metaReqLevel] = lvl
	cfg.Metadata = m
}

// infoWithVersion is the consumer's info with the server's version keys in
// its metadata, as CREATE and INFO answer.
func infoWithVersion(e *consumerEntry) *consumerInfoResp {
	ci := e.c.Info()
	ci.Config.Metadata = withVersionMetadata(ci.Config.Metadata, 0)
	return &consumerInfoResp{api.JSApiConsumerInfoResponse{ConsumerInfo: ci}}
}

// partitionUnique reports whether filters overlap no other consumer's
// (work-queue streams).
func (s *stream) partitionUnique(name string, filters []string) bool {
	for _, e := range s.consumerList() {
		if e.name == name {
			continue
		}
		cfg := e.c.Config()
		other := consumer.Filters(&cfg)
		if len(other) == 0 || len(filters) == 0 {
			return false
		}
		for _, a := range filters {
			for _, b := range other {
				if consumer.Overlap(a, b) {
					return false
				}
			}
		}
	}
	return true
}

func ephemeralName() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b [8]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

func lookupConsumer(a *jsAccount, streamName, name string) (*stream, *consumerEntry, *api.ApiError) {
	s := a.lookup(streamName)
	if s == nil {
		return nil, nil, api.JSStreamNotFoundErr
	}
	e := s.consumer(name)
	if e == nil {
		return s, nil, api.JSConsumerNotFoundErr
	}
	return s, e, nil
}

func handleConsumerInfo(_ *JetStream, a *jsAccount, _ *apiReq, t []string) any {
	_, e, err := lookupConsumer(a, t[2], t[3])
	if err != nil {
		return errResp(err)
	}
	return infoWithVersion(e)
}

func handleConsumerDelete(_ *JetStream, a *jsAccount, _ *apiReq, t []string) any {
	s, _, err := lookupConsumer(a, t[2], t[3])
	if err != nil {
		return errResp(err)
	}
	if !s.deleteConsumer(t[3], true) {
		return errResp(api.JSConsumerNotFoundErr)
	}
	return &successResp{api.JSApiSuccessResponse{Success: true}}
}

func handleConsumerNames(js *JetStream, a *jsAccount, r *apiReq, t []string) any {
	var req api.ApiPagedRequest
	if e := js.decode(r.msg, &req); e != nil {
		return &consumerNamesResp{api.JSApiConsumerNamesResponse{ApiResponse: api.ApiResponse{Error: e}}}
	}
	s := a.lookup(t[2])
	if s == nil {
		return &consumerNamesResp{api.JSApiConsumerNamesResponse{ApiResponse: api.ApiResponse{Error: api.JSStreamNotFoundErr}}}
	}
	all := s.publicConsumers()
	off := min(max(req.Offset, 0), len(all))
	resp := &consumerNamesResp{api.JSApiConsumerNamesResponse{ApiPaged: api.ApiPaged{Total: len(all), Offset: off, Limit: namesPageLimit}}}
	resp.Consumers = []string{}
	for _, e := range all[off:min(off+namesPageLimit, len(all))] {
		resp.Consumers = append(resp.Consumers, e.name)
	}
	return resp
}

func handleConsumerList(js *JetStream, a *jsAccount, r *apiReq, t []string) any {
	var req api.ApiPagedRequest
	if e := js.decode(r.msg, &req); e != nil {
		return &consumerListResp{api.JSApiConsumerListResponse{ApiResponse: api.ApiResponse{Error: e}}}
	}
	s := a.lookup(t[2])
	if s == nil {
		return &consumerListResp{api.JSApiConsumerListResponse{ApiResponse: api.ApiResponse{Error: api.JSStreamNotFoundErr}}}
	}
	all := s.publicConsumers()
	off := min(max(req.Offset, 0), len(all))
	resp := &consumerListResp{api.JSApiConsumerListResponse{ApiPaged: api.ApiPaged{Total: len(all), Offset: off, Limit: listPageLimit}}}
	resp.Consumers = []*api.ConsumerInfo{}
	for _, e := range all[off:min(off+listPageLimit, len(all))] {
		resp.Consumers = append(resp.Consumers, e.c.Info())
	}
	return resp
}

func handleConsumerPause(js *JetStream, a *jsAccount, r *apiReq, t []string) any {
	var req api.JSApiConsumerPauseRequest
	if e := js.decode(r.msg, &req); e != nil {
		return errResp(e)
	}
	s, e, err := lookupConsumer(a, t[2], t[3])
	if err != nil {
		return errResp(err)
	}
	until := req.PauseUntil
	e.c.Pause(until)
	cfg := e.c.Config()
	if s.persists(&cfg) {
		s.writeConsumerMeta(e.name, consumerMeta{Config: cfg, Created: e.c.Created()})
	}
	now := time.Now()
	resp := &consumerPauseResp{api.JSApiConsumerPauseResponse{PauseUntil: until.UTC()}}
	if until.After(now) {
		resp.Paused = true
		resp.PauseRemaining = until.Sub(now)
	}
	ev := api.JSConsumerPauseAdvisory{
		TypedEvent: api.TypedEvent{Type: api.JSConsumerPauseAdvisoryType, ID: eventID(), Time: now.UTC()},
		Stream:     s.name, Consumer: e.name, Paused: resp.Paused, PauseUntil: until.UTC(), Domain: js.cfg.Domain,
	}
	js.publishEvent(a.name, "$JS.EVENT.ADVISORY.CONSUMER.PAUSE."+s.name+"."+e.name, ev)
	return resp
}

func handleConsumerUnpin(js *JetStream, a *jsAccount, r *apiReq, t []string) any {
	var req api.JSApiConsumerUnpinRequest
	if len(bytes.TrimSpace(r.msg)) == 0 {
		return errResp(api.JSInvalidJSONErr.With("err", "unexpected end of JSON input"))
	}
	if e := js.decode(r.msg, &req); e != nil {
		return errResp(e)
	}
	if req.Group == "" {
		return errResp(api.JSInvalidJSONErr.With("err", "consumer group not specified"))
	}
	if !consumer.ValidGroupName(req.Group) {
		return errResp(api.JSConsumerInvalidGroupNameErr)
	}
	_, e, err := lookupConsumer(a, t[2], t[3])
	if err != nil {
		return errResp(err)
	}
	cfg := e.c.Config()
	for _, g := range cfg.PriorityGroups {
		if g == req.Group {
			e.c.Unpin(req.Group)
			return &api.ApiResponse{}
		}
	}
	return errResp(api.JSConsumerInvalidPriorityGroupErr)
}

// handleConsumerReset: a missing stream or consumer gets no answer, as in
// nats-server (where each consumer listens on its own reset subject).
func handleConsumerReset(_ *JetStream, a *jsAccount, r *apiReq, t []string) any {
	if _, e, err := lookupConsumer(a, t[2], t[3]); err == nil {
		e.handleReset(r.reply, r.hdr, r.msg)
	}
	return nil
}

// handleReset answers $JS.API.CONSUMER.RESET.<stream>.<consumer>: an empty
// body restarts delivery after the ack floor, {"seq":n} at n.
func (e *consumerEntry) handleReset(reply string, hdr, msg []byte) {
	if reply == "" {
		return
	}
	js := e.s.js
	resp := api.JSApiConsumerResetResponse{ApiResponse: api.ApiResponse{Type: api.JSApiConsumerResetType}}
	var req api.JSApiConsumerResetRequest
	switch {
	case getHeader(hdr, hdrRequiredLevel) != nil && !levelOK(getHeader(hdr, hdrRequiredLevel)):
		resp.Error = api.JSRequiredApiLevelErr
	case len(msg) > 0 && json.Unmarshal(msg, &req) != nil:
		resp.Error = api.JSInvalidJSONErr.With("err", json.Unmarshal(msg, &req))
	default:
		seq, err := e.c.Reset(req.Seq)
		if err != nil {
			resp.Error = api.JSConsumerInvalidResetErr.With("err", err)
			break
		}
		resp.ConsumerInfo = infoWithVersion(e).ConsumerInfo
		resp.ResetSeq = seq
	}
	b, err := json.Marshal(&resp)
	if err != nil {
		return
	}
	// Asked for (any value), the stream's identity comes back with a
	// successful reset, as in nats-server.
	var rhdr []byte
	if resp.Error == nil && hasHeader(hdr, hdrStreamIdent) {
		rhdr = identityHeader(e.s.created)
	}
	js.b.Publish(e.s.acc.name, reply, "", rhdr, b)
}
