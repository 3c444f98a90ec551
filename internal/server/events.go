package server

import (
	"encoding/json"
	"runtime"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/version"
	"github.com/sluicehq/sluice/pkg/api"
)

// $SYS events: advisories the server publishes in the system account.
// They are marshalled where they happen but published from one goroutine
// (sysSender), because the places they happen (a connection closing as a
// slow consumer inside another client's delivery) must not re-enter
// delivery.

const (
	connectEventSubj    = "$SYS.ACCOUNT.%s.CONNECT"
	disconnectEventSubj = "$SYS.ACCOUNT.%s.DISCONNECT"
	accConnsSubjNew     = "$SYS.ACCOUNT.%s.SERVER.CONNS"
	accConnsSubjOld     = "$SYS.SERVER.ACCOUNT.%s.CONNS"
	statszSubj          = "$SYS.SERVER.%s.STATSZ"
	shutdownSubj        = "$SYS.SERVER.%s.SHUTDOWN"
	lameDuckSubj        = "$SYS.SERVER.%s.LAMEDUCK"
	authErrSubj         = "$SYS.SERVER.%s.CLIENT.AUTH.ERR"
	authErrAccountSubj  = "$SYS.ACCOUNT.CLIENT.AUTH.ERR"
)

// STATSZ heartbeat: first soon after start, then doubling up to the max.
const (
	statszFirst = 250 * time.Millisecond
	statszMax   = 10 * time.Second
)

type sysMsg struct {
	acc         *Account // nil: the system account
	subj, reply string
	hdr, body   []byte
}

// sysSender publishes queued $SYS messages in order.
type sysSender struct {
	ch      chan sysMsg
	done    chan struct{} // closed to stop: what is queued is still sent
	stopped chan struct{} // closed when the sender has finished
	seq     uint64        // event sequence, guarded by mu
	mu      sync.Mutex
}

func (s *Server) startSysSender() {
	if s.sysAcc == nil {
		return
	}
	s.sys = &sysSender{ch: make(chan sysMsg, 4096), done: make(chan struct{}), stopped: make(chan struct{})}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		defer close(s.sys.stopped)
		for {
			select {
			case m := <-s.sys.ch:
				s.publishSys(&m)
			case <-s.sys.done:
				// Deliver what was queued before the stop (SHUTDOWN last).
				for {
					select {
					case m := <-s.sys.ch:
						s.publishSys(&m)
					default:
						return
					}
				}
			}
		}
	}()
	go s.statszLoop()
	s.registerSysServices()
}

func (s *Server) publishSys(m *sysMsg) {
	acc := m.acc
	if acc == nil {
		acc = s.sysAcc
	}
	s.PublishInternal(acc, m.subj, m.reply, m.hdr, m.body)
}

// sendSys queues an event if anyone listens on subj; the marshalling is
// skipped otherwise, so events cost nothing on a server nobody watches.
func (s *Server) sendSys(subj string, v any) {
	if s.sys == nil || !s.sysAcc.sl.HasInterest(subj) {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Errorf("Error marshalling $SYS event for %s: %v", subj, err)
		return
	}
	s.queueSys(sysMsg{subj: subj, body: b})
}

// queueSys hands m to the sender. Once the sender has stopped (shutdown)
// nothing more is sent.
func (s *Server) queueSys(m sysMsg) {
	if s.sys == nil {
		return
	}
	select {
	case <-s.sys.done:
		return
	default:
	}
	select {
	case s.sys.ch <- m:
	default:
		s.log.Warnf("$SYS send queue full, dropping message on %s", m.subj)
	}
}

// eventServer is the server object of an event, with the next sequence.
func (s *Server) eventServer() api.EventServer {
	s.sys.mu.Lock()
	s.sys.seq++
	seq := s.sys.seq
	s.sys.mu.Unlock()
	o := s.getOpts()
	return api.EventServer{
		Name: s.Name(), Host: o.Host, ID: s.id, Cluster: s.ClusterName(), Version: version.NATSCompat,
		Seq: seq, Time: time.Now().UTC(),
	}
}

// clientInfo describes c for events.
func (c *client) clientInfo() api.ClientInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	start := c.start.UTC()
	ci := api.ClientInfo{
		Start: &start, Host: c.host, ID: c.cid, Account: c.acc.Name, User: c.mu.user,
		Name: c.mu.name, Lang: c.mu.lang, Version: c.mu.version,
		RTT: time.Duration(c.rtt.Load()), Kind: "Client", ClientType: c.clientType(),
	}
	// As nats-server: the JWT the client logged in with (even a bearer
	// one), its issuer and tags, and the account's name tag.
	var conn api.ConnInfo
	c.jwtInfoLocked(&conn)
	if jl := c.mu.jwt; jl != nil && jl.userKey != "" {
		conn.JWT = c.mu.creds.JWT
	}
	ci.Jwt, ci.IssuerKey, ci.Tags, ci.NameTag = conn.JWT, conn.IssuerKey, conn.Tags, c.accNameTagLocked()
	return ci
}

