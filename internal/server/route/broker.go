package route

import "github.com/sluicehq/sluice/internal/server/auth"

// Logger is what the package logs through.
type Logger interface {
	Noticef(format string, v ...any)
	Warnf(format string, v ...any)
	Errorf(format string, v ...any)
	Debugf(format string, v ...any)
	Tracef(format string, v ...any)
}

// Local describes this server to its peers.
type Local struct {
	ID, Name, Version, GoVersion, GitCommit string
	Domain                                  string
	MaxPayload                              int32
	Headers, JetStream                      bool
	Proto                                   int
	// ClientURLs are where clients reach this server (host:port), and
	// WSConnectURLs where WebSocket clients do.
	ClientURLs, WSConnectURLs []string
}

// Broker is what the package needs of the server.
type Broker interface {
	Local() Local
	// Attach is called once a route connection is registered; messages and
	// interest arriving on it go to the returned Peer.
	Attach(c *Conn) Peer
	// PeersChanged is called when the set of connected servers (and so
	// the client URLs of the cluster) changed.
	PeersChanged()
}

// Peer receives what one route connection brings. Its methods run on that
// connection's read loop, one at a time; the slices are only valid during
// the call.
type Peer interface {
	RemoteSub(account, subject, queue []byte, weight int32)
	RemoteUnsub(account, subject, queue []byte)
	// Deliver hands a routed message to local subscribers: every plain one,
	// and one member of each queue group in queues.
	Deliver(account, subject, reply []byte, queues [][]byte, hdrLen int, msg []byte)
	// EndBatch is called after each read: flush what Deliver queued.
	EndBatch()
	// Detach removes everything the connection brought; it is not used
	// again.
	Detach()
	// DropAccount forgets the interest in account the connection brought
	// (the account moved to its own connection). It may run on any
	// goroutine.
	DropAccount(account string)
}

// permCheck is the route permissions: import limits what interest this
// server announces, export what interest it accepts.
type permCheck struct{ c *auth.Checker }

func newPermCheck(cfg *Config) *permCheck {
	if cfg.Import == nil && cfg.Export == nil {
		return nil
	}
	return &permCheck{c: auth.Compile(&auth.Permissions{Publish: cfg.Import, Subscribe: cfg.Export})}
}

func (p *permCheck) canImport(subj string) bool { return p == nil || p.c.CanPublish(subj) }
func (p *permCheck) canExport(subj string) bool { return p == nil || p.c.CanSubscribe(subj, "") }

func (c *Conn) exportAllowed(subj []byte) bool {
	p := c.m.perms.Load()
	return p == nil || p.canExport(string(subj))
}
