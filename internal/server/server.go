package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/sluicehq/sluice/internal/server/callout"
	"github.com/sluicehq/sluice/internal/server/jetstream"
	"github.com/sluicehq/sluice/internal/server/route"
	"github.com/sluicehq/sluice/internal/version"
	"github.com/sluicehq/sluice/pkg/api"
)

// Server is one broker instance.
type Server struct {
	opts      atomic.Pointer[Options] // replaced whole on reload, never mutated
	optsGen   atomic.Uint64           // bumped on reload; read loops refresh limits
	log       Logger
	id        string
	start     time.Time
	gcid      atomic.Uint64
	stats     serverStats
	accs      *accountRegistry
	intq      *internalQueue // drains callbacks of internal subscriptions
	sysAcc    *Account
	sys       *sysSender      // nil without a system account
	op        *operatorMode   // operator mode (jwt.go); nil when off
	callout   *callout.Caller // auth callout (callout.go); nil when off
	kp        nkeys.KeyPair   // the server's identity; signs callout requests
	importsMu sync.Mutex      // serializes rewiring of imports
	js        atomic.Pointer[jetstream.JetStream]
	routes    *route.Manager // clustering (routes.go); nil when off
	rpeers    struct {       // route peers by connection id, for /routez
		sync.Mutex
		m map[uint64]*routePeer
	}
	ipub struct {
		sync.Mutex
		c *client // publishes on the server's behalf
	}

	mu struct {
		sync.Mutex
		ln       net.Listener
		clients  map[uint64]*client
		running  bool
		shutdown bool
		info     api.ServerInfo // template; per-client fields filled on send
		reloader func() error
		onReady  func() // run just before "Server is ready"
		ldm      bool   // in lame duck mode
	}
	mon     monitorState // HTTP monitoring (monitor_server.go)
	ws      wsState      // WebSocket listener (websocket.go)
	prof    profiler     // prof_port (profiling.go)
	readyCh chan struct{}
	doneCh  chan struct{}  // closed when shutdown begins
	exitCh  chan struct{}  // closed when shutdown is complete
	wg      sync.WaitGroup // accept loop and every connection goroutine
}

type serverStats struct {
	inMsgs, inBytes, outMsgs, outBytes atomic.Int64
	slowConsumers                      atomic.Int64
	staleConns, stalls                 atomic.Int64
	totalConns                         atomic.Uint64
}

