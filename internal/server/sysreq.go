package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/api"
)

// $SYS request services. Every server endpoint answers on
// $SYS.REQ.SERVER.PING.<NAME> (each server, filtered by the request's
// EventFilterOptions) and $SYS.REQ.SERVER.<id>.<NAME> (this server);
// account endpoints on $SYS.REQ.ACCOUNT.<acc>.<NAME>. Answers are
// wrapped in the ServerAPIResponse envelope except IDZ and STATSZ.

// sysHandler computes the data of one endpoint from the request body.
type sysHandler func(s *Server, body []byte) (any, error)

// accHandler computes an account endpoint.
type accHandler func(s *Server, acc *Account, body []byte) (any, error)

// errBadRequest marks an error as the requester's (code 400).
type errBadRequest struct{ error }

// serverEndpoints are the Z endpoints; the monitoring code adds its own
// (VARZ, CONNZ, ...) through addServerEndpoint.
var serverEndpoints = map[string]sysHandler{
	"STATSZ":   func(s *Server, _ []byte) (any, error) { return s.statszMsg(), nil },
	"IDZ":      func(s *Server, _ []byte) (any, error) { return s.idz(), nil },
	"PROFILEZ": (*Server).profilez,
	"HEALTHZ":  func(*Server, []byte) (any, error) { return map[string]any{"status": "ok", "status_code": 200}, nil },
}

// unenveloped endpoints answer with their data alone, as nats-server does.
var unenveloped = map[string]bool{"STATSZ": true, "IDZ": true}

// controlEndpoints act on this server only ($SYS.REQ.SERVER.<id>.<NAME>).
var controlEndpoints = map[string]sysHandler{
	"RELOAD": func(s *Server, _ []byte) (any, error) { return nil, s.Reload() },
	"KICK":   (*Server).kickReq,
	"LDM":    (*Server).ldmClientReq,
}

var accountEndpoints = map[string]accHandler{
	"STATZ": func(s *Server, a *Account, _ []byte) (any, error) {
		return map[string]any{"server_id": s.id, "now": time.Now().UTC(), "account_statz": []api.AccountStat{s.accountStat(a)}}, nil
	},
	"CONNS": func(s *Server, a *Account, _ []byte) (any, error) {
		return &api.AccountNumConns{Type: api.AccountNumConnsType, ID: randomToken(22), Time: time.Now().UTC(),
			Server: s.eventServer(), AccountStat: s.accountStat(a)}, nil
	},
}

func (s *Server) registerSysServices() {
	sub := func(subj string, cb MsgHandler) {
		if _, err := s.SubscribeInternal(s.sysAcc, subj, "", cb); err != nil {
			s.log.Errorf("$SYS service %s: %v", subj, err)
		}
	}
	sub("$SYS.REQ.SERVER.PING", func(_, reply string, _, _ []byte) {
		s.respondRaw(reply, s.statszMsg())
	})
	sub("$SYS.REQ.SERVER.PING.*", func(subj, reply string, hdr, body []byte) {
		name := subj[strings.LastIndexByte(subj, '.')+1:]
		if h, ok := serverEndpoints[name]; ok {
			s.serveEndpoint(name, h, reply, body, true)
		}
	})
	sub("$SYS.REQ.SERVER."+s.id+".*", func(subj, reply string, hdr, body []byte) {
		name := subj[strings.LastIndexByte(subj, '.')+1:]
		if h, ok := serverEndpoints[name]; ok {
			s.serveEndpoint(name, h, reply, body, false)
		} else if h, ok := controlEndpoints[name]; ok {
			s.serveEndpoint(name, h, reply, body, false)
		}
	})
	sub("$SYS.REQ.ACCOUNT.*.*", func(subj, reply string, hdr, body []byte) {
		tok := strings.Split(subj, ".")
		h, ok := accountEndpoints[tok[4]]
		if !ok {
			return
		}
		acc := s.accs.lookup(tok[3])
		if acc == nil {
			if tok[3] != "PING" {
				s.respond(reply, nil, &api.ServerAPIError{Code: 404, Description: "account not found"})
			}
			return
		}
		data, err := h(s, acc, body)
		s.respondResult(tok[4], reply, data, err)
	})
}

// serveEndpoint decodes the filter, skips silently when this server is
// not one the request asked for, and answers.
func (s *Server) serveEndpoint(name string, h sysHandler, reply string, body []byte, filtered bool) {
	if reply == "" {
		return
	}
	if filtered && len(bytes.TrimSpace(body)) > 0 {
		var f api.EventFilterOptions
		if err := json.Unmarshal(body, &f); err != nil {
			s.respond(reply, nil, &api.ServerAPIError{Code: 400, Description: err.Error()})
			return
		}
		if !s.matchesFilter(&f) {
			return
		}
	}
	data, err := h(s, body)
	s.respondResult(name, reply, data, err)
}

