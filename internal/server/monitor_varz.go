package server

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/server/monitor"
	"github.com/sluicehq/sluice/internal/version"
	"github.com/sluicehq/sluice/pkg/api"
)

// Varz reports the server's identity, configuration and counters.
func (s *Server) Varz() (*api.Varz, error) {
	pcpu, rss := s.usage().Sample()
	o := s.getOpts()
	now := time.Now()
	s.mu.Lock()
	info := s.mu.info
	conns := len(s.mu.clients)
	s.mu.Unlock()

	v := &api.Varz{
		ID:             info.ID,
		Name:           info.Name,
		Version:        info.Version,
		Proto:          info.Proto,
		GitCommit:      info.GitCommit,
		GoVersion:      info.GoVersion,
		Host:           info.Host,
		Port:           info.Port,
		AuthRequired:   info.AuthRequired,
		TLSRequired:    info.TLSRequired,
		TLSVerify:      info.TLSVerify,
		IP:             info.IP,
		MaxConn:        o.MaxConn,
		MaxSubs:        o.MaxSubs,
		PingInterval:   o.PingInterval,
		MaxPingsOut:    o.MaxPingsOut,
		HTTPHost:       o.HTTPHost,
		HTTPPort:       s.monitorPort(o.HTTPPort),
		HTTPBasePath:   o.HTTPBasePath,
		HTTPSPort:      s.monitorPort(o.HTTPSPort),
		AuthTimeout:    o.AuthTimeout.Seconds(),
		MaxControlLine: o.MaxControlLine,
		MaxPayload:     int(o.MaxPayload),
		MaxPending:     o.MaxPending,
		TLSTimeout:     o.TLSTimeout.Seconds(),
		WriteDeadline:  o.WriteDeadline,
		Start:          s.start.UTC(),
		Now:            now.UTC(),
		Uptime:         monitor.Uptime(now.Sub(s.start)),
		Mem:            rss,
		Cores:          runtime.NumCPU(),
		MaxProcs:       runtime.GOMAXPROCS(0),
		CPU:            pcpu,
		Connections:    conns,
		// Without routes, gateways and leafnodes every message is a
		// client's, so the client figures are the totals.
		TotalConnections: s.stats.totalConns.Load(),
		InMsgs:           s.stats.inMsgs.Load(),
		InBytes:          s.stats.inBytes.Load(),
		OutMsgs:          s.stats.outMsgs.Load(),
		OutBytes:         s.stats.outBytes.Load(),
		SlowConsumers:    s.stats.slowConsumers.Load(),
		StaleConnections: s.stats.staleConns.Load(),
		StalledClients:   s.stats.stalls.Load(),
		HTTPReqStats:     s.monitorRequestStats(),
		ConfigLoadTime:   s.configLoadTime().UTC(),
		ConfigDigest:     o.ConfigDigest,
		SluiceVersion:    version.Version,
		DiskIOWaitStats:  &api.DiskIOWaitStats{},
		TLSCertNotAfter:  o.tlsCertNotAfter(),
		Websocket:        s.websocketVarz(o),
	}
	if len(info.ConnectURLs) > 0 {
		v.ClientConnectURLs = append([]string(nil), info.ConnectURLs...)
	}
	if len(info.WSConnectURLs) > 0 {
		v.WSConnectURLs = append([]string(nil), info.WSConnectURLs...)
	}
	v.InClientMsgs, v.InClientBytes = v.InMsgs, v.InBytes
	v.OutClientMsgs, v.OutClientBytes = v.OutMsgs, v.OutBytes
	v.SlowConsumersStats = &api.SlowConsumersStats{Clients: uint64(v.SlowConsumers)}
	v.StaleConnectionStats = &api.StaleConnectionStats{Clients: uint64(v.StaleConnections)}
	if s.op != nil {
		v.PinnedAccountFail = s.op.pinnedFails.Load()
	}
	if lim := debug.SetMemoryLimit(-1); lim < math.MaxInt64 {
		v.MemLimit = lim
	}
	if s.sysAcc != nil {
		v.SystemAccount = s.sysAcc.Name
	}
	if js := s.js.Load(); js != nil {
		cfg, stats := js.ConfigInfo(), js.Stats()
		v.JetStream = api.JetStreamVarz{Config: &cfg, Stats: &stats}
	}
	for _, a := range s.accs.sorted() {
		v.Subscriptions += uint32(a.sl.Count())
	}
	s.varzCluster(v) // routes_monitor.go
	return v, nil
}

