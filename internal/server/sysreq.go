package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/api"
)

// $SYS request services. Every server endpoint answers on
// $SYS.REQ.SERVER.PING.<NAME> (each server) and $SYS.REQ.SERVER.<id>.<NAME>
// (this server); account endpoints on $SYS.REQ.ACCOUNT.<acc>.<NAME>. A
// request body is the endpoint's options and the EventFilterOptions in one
// JSON object; a server the filter leaves out stays silent. Answers are
// wrapped in the ServerAPIResponse envelope, except IDZ, STATSZ and CONNS.
// As in nats-server, a body that does not decode is answered with code
// 400 and any other failure with 500.

// sysRequest is one request to a $SYS service.
type sysRequest struct {
	acc  string // the <acc> token of $SYS.REQ.ACCOUNT.<acc>.<NAME>
	body []byte
}

// decode reads the body into v; an empty body leaves v as it is.
func (r *sysRequest) decode(v any) error {
	if len(bytes.TrimSpace(r.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		return errBadRequest{err}
	}
	return nil
}

// sysHandler computes the data of one endpoint.
type sysHandler func(s *Server, r *sysRequest) (any, error)

// errBadRequest marks an error as the requester's (code 400).
type errBadRequest struct{ error }

func (e errBadRequest) Unwrap() error { return e.error }

// errSkipReply tells the dispatcher to stay silent: this server has
// nothing to say to the request (JSZ leader_only on a non-leader, STATZ of
// an account without connections).
var errSkipReply = errors.New("filtered response")

// z adapts a report taking options O into a sysHandler that decodes O
// from the body.
func z[O, R any](f func(s *Server, o *O, r *sysRequest) (R, error)) sysHandler {
	return func(s *Server, r *sysRequest) (any, error) {
		o := new(O)
		if err := r.decode(o); err != nil {
			return nil, err
		}
		v, err := f(s, o, r)
		if err != nil {
			return nil, err
		}
		return v, nil
	}
}

// serverEndpoints are the Z endpoints of the server.
var serverEndpoints = map[string]sysHandler{
	"STATSZ": func(s *Server, _ *sysRequest) (any, error) { return s.statszMsg(), nil },
	"IDZ":    func(s *Server, _ *sysRequest) (any, error) { return s.idz(), nil },
	"VARZ": z(func(s *Server, _ *api.VarzOptions, _ *sysRequest) (*api.Varz, error) {
		return s.Varz()
	}),
	"CONNZ": z(func(s *Server, o *api.ConnzOptions, _ *sysRequest) (*api.Connz, error) {
		return s.Connz(o)
	}),
	"SUBSZ": z(func(s *Server, o *api.SubszOptions, _ *sysRequest) (*api.Subsz, error) {
		return s.Subsz(o)
	}),
	"ROUTEZ": z(func(s *Server, o *api.RoutezOptions, _ *sysRequest) (*api.Routez, error) {
		return s.Routez(o)
	}),
	"GATEWAYZ": z(func(s *Server, o *api.GatewayzOptions, _ *sysRequest) (*api.Gatewayz, error) {
		return s.Gatewayz(o)
	}),
	"LEAFZ": z(func(s *Server, o *api.LeafzOptions, _ *sysRequest) (*api.Leafz, error) {
		return s.Leafz(o)
	}),
	"ACCOUNTZ": z(func(s *Server, o *api.AccountzOptions, _ *sysRequest) (*api.Accountz, error) {
		return s.Accountz(o)
	}),
	"JSZ": z(func(s *Server, o *api.JSzOptions, _ *sysRequest) (*api.JSInfo, error) {
		return s.Jsz(o)
	}),
	"HEALTHZ": z(func(s *Server, o *api.HealthzOptions, _ *sysRequest) (*api.HealthStatus, error) {
		return s.Healthz(o), nil
	}),
	"PROFILEZ": z(func(s *Server, o *api.ProfilezOptions, _ *sysRequest) (*api.ProfilezStatus, error) {
		return s.profilez(o), nil
	}),
	"EXPVARZ": func(*Server, *sysRequest) (any, error) { return expvarz(), nil },
	"IPQUEUESZ": z(func(s *Server, o *api.IpqueueszOptions, _ *sysRequest) (*api.IpqueueszStatus, error) {
		return s.Ipqueuesz(o), nil
	}),
	"RAFTZ": z(func(s *Server, o *api.RaftzOptions, _ *sysRequest) (*api.RaftzStatus, error) {
		return s.Raftz(o), nil
	}),
}

// unenveloped endpoints answer with their data alone, as nats-server does.
var unenveloped = map[string]bool{"STATSZ": true, "IDZ": true, "CONNS": true}

// controlEndpoints act on this server only ($SYS.REQ.SERVER.<id>.<NAME>).
var controlEndpoints = map[string]sysHandler{
	"RELOAD": func(s *Server, _ *sysRequest) (any, error) { return nil, s.Reload() },
	"KICK": z(func(s *Server, o *api.KickClientReq, _ *sysRequest) (any, error) {
		return nil, s.kickClient(o.CID)
	}),
	"LDM": z(func(s *Server, o *api.LDMClientReq, _ *sysRequest) (any, error) {
		return nil, s.ldmClient(o.CID)
	}),
}

// accountEndpoints answer $SYS.REQ.ACCOUNT.<acc>.<NAME> about one account.
var accountEndpoints = map[string]sysHandler{
	"SUBSZ": z(func(s *Server, o *api.SubszOptions, r *sysRequest) (*api.Subsz, error) {
		o.Subscriptions, o.Account = true, r.acc
		return s.Subsz(o)
	}),
	"CONNZ": z(func(s *Server, o *api.ConnzOptions, r *sysRequest) (*api.Connz, error) {
		o.Account = r.acc
		return s.Connz(o)
	}),
	"LEAFZ": z(func(s *Server, o *api.LeafzOptions, r *sysRequest) (*api.Leafz, error) {
		o.Account = r.acc
		return s.Leafz(o)
	}),
	"JSZ": z(func(s *Server, o *api.JSzOptions, r *sysRequest) (*api.AccountDetail, error) {
		o.Account = r.acc
		return s.jszAccount(o)
	}),
	"INFO": func(s *Server, r *sysRequest) (any, error) {
		az, err := s.Accountz(&api.AccountzOptions{Account: r.acc})
		if err != nil {
			return nil, err
		}
		return az.Account, nil
	},
	"STATZ": z(func(s *Server, o *api.AccountStatzOptions, r *sysRequest) (*api.AccountStatz, error) {
		if r.acc == "PING" { // answered by the PING.STATZ service
			return nil, errSkipReply
		}
		o.Accounts = []string{r.acc}
		return s.accountStatzReply(o)
	}),
	"CONNS": z(func(s *Server, o *api.AccNumConnsReq, r *sysRequest) (*api.AccountNumConns, error) {
		if o.Account != "" && o.Account != r.acc {
			return nil, errBadRequest{fmt.Errorf("account %q does not match the subject's %q", o.Account, r.acc)}
		}
		a := s.accs.lookup(r.acc)
		if a == nil || a.NumClients() == 0 {
			return nil, errSkipReply // only servers with local connections answer
		}
		return s.accountNumConns(a), nil
	}),
}

// accountStatzReply is AccountStatz, or silence when it lists no account
// and the request did not ask for unused ones.
func (s *Server) accountStatzReply(o *api.AccountStatzOptions) (*api.AccountStatz, error) {
	stz, err := s.AccountStatz(o)
	if err != nil {
		return nil, err
	}
	if len(stz.Accounts) == 0 && !o.IncludeUnused {
		return nil, errSkipReply
	}
	return stz, nil
}

func (s *Server) registerSysServices() {
	sub := func(subj string, cb MsgHandler) {
		if _, err := s.SubscribeInternal(s.sysAcc, subj, "", cb); err != nil {
			s.log.Errorf("$SYS service %s: %v", subj, err)
		}
	}
	serve := func(name string, h sysHandler) MsgHandler {
		return func(_, reply string, _, body []byte) {
			if name == "PROFILEZ" {
				// A CPU profile takes seconds: not on the internal queue.
				// It ends early when the server shuts down.
				go s.serveSys(name, h, &sysRequest{body: body}, reply, nil)
				return
			}
			s.serveSys(name, h, &sysRequest{body: body}, reply, nil)
		}
	}
	// The legacy PING is STATSZ.
	sub("$SYS.REQ.SERVER.PING", serve("STATSZ", serverEndpoints["STATSZ"]))
	for name, h := range serverEndpoints {
		sub("$SYS.REQ.SERVER.PING."+name, serve(name, h))
		sub("$SYS.REQ.SERVER."+s.id+"."+name, serve(name, h))
	}
	for name, h := range controlEndpoints {
		sub("$SYS.REQ.SERVER."+s.id+"."+name, serve(name, h))
	}
	for name, h := range accountEndpoints {
		sub("$SYS.REQ.ACCOUNT.*."+name, func(subj, reply string, _, body []byte) {
			acc := strings.Split(subj, ".")[3]
			s.serveSys(name, h, &sysRequest{acc: acc, body: body}, reply, nil)
		})
	}
	s.registerClaimsServices()
	s.registerUserInfoService()
	sub(accountPingStatz, serve("STATZ", z(func(s *Server, o *api.AccountStatzOptions, _ *sysRequest) (*api.AccountStatz, error) {
		return s.accountStatzReply(o)
	})))
}

// serveSys answers one request into acc (nil: the system account): it
// decodes the filter, stays silent when this server is not one the
// request asked for, and replies with h's data or error.
func (s *Server) serveSys(name string, h sysHandler, r *sysRequest, reply string, acc *Account) {
	if reply == "" {
		return
	}
	if name != "IDZ" && len(bytes.TrimSpace(r.body)) > 0 {
		var f api.EventFilterOptions
		if err := json.Unmarshal(r.body, &f); err != nil {
			s.respond(acc, reply, nil, &api.ServerAPIError{Code: 400, Description: err.Error()})
			return
		}
		if !s.matchesFilter(&f) {
			return
		}
	}
	data, err := h(s, r)
	var br errBadRequest
	switch {
	case errors.Is(err, errSkipReply):
	case errors.As(err, &br):
		s.respond(acc, reply, nil, &api.ServerAPIError{Code: 400, Description: br.Error()})
	case err != nil:
		s.respond(acc, reply, nil, &api.ServerAPIError{Code: 500, Description: err.Error()})
	case unenveloped[name]:
		s.respondRaw(acc, reply, data)
	default:
		s.respond(acc, reply, data, nil)
	}
}

func (s *Server) respond(acc *Account, reply string, data any, apiErr *api.ServerAPIError) {
	srv := s.eventServer()
	s.respondRaw(acc, reply, &api.ServerAPIResponse{Server: &srv, Data: data, Error: apiErr})
}

func (s *Server) respondRaw(acc *Account, reply string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		srv := s.eventServer()
		b, _ = json.Marshal(&api.ServerAPIResponse{Server: &srv, Error: &api.ServerAPIError{Code: 500, Description: err.Error()}})
	}
	s.queueSys(sysMsg{acc: acc, subj: reply, body: b})
}