func (s *Server) respondResult(name, reply string, data any, err error) {
	var br errBadRequest
	switch {
	case errors.As(err, &br):
		s.respond(reply, nil, &api.ServerAPIError{Code: 400, Description: err.Error()})
	case err != nil:
		s.respond(reply, nil, &api.ServerAPIError{Code: 500, Description: err.Error()})
	case unenveloped[name]:
		s.respondRaw(reply, data)
	default:
		s.respond(reply, data, nil)
	}
}

func (s *Server) respond(reply string, data any, apiErr *api.ServerAPIError) {
	srv := s.eventServer()
	s.respondRaw(reply, &api.ServerAPIResponse{Server: &srv, Data: data, Error: apiErr})
}

func (s *Server) respondRaw(reply string, v any) {
	if reply == "" {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(&api.ServerAPIResponse{Error: &api.ServerAPIError{Code: 500, Description: err.Error()}})
	}
	s.queueSys(sysMsg{subj: reply, body: b})
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

// profilez captures a named runtime profile (heap, goroutine, ...).
func (s *Server) profilez(body []byte) (any, error) {
	var req struct {
		Name     string        `json:"name"`
		Debug    int           `json:"debug"`
		Duration time.Duration `json:"duration"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, errBadRequest{err}
		}
	}
	p := pprof.Lookup(req.Name)
	if p == nil {
		return &api.ProfilezStatus{Error: fmt.Sprintf("Profile %q not found", req.Name)}, nil
	}
	var buf bytes.Buffer
	if err := p.WriteTo(&buf, req.Debug); err != nil {
		return &api.ProfilezStatus{Error: err.Error()}, nil
	}
	return &api.ProfilezStatus{Profile: buf.Bytes()}, nil
}

func (s *Server) kickReq(body []byte) (any, error) {
	var req api.KickClientReq
	if err := json.Unmarshal(body, &req); err != nil || req.CID == 0 {
		return nil, errBadRequest{errors.New("request must be {\"cid\": <connection id>}")}
	}
	c := s.clientByID(req.CID)
	if c == nil {
		return nil, errBadRequest{fmt.Errorf("client %d not found", req.CID)}
	}
	c.closeConnection(reasonKicked)
	return nil, nil
}

func (s *Server) ldmClientReq(body []byte) (any, error) {
	var req api.LDMClientReq
	if err := json.Unmarshal(body, &req); err != nil || req.CID == 0 {
		return nil, errBadRequest{errors.New("request must be {\"cid\": <connection id>}")}
	}
	c := s.clientByID(req.CID)
	if c == nil {
		return nil, errBadRequest{fmt.Errorf("client %d not found", req.CID)}
	}
	c.enqueue(s.infoFor(c, false, func(i *api.ServerInfo) { i.LameDuckMode = true }))
	c.signalFlush()
	return nil, nil
}

func (s *Server) clientByID(cid uint64) *client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.clients[cid]
}

// residentMemory is the process RSS in bytes (0 where unknown).
func residentMemory() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// Services every account reaches without importing them: who am I, and
// my account's statistics. They answer in the requester's account, from
// the requester's own read loop (they only read its state).
const (
	userInfoSubj      = "$SYS.REQ.USER.INFO"
	accountPingStatsz = "$SYS.REQ.ACCOUNT.PING.STATZ"
)

type userInfoResponder struct{}

func (userInfoResponder) forward(c *client, _, reply []byte, _ int, _ []byte) bool {
	if len(reply) == 0 {
		return false
	}
	s := c.srv
	c.mu.Lock()
	user, acc := c.mu.user, c.acc.Name
	c.mu.Unlock()
	info := &api.UserInfo{UserID: user, Account: acc, AccountName: acc}
	if p := s.getOpts().permissionsOf(user, acc); p != nil {
		info.Permissions, _ = json.Marshal(p)
	}
	return c.answer(reply, info)
}

type accountStatzResponder struct{}

func (accountStatzResponder) forward(c *client, _, reply []byte, _ int, _ []byte) bool {
	if len(reply) == 0 {
		return false
	}
	s := c.srv
	return c.answer(reply, map[string]any{"server_id": s.id, "now": time.Now().UTC(), "account_statz": []api.AccountStat{s.accountStat(c.acc)}})
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

// sysEventServer is eventServer, usable before the $SYS sender exists.
func (s *Server) sysEventServer() api.EventServer {
	if s.sys == nil {
		return api.EventServer{Name: s.Name(), ID: s.id, Time: time.Now().UTC()}
	}
	return s.eventServer()
}

// addSystemImports gives an account the services every account has.
func (s *Server) addSystemImports(a *Account) {
	a.addImport(&subscription{acc: a, subject: userInfoSubj, fwd: userInfoResponder{}})
	if a != s.sysAcc {
		a.addImport(&subscription{acc: a, subject: accountPingStatsz, fwd: accountStatzResponder{}})
	}
}
