package server

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/internal/server/websocket"
)

// reloadable lists the options that may change while the server runs.
// Everything else keeps its running value and the change is reported.
var reloadable = map[string]bool{
	"MaxPayload": true, "MaxControlLine": true, "MaxPending": true, "MaxConn": true,
	"MaxSubs": true, "PingInterval": true, "MaxPingsOut": true, "WriteDeadline": true,
	"AuthTimeout": true, "Username": true, "Password": true, "Authorization": true,
	"Permissions": true, "Users": true, "Nkeys": true, "NoAuthUser": true,
	"DefaultPermissions": true, "Accounts": true, "Mappings": true,
	"Logger": true, "Debug": true, "Trace": true, "TraceVerbose": true, "MaxTracedMsgLen": true, "Logtime": true,
	"LogtimeUTC": true, "LogFile": true, "LogSizeLimit": true, "LogMaxFiles": true,
	"Syslog": true, "RemoteSyslog": true, "LameDuckDuration": true,
	"LameDuckGracePeriod": true, "MaxClosedClients": true, "ConfigFile": true,
	"ConfigDigest": true, "PidFile": true, "PortsFileDir": true,
	// TLS: new connections use the new settings (and freshly read
	// certificates); established ones keep theirs.
	"TLS": true, "TLSVerify": true, "TLSCert": true, "TLSKey": true, "TLSCaCert": true,
	"TLSConfig": true, "TLSTimeout": true, "TLSMap": true, "TLSPinnedCerts": true,
	"TLSHandshakeFirst": true, "TLSHandshakeFirstFallback": true, "AllowNonTLS": true,
	// Only its TLS may change: websocket.ReloadCheck refuses the rest.
	"Websocket": true,
	// All but the listener: route.CheckReload refuses the rest.
	"Cluster": true,
	// The URL resolver dials with the new settings from then on.
	"ResolverTLS": true,
}

// authOptions are the options whose change makes nats-server ask the
// auth callout service again about every login it vouched for.
var authOptions = map[string]bool{
	"Username": true, "Password": true, "Authorization": true, "Users": true, "Nkeys": true, "Accounts": true,
}

// ReloadResult says what a reload did.
type ReloadResult struct {
	Changed []string // options applied
	Kept    []string // options that cannot change at runtime: left as they were
}

// ReloadOptions puts next in force. Options that cannot change while
// running keep their current values and are listed in Kept. Clients whose
// credentials no longer authenticate are disconnected; the others stay.
// On error nothing changes.
func (s *Server) ReloadOptions(next Options) (*ReloadResult, error) {
	// The logger is fixed for the server's life; its owner reconfigures it.
	next.Logger = s.log
	next.setDefaults()
	if err := next.validate(); err != nil {
		return nil, fmt.Errorf("config reload: %w", err)
	}
	cur := s.getOpts()
	if err := websocket.ReloadCheck(&cur.Websocket, &next.Websocket); err != nil {
		return nil, err
	}
	if err := s.checkClusterReload(cur, &next); err != nil {
		return nil, err
	}
	res := &ReloadResult{}
	nv, cv := reflect.ValueOf(&next).Elem(), reflect.ValueOf(cur).Elem()
	for i := 0; i < nv.NumField(); i++ {
		f := nv.Type().Field(i)
		if !f.IsExported() || f.Name == "Logger" || f.Name == "ConfigDigest" {
			continue
		}
		if reflect.DeepEqual(nv.Field(i).Interface(), cv.Field(i).Interface()) {
			continue
		}
		if reloadable[f.Name] || (f.Name == "JetStream" && s.reloadJetStream(next.JetStream)) {
			res.Changed = append(res.Changed, f.Name)
			continue
		}
		// A port of -1 (random) stays whatever was picked at start.
		if f.Name == "Port" && cur.Port == RandomPort && next.Port == RandomPort {
			continue
		}
		res.Kept = append(res.Kept, f.Name)
		nv.Field(i).Set(cv.Field(i))
	}
	s.opts.Store(&next)
	s.optsGen.Add(1)
	s.noteConfigLoaded()

	s.mu.Lock()
	s.mu.info.MaxPayload = next.MaxPayload
	s.mu.info.AuthRequired = next.authRequired()
	s.setTLSInfoLocked(&next)
	clients := make([]*client, 0, len(s.mu.clients))
	for _, c := range s.mu.clients {
		clients = append(clients, c)
	}
	s.mu.Unlock()

	s.registerAccounts(&next)
	if slices.Contains(res.Changed, "Cluster") {
		s.reloadRoutes(&next)
	}
	askCallout := slices.ContainsFunc(res.Changed, func(f string) bool { return authOptions[f] })
	for _, c := range clients {
		if c.connected.Load() {
			s.reauthenticate(c, askCallout)
		}
	}
	if s.op != nil && slices.Contains(res.Changed, "ResolverTLS") {
		s.op.res.SetTLS(next.ResolverTLS)
	}
	s.closeUnpinned(cur, &next, clients)
	if next.MaxConn < cur.MaxConn || (next.MaxSubs > 0 && (cur.MaxSubs == 0 || next.MaxSubs < cur.MaxSubs)) {
		s.enforceLimits(func(*client) bool { return true }, false) // lowered: cut what is over
	}
	s.closeWsUnpinned(&next, clients)
	if len(res.Kept) > 0 {
		s.log.Warnf("Reloaded: changes to %s cannot be applied at runtime and were ignored", strings.Join(res.Kept, ", "))
	}
	s.log.Noticef("Reloaded server configuration")
	return res, nil
}

// SetOnReady installs fn to run once the listeners are up, before the
// server logs that it is ready, so that what fn writes (the ports file)
// exists when a watcher sees the line.
func (s *Server) SetOnReady(fn func()) {
	s.mu.Lock()
	s.mu.onReady = fn
	s.mu.Unlock()
}

// SetReloader installs what Reload runs: typically re-reading the
// configuration file, re-applying command-line flags and calling
// ReloadOptions. sluice serve installs it.
func (s *Server) SetReloader(fn func() error) {
	s.mu.Lock()
	s.mu.reloader = fn
	s.mu.Unlock()
}

// Reload re-reads the configuration through the installed reloader.
func (s *Server) Reload() error {
	s.mu.Lock()
	fn := s.mu.reloader
	s.mu.Unlock()
	if fn == nil {
		return errors.New("config reload: server was not started from a configuration")
	}
	return fn()
}