// matchesFilter applies EventFilterOptions: substrings unless exact.
func (s *Server) matchesFilter(f *api.EventFilterOptions) bool {
	o := s.getOpts()
	match := func(want, have string) bool {
		if want == "" {
			return true
		}
		if f.Exact {
			return want == have
		}
		return strings.Contains(have, want)
	}
	// No clusters, tags or JetStream domains yet: asking for one matches none.
	return match(f.Name, s.Name()) && match(f.Host, o.Host) && f.Cluster == "" && len(f.Tags) == 0 && f.Domain == ""
}

func (s *Server) idz() *api.ServerID {
	return &api.ServerID{Name: s.Name(), Host: s.getOpts().Host, ID: s.id}
}

// maxCPUProfile bounds a CPU profile requested through PROFILEZ.
const maxCPUProfile = 15 * time.Second

// profilez captures a named runtime profile (heap, goroutine, ...), or a
// CPU profile of the requested duration.
func (s *Server) profilez(o *api.ProfilezOptions) *api.ProfilezStatus {
	if o.Name == "" {
		return &api.ProfilezStatus{Error: "Profile name not specified"}
	}
	if o.Name == "cpu" {
		return s.cpuProfile(o.Duration)
	}
	p := pprof.Lookup(o.Name)
	if p == nil {
		return &api.ProfilezStatus{Error: fmt.Sprintf("Profile %q not found", o.Name)}
	}
	var buf bytes.Buffer
	if err := p.WriteTo(&buf, o.Debug); err != nil {
		return &api.ProfilezStatus{Error: err.Error()}
	}
	return &api.ProfilezStatus{Profile: buf.Bytes()}
}