func (s *Server) connectEvent(c *client) {
	if s.sys == nil {
		return
	}
	subj := sprintfSubj(connectEventSubj, c.acc.Name)
	if s.sysAcc.sl.HasInterest(subj) {
		s.sendSys(subj, &api.ConnectEventMsg{
			Type: api.ConnectEventType, ID: randomToken(22), Time: time.Now().UTC(),
			Server: s.eventServer(), Client: c.clientInfo(),
		})
	}
	s.accountConnsEvent(c.acc)
}

func (s *Server) disconnectEvent(c *client, reason closeReason) {
	if s.sys == nil || c.nc == nil {
		return
	}
	// As in nats-server, a client that never logged in is reported too,
	// in the account it was placed in, described by its CONNECT.
	connected := c.connected.Load()
	c.mu.Lock()
	acc := c.acc
	c.mu.Unlock()
	subj := sprintfSubj(disconnectEventSubj, acc.Name)
	if s.sysAcc.sl.HasInterest(subj) {
		ci := c.claimedInfo(acc.Name)
		if connected {
			ci = c.clientInfo()
		}
		s.sendSys(subj, c.disconnectMsg(s, ci, reason))
	}
	if connected {
		s.accountConnsEvent(acc)
	}
}

// disconnectMsg reports the end of c. As in nats-server, "sent" is what
// the client sent (the server's in figures) and "received" what it got.
func (c *client) disconnectMsg(s *Server, ci api.ClientInfo, reason closeReason) *api.DisconnectEventMsg {
	stop := time.Now().UTC()
	ci.Stop = &stop
	c.mu.Lock()
	recv := api.MsgBytes{Msgs: c.mu.outMsgs, Bytes: c.mu.outBytes}
	c.mu.Unlock()
	sent := api.MsgBytes{Msgs: c.stats.inMsgs.Load(), Bytes: c.stats.inBytes.Load()}
	return &api.DisconnectEventMsg{
		Type: api.DisconnectEventType, ID: randomToken(22), Time: stop, Server: s.eventServer(),
		Client: ci, Sent: api.DataStats{MsgBytes: sent}, Received: api.DataStats{MsgBytes: recv},
		Reason: string(reason),
	}
}

// authErrorEvent reports a failed login on $SYS.SERVER.<id>.CLIENT.AUTH.ERR.
// The client is described by what its CONNECT claimed, as it has no
// identity.
func (s *Server) authErrorEvent(c *client) {
	if s.sys == nil {
		return
	}
	subj := sprintfSubj(authErrSubj, s.id)
	if !s.sysAcc.sl.HasInterest(subj) {
		return
	}
	c.mu.Lock()
	acc := c.acc.Name
	c.mu.Unlock()
	s.sendSys(subj, c.disconnectMsg(s, c.claimedInfo(acc), reasonAuthFailure))
}

// accountAuthErrorEvent reports a failed login on
// $SYS.ACCOUNT.CLIENT.AUTH.ERR inside the account it was for, as
// nats-server does: the callout account when the callout service was
// asked, else the client's account before login (the global one).
// Subscribers of that account see it, `>` included.
func (s *Server) accountAuthErrorEvent(c *client) {
	acc := c.calloutAcc
	if acc == nil {
		c.mu.Lock()
		acc = c.acc
		c.mu.Unlock()
	}
	if s.sys == nil || acc == nil || !acc.sl.HasInterest(authErrAccountSubj) {
		return
	}
	b, err := json.Marshal(c.disconnectMsg(s, c.claimedInfo(acc.Name), reasonAuthFailure))
	if err != nil {
		return
	}
	s.queueSys(sysMsg{acc: acc, subj: authErrAccountSubj, body: b})
}

// claimedInfo describes a client that has not logged in by what its
// CONNECT claimed.
func (c *client) claimedInfo(acc string) api.ClientInfo {
	start := c.start.UTC()
	c.mu.Lock()
	defer c.mu.Unlock()
	return api.ClientInfo{
		Start: &start, Host: c.host, ID: c.cid, Account: acc, User: c.mu.claimed,
		Name: c.mu.name, Lang: c.mu.lang, Version: c.mu.version, NameTag: acc,
		RTT: time.Duration(c.rtt.Load()), Kind: "Client", ClientType: c.clientType(),
	}
}