// New validates opts and returns a server that is not yet listening.
func New(opts Options) (*Server, error) {
	opts.setDefaults()
	if err := opts.validateOperator(); err != nil {
		return nil, err
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	kp, err := nkeys.CreateServer()
	if err != nil {
		return nil, fmt.Errorf("server identity: %w", err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("server identity: %w", err)
	}
	s := &Server{
		log:     opts.Logger,
		id:      pub,
		accs:    newAccountRegistry(),
		readyCh: make(chan struct{}),
		doneCh:  make(chan struct{}),
		exitCh:  make(chan struct{}),
		intq:    newInternalQueue(opts.Logger),
	}
	s.opts.Store(&opts)
	s.noteConfigLoaded()
	s.mu.clients = make(map[uint64]*client)
	s.accs.register(newAccount(globalAccountName))
	for _, ac := range opts.Accounts {
		s.accs.register(newAccount(ac.Name))
	}
	if !opts.NoSystemAccount {
		s.sysAcc = s.accs.register(newAccount(opts.SystemAccount))
	}
	s.registerAccounts(&opts) // and their imports, once every account exists
	s.kp = kp
	if err := s.initOperator(&opts); err != nil {
		return nil, err
	}
	if err := s.initCallout(&opts); err != nil {
		return nil, err
	}
	name := opts.ServerName
	if name == "" {
		name = pub
	}
	s.mu.info = api.ServerInfo{
		ID:         pub,
		Name:       name,
		Version:    version.NATSCompat,
		Proto:      1,
		GitCommit:  version.CommitOrVCS(),
		GoVersion:  version.GoVersion(),
		Host:       opts.Host,
		Port:       opts.Port,
		Headers:    !opts.NoHeaderSupport,
		MaxPayload: opts.MaxPayload,
	}
	if len(s.mu.info.GitCommit) > 7 {
		s.mu.info.GitCommit = s.mu.info.GitCommit[:7]
	}
	s.mu.info.AuthRequired = opts.authRequired()
	s.newRoutes(&opts)
	s.setTLSInfoLocked(&opts)
	return s, nil
}

func (o *Options) validate() error {
	if o.MaxPayload < 0 {
		return errors.New("max_payload must not be negative")
	}
	if int64(o.MaxPayload) > o.MaxPending {
		return fmt.Errorf("max_payload (%d) can not be higher than max_pending (%d)", o.MaxPayload, o.MaxPending)
	}
	if o.Port < RandomPort || o.Port > 65535 {
		return fmt.Errorf("invalid port %d", o.Port)
	}
	if err := o.validateAuth(); err != nil {
		return err
	}
	if err := o.validateMappings(); err != nil {
		return err
	}
	if err := o.validateWebsocket(); err != nil {
		return err
	}
	if o.Cluster.Enabled() {
		if err := o.Cluster.Validate(); err != nil {
			return err
		}
		if err := o.checkJetStreamCluster(); err != nil {
			return err
		}
	}
	o.authIx = o.buildAuthIndex()
	return o.validateMonitor()
}

// getOpts returns the options in force. The result is shared: read only.
func (s *Server) getOpts() *Options { return s.opts.Load() }

// Options returns a copy of the options in force.
func (s *Server) Options() Options { return *s.getOpts() }

// ID is the server's public nkey.
func (s *Server) ID() string { return s.id }

// Name is the configured server name, or the ID when none was set.
func (s *Server) Name() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.info.Name
}

// Start opens the client listener and begins accepting connections.
func (s *Server) Start() error {
	s.mu.Lock()
	if s.mu.running || s.mu.shutdown {
		s.mu.Unlock()
		return errors.New("server already started")
	}
	port := s.getOpts().Port
	if port == RandomPort {
		port = 0
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(s.getOpts().Host, strconv.Itoa(port)))
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("listen for clients: %w", err)
	}
	s.mu.ln = ln
	s.mu.running = true
	s.mu.info.Port = ln.Addr().(*net.TCPAddr).Port
	s.start = time.Now()
	s.mu.Unlock()

	s.log.Noticef("Starting sluice %s (nats-server %s compatible)", version.Version, version.NATSCompat)
	s.log.Noticef("  Git:      [%s]", orNotSet(version.CommitOrVCS()))
	s.log.Noticef("  Name:     %s", s.Name())
	s.log.Noticef("  ID:       %s", s.id)
	if s.getOpts().MaxPayload > 8*1024*1024 {
		s.log.Warnf("Maximum payloads over 8.00 MB are generally discouraged and could lead to poor performance")
	}
	s.startSysSender()
	if err := s.startJetStream(); err != nil {
		s.Shutdown()
		return err
	}
	if err := s.startMonitoring(); err != nil {
		s.Shutdown()
		return err
	}
	if err := s.startProfiler(); err != nil {
		s.Shutdown()
		return err
	}
	if err := s.startWebsocket(); err != nil {
		s.Shutdown()
		return err
	}
	if err := s.startRoutes(); err != nil {
		s.Shutdown()
		return err
	}
	// As nats-server prints it: the configured host with the bound port
	// (0.0.0.0:4222 for the default, not [::]:4222); harnesses match it.
	listen := ln.Addr().String()
	if ta, ok := ln.Addr().(*net.TCPAddr); ok {
		listen = net.JoinHostPort(s.getOpts().Host, strconv.Itoa(ta.Port))
	}
	s.log.Noticef("Listening for client connections on %s", listen)
	s.logTLSMode(s.getOpts())
	s.wg.Add(1)
	go s.acceptLoop(ln)
	s.mu.Lock()
	onReady := s.mu.onReady
	s.mu.Unlock()
	if onReady != nil {
		onReady()
	}
	s.log.Noticef("Server is ready")
	close(s.readyCh)
	return nil
}

func orNotSet(s string) string {
	if s == "" {
		return "not set"
	}
	return s
}