func (s *Server) cpuProfile(d time.Duration) *api.ProfilezStatus {
	if d <= 0 || d > maxCPUProfile {
		return &api.ProfilezStatus{Error: fmt.Sprintf("Duration %s should be between 0s and %s", d, maxCPUProfile)}
	}
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		return &api.ProfilezStatus{Error: fmt.Sprintf("Failed to start CPU profile: %s", err)}
	}
	t := time.NewTimer(d)
	select {
	case <-t.C:
	case <-s.doneCh:
		t.Stop()
	}
	pprof.StopCPUProfile()
	return &api.ProfilezStatus{Profile: buf.Bytes()}
}

// expvarz is what /debug/vars says of memory and the command line.
func expvarz() *api.ExpvarzStatus {
	st := &api.ExpvarzStatus{}
	if v := expvar.Get("memstats"); v != nil {
		st.Memstats = json.RawMessage(v.String())
	}
	if v := expvar.Get("cmdline"); v != nil {
		st.Cmdline = json.RawMessage(v.String())
	}
	return st
}

// kickClient closes a client connection by id.
func (s *Server) kickClient(cid uint64) error {
	c := s.clientByID(cid)
	if c == nil {
		return errors.New("no such client id")
	}
	c.closeConnection(reasonKicked)
	return nil
}