// authRawUser is who a CONNECT claims to be: nkey, user, or a redacted
// token.
func authRawUser(ci *api.ConnectInfo) string {
	switch {
	case ci.Nkey != "":
		return ci.Nkey
	case ci.User != "":
		return ci.User
	case ci.Token != "":
		return "[REDACTED]"
	}
	return ""
}

func (s *Server) accountConnsEvent(a *Account) {
	newSubj, oldSubj := sprintfSubj(accConnsSubjNew, a.Name), sprintfSubj(accConnsSubjOld, a.Name)
	if !s.sysAcc.sl.HasInterest(newSubj) && !s.sysAcc.sl.HasInterest(oldSubj) {
		return
	}
	m := s.accountNumConns(a)
	s.sendSys(newSubj, m)
	s.sendSys(oldSubj, m)
}

func (s *Server) accountNumConns(a *Account) *api.AccountNumConns {
	return &api.AccountNumConns{
		Type: api.AccountNumConnsType, ID: randomToken(22), Time: time.Now().UTC(),
		Server: s.eventServer(), AccountStat: s.accountStat(a),
	}
}

// accountStat is a's connection and traffic figures.
func (s *Server) accountStat(a *Account) api.AccountStat {
	n := a.NumClients()
	return api.AccountStat{
		Account: a.Name, Name: a.Name, Conns: n, TotalConns: n, NumSubs: uint32(a.sl.Count()),
		Sent:          dataStats(a.stats.outMsgs.Load(), a.stats.outBytes.Load()),
		Received:      dataStats(a.stats.inMsgs.Load(), a.stats.inBytes.Load()),
		SlowConsumers: a.stats.slowConsumers.Load(),
	}
}

// dataStats is traffic that is all the clients': nats-server lists the
// other link kinds too, with zeros here.
func dataStats(msgs, bytes int64) api.DataStats {
	return api.DataStats{
		MsgBytes: api.MsgBytes{Msgs: msgs, Bytes: bytes},
		Gateways: &api.MsgBytes{}, Routes: &api.MsgBytes{}, Leafs: &api.MsgBytes{},
	}
}

// statszMsg is the server's STATSZ.
func (s *Server) statszMsg() *api.ServerStatsMsg {
	st := &s.stats
	subs := 0
	active := 0
	for _, a := range s.accs.all() {
		subs += a.sl.Count()
		if a.NumClients() > 0 {
			active++
		}
	}
	conns := s.NumClients()
	recv := api.MsgBytes{Msgs: st.inMsgs.Load(), Bytes: st.inBytes.Load()}
	sent := api.MsgBytes{Msgs: st.outMsgs.Load(), Bytes: st.outBytes.Load()}
	cpu, mem := s.usage().Sample()
	return &api.ServerStatsMsg{
		Server: s.eventServer(),
		Stats: api.ServerStats{
			Start: s.start.UTC(), Mem: mem, CPU: cpu, Cores: runtime.NumCPU(),
			Connections: conns, TotalConnections: st.totalConns.Load(), ActiveAccounts: active,
			NumSubs: uint32(subs), Sent: api.DataStats{MsgBytes: sent}, SentToClients: api.DataStats{MsgBytes: sent},
			Received: api.DataStats{MsgBytes: recv}, ReceivedFromClients: api.DataStats{MsgBytes: recv},
			SlowConsumers: st.slowConsumers.Load(), ActiveServers: 1, MaxProcs: runtime.GOMAXPROCS(0),
		},
	}
}

// statszLoop publishes the STATSZ heartbeat while anyone listens.
func (s *Server) statszLoop() {
	defer s.wg.Done()
	subj := sprintfSubj(statszSubj, s.id)
	d := statszFirst
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-s.doneCh:
			return
		case <-t.C:
			s.sendSys(subj, s.statszMsg())
			if d = d * 2; d > statszMax {
				d = statszMax
			}
			t.Reset(d)
		}
	}
}

// shutdownEvent announces the server going away and waits until the
// sender has published everything queued, so clients still connected
// receive it before they are closed.
func (s *Server) shutdownEvent() {
	if s.sys == nil {
		return
	}
	s.sendSys(sprintfSubj(shutdownSubj, s.id), s.eventServer())
	close(s.sys.done)
	<-s.sys.stopped
}

func (s *Server) lameDuckEvent() {
	if s.sys != nil {
		s.sendSys(sprintfSubj(lameDuckSubj, s.id), s.eventServer())
	}
}

// sprintfSubj fills the one %s of a subject template.
func sprintfSubj(tmpl, v string) string {
	for i := 0; i+1 < len(tmpl); i++ {
		if tmpl[i] == '%' && tmpl[i+1] == 's' {
			return tmpl[:i] + v + tmpl[i+2:]
		}
	}
	return tmpl
}