func (s *Server) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	var delay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.isShuttingDown() || s.InLameDuckMode() {
				return
			}
			// Temporary errors (EMFILE and friends): back off, keep serving.
			if delay == 0 {
				delay = 5 * time.Millisecond
			} else if delay < time.Second {
				delay *= 2
			}
			s.log.Errorf("Temporary accept error: %v, sleeping %v", err, delay)
			select {
			case <-time.After(delay):
			case <-s.doneCh:
				return
			}
			continue
		}
		delay = 0
		s.createClient(conn)
	}
}

func (s *Server) isShuttingDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.shutdown
}

// Addr is the address the client listener is bound to, nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.ln == nil {
		return nil
	}
	return s.mu.ln.Addr()
}

// ClientURL is the nats:// URL clients can dial.
func (s *Server) ClientURL() string {
	addr, ok := s.Addr().(*net.TCPAddr)
	if !ok {
		return ""
	}
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "nats://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// ReadyForConnections waits up to d for the listener to be up.
func (s *Server) ReadyForConnections(d time.Duration) bool {
	select {
	case <-s.readyCh:
		return true
	case <-time.After(d):
		return false
	}
}

// NumClients is the number of client connections currently open.
func (s *Server) NumClients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mu.clients)
}

// Shutdown stops accepting, flushes and closes every connection, and
// waits for all of the server's goroutines to end. It is safe to call more
// than once.
func (s *Server) Shutdown() {
	s.mu.Lock()
	if s.mu.shutdown {
		s.mu.Unlock()
		<-s.exitCh
		return
	}
	s.mu.shutdown = true
	wasRunning := s.mu.running
	s.mu.running = false
	ln := s.mu.ln
	clients := make([]*client, 0, len(s.mu.clients))
	for _, c := range s.mu.clients {
		clients = append(clients, c)
	}
	s.mu.Unlock()

	s.shutdownEvent()
	close(s.doneCh)
	if ln != nil {
		ln.Close()
	}
	s.stopWebsocket()
	s.stopMonitoring()
	s.stopProfiler()
	s.stopRoutes()
	for _, c := range clients {
		c.closeConnection(reasonServerShutdown)
	}
	s.wg.Wait()
	s.stopJetStream()
	s.intq.stop()
	if wasRunning {
		s.log.Noticef("Server Exiting..")
	}
	close(s.exitCh)
}

// WaitForShutdown blocks until Shutdown has completed.
func (s *Server) WaitForShutdown() {
	<-s.exitCh
}

// infoJSON renders the INFO line for one client.
func (s *Server) infoFor(c *client, connectInfo bool, adjust ...func(*api.ServerInfo)) []byte {
	s.mu.Lock()
	info := s.mu.info
	s.mu.Unlock()
	for _, f := range adjust {
		f(&info)
	}
	info.ClientID = c.cid
	info.ClientIP = c.host
	if c.nonce != nil {
		info.Nonce = string(c.nonce)
	}
	if c.ws != nil {
		s.wsInfo(c, &info)
		info.ConnectURLs = info.WSConnectURLs // the cluster's WebSocket URLs
	}
	// Clients never see ws_connect_urls itself.
	info.WSConnectURLs = nil
	if c.tlsFirst { // INFO travels over TLS: say so whatever allow_non_tls says
		info.TLSRequired, info.TLSAvailable = true, false
	}
	if connectInfo {
		info.ConnectInfo = true
		info.RemoteAccount = c.acc.Name
		info.IsSystemAccount = c.acc == s.sysAcc
	}
	b, err := json.Marshal(&info)
	if err != nil {
		panic(err) // plain struct of strings and numbers: cannot fail
	}
	line := make([]byte, 0, len(b)+8)
	line = append(line, "INFO "...)
	line = append(line, b...)
	return append(line, " \r\n"...)
}

func (s *Server) addClient(c *client) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.shutdown {
		return false
	}
	s.mu.clients[c.cid] = c
	return true
}

func (s *Server) removeClient(c *client) {
	s.mu.Lock()
	delete(s.mu.clients, c.cid)
	s.mu.Unlock()
}