// ldmClient tells one client, by id, that this server is going away, so
// that it reconnects elsewhere.
func (s *Server) ldmClient(cid uint64) error {
	c := s.clientByID(cid)
	if c == nil {
		return errors.New("no such client id")
	}
	c.mu.Lock()
	proto := c.mu.protocol
	c.mu.Unlock()
	if proto < 1 || !c.connected.Load() {
		return errors.New("client does not support Lame Duck Mode or is not ready to receive the notification")
	}
	c.enqueue(s.infoFor(c, false, func(i *api.ServerInfo) { i.LameDuckMode = true }))
	return nil
}

func (s *Server) clientByID(cid uint64) *client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.clients[cid]
}

// Services every account reaches without importing them. With a system
// account they are service imports from it, as nats-server sets them up:
// the request crosses into the system account under the requester's own
// subject ($SYS.REQ.ACCOUNT.<acc>.CONNZ, ...), carrying Nats-Request-Info,
// and every server of the cluster with a $SYS service answers through the
// import's responses. Without one, the user info is answered in place.
const (
	userInfoSubj      = "$SYS.REQ.USER.INFO"
	accountPingStatz  = "$SYS.REQ.ACCOUNT.PING.STATZ"
	accountPingConnz  = "$SYS.REQ.ACCOUNT.PING.CONNZ"
	serverPingConnz   = "$SYS.REQ.SERVER.PING.CONNZ"
	accountStatzToken = "STATZ"
	accountConnzToken = "CONNZ"
)

// userInfoOf is the system account's subject answering user info for the
// requesters of account acc.
func userInfoOf(acc string) string { return "$SYS.REQ.USER." + acc + ".INFO" }

type userInfoResponder struct{}

func (userInfoResponder) forward(c *client, _, reply []byte, _ int, _ []byte) bool {
	if len(reply) == 0 {
		return false
	}
	return c.answer(reply, c.userInfo())
}

// userInfo is what $SYS.REQ.USER.INFO tells c about itself.
func (c *client) userInfo() *api.UserInfo {
	s := c.srv
	c.mu.Lock()
	user, acc := c.mu.user, c.acc.Name
	c.mu.Unlock()
	info := &api.UserInfo{UserID: user, Account: acc, AccountName: acc}
	if p := s.getOpts().permissionsOf(user, acc); p != nil {
		info.Permissions, _ = json.Marshal(p)
	}
	c.jwtUserInfo(info)
	info.Permissions = publicPermissions(info.Permissions)
	return info
}

// publicPermissions shows permissions as nats-server does: publish and
// subscribe always (empty when not limited), then responses if set.
func publicPermissions(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return nil
	}
	var p struct {
		Publish   json.RawMessage `json:"publish"`
		Subscribe json.RawMessage `json:"subscribe"`
		Responses json.RawMessage `json:"responses,omitempty"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return raw
	}
	empty := json.RawMessage("{}")
	if p.Publish == nil || string(p.Publish) == "null" {
		p.Publish = empty
	}
	if p.Subscribe == nil || string(p.Subscribe) == "null" {
		p.Subscribe = empty
	}
	if b, err := json.Marshal(&p); err == nil {
		return b
	}
	return raw
}

// answer replies to the client's own account in the $SYS envelope.
func (c *client) answer(reply []byte, data any) bool {
	srv := c.srv.sysEventServer()
	b, err := json.Marshal(&api.ServerAPIResponse{Server: &srv, Data: data})
	if err != nil {
		return false
	}
	c.publishIn(c.acc, reply, nil, 0, b)
	return true
}

// sysEventServer is eventServer, usable without a system account.
func (s *Server) sysEventServer() api.EventServer {
	if s.sys == nil {
		return api.EventServer{Name: s.Name(), Host: s.getOpts().Host, ID: s.id, Time: time.Now().UTC()}
	}
	return s.eventServer()
}

// addSystemImports gives an account the services every account has.
func (s *Server) addSystemImports(a *Account) {
	sys := s.sysAcc
	if sys == nil {
		a.addImport(&subscription{acc: a, subject: userInfoSubj, fwd: userInfoResponder{}})
		return
	}
	imp := func(local, remote, respType string, share bool) {
		fw := &serviceImport{from: sys, importer: a, local: local, remote: remote, respType: respType, share: share}
		a.addImport(&subscription{acc: a, subject: local, fwd: fw})
	}
	imp(userInfoSubj, userInfoOf(a.Name), ResponseSingleton, true)
	if a == sys {
		return
	}
	connz := "$SYS.REQ.ACCOUNT." + a.Name + "." + accountConnzToken
	imp(accountPingConnz, connz, ResponseStream, false)
	imp(serverPingConnz, connz, ResponseStream, false)
	imp(accountPingStatz, "$SYS.REQ.ACCOUNT."+a.Name+"."+accountStatzToken, ResponseStream, false)
}