// Gatewayz lists gateway connections; sluice has no gateways yet.
func (s *Server) Gatewayz(*api.GatewayzOptions) (*api.Gatewayz, error) {
	return &api.Gatewayz{
		ID:               s.id,
		Now:              time.Now().UTC(),
		OutboundGateways: map[string]*api.RemoteGatewayz{},
		InboundGateways:  map[string][]*api.RemoteGatewayz{},
	}, nil
}

// Leafz lists leafnode connections; sluice has no leafnodes yet.
func (s *Server) Leafz(*api.LeafzOptions) (*api.Leafz, error) {
	return &api.Leafz{ID: s.id, Now: time.Now().UTC(), Leafs: []*api.LeafInfo{}}, nil
}

// errNotLeader answers requests that want only the JetStream leader's
// report, from a server that is not it: a 400 over HTTP, silence in $SYS.
var errNotLeader = fmt.Errorf("%w: not leader", errSkipReply)

// Jsz reports JetStream: zeros and "disabled": true when it is off, as
// nats-server reports.
func (s *Server) Jsz(o *api.JSzOptions) (*api.JSInfo, error) {
	js := s.js.Load()
	if js == nil {
		if o != nil && o.LeaderOnly {
			return nil, errNotLeader
		}
		return &api.JSInfo{ID: s.id, Now: time.Now().UTC(), Disabled: true}, nil
	}
	return js.Jsz(o, s.id), nil
}

// Ipqueuesz reports sluice's internal queue (callbacks of internal
// subscriptions), idle only with o.All.
func (s *Server) Ipqueuesz(o *api.IpqueueszOptions) *api.IpqueueszStatus {
	out := api.IpqueueszStatus{}
	pending, inProgress := s.intq.stats()
	idle := pending == 0 && inProgress == 0
	if (o.All || !idle) && strings.Contains(internalQueueName, o.Filter) {
		out[internalQueueName] = api.IpqueueszStatusIPQ{Pending: pending, InProgress: inProgress}
	}
	return &out
}

// Raftz reports RAFT groups; sluice runs none yet, which nats-server
// answers with an empty map.
func (s *Server) Raftz(*api.RaftzOptions) *api.RaftzStatus {
	return &api.RaftzStatus{}
}

// jszAccount is one account's JetStream report ($SYS.REQ.ACCOUNT.<acc>.JSZ).
func (s *Server) jszAccount(o *api.JSzOptions) (*api.AccountDetail, error) {
	js := s.js.Load()
	if js == nil {
		return nil, errors.New("jetstream not enabled")
	}
	return js.AccountJsz(o.Account, o)
}

// Healthz checks that the server accepts connections. The JetStream checks
// pass while JetStream is not configured, as in nats-server.
func (s *Server) Healthz(o *api.HealthzOptions) *api.HealthStatus {
	if o == nil {
		o = &api.HealthzOptions{}
	}
	fail := func(code int, typ api.HealthzErrorType, msg string) *api.HealthStatus {
		hs := &api.HealthStatus{Status: "error", StatusCode: code}
		if o.Details {
			hs.Errors = []api.HealthzError{{Type: typ, Error: msg}}
		} else {
			hs.Error = msg
		}
		return hs
	}
	switch {
	case o.Account == "" && o.Stream != "":
		return fail(http.StatusBadRequest, api.HealthzErrorBadRequest, `"account" must not be empty when checking stream health`)
	case o.Stream == "" && o.Consumer != "":
		return fail(http.StatusBadRequest, api.HealthzErrorBadRequest, `"stream" must not be empty when checking consumer health`)
	}
	s.mu.Lock()
	ready := s.mu.running && s.mu.ln != nil
	s.mu.Unlock()
	if !ready {
		return fail(http.StatusInternalServerError, api.HealthzErrorConn, "failed to be ready for connections: server is not running")
	}
	// JetStream: configured and running is all js-enabled-only and
	// js-server-only ask; an account or stream is looked up.
	if js := s.js.Load(); js != nil && !o.JSServerOnly && !o.JSEnabledOnly && !o.JSEnabled && o.Account != "" {
		if err := js.Healthy(o.Account, o.Stream); err != nil {
			typ := api.HealthzErrorAccount
			if o.Stream != "" {
				typ = api.HealthzErrorStream
			}
			return fail(http.StatusServiceUnavailable, typ, err.Error())
		}
	}
	return &api.HealthStatus{Status: "ok", StatusCode: http.StatusOK}
}
