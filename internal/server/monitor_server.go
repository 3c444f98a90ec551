package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/server/monitor"
	"github.com/sluicehq/sluice/internal/version"
)

// monitorState is the HTTP monitoring listener and the figures kept only
// for monitoring.
type monitorState struct {
	configTime atomic.Int64 // unix nanoseconds of the last (re)load
	usageOnce  sync.Once
	usageVal   *monitor.Usage
	closed     closedRing // recently closed connections
	mu         struct {
		sync.Mutex
		ln      net.Listener
		srv     *http.Server
		handler *monitor.Handler
		secure  bool
	}
}

var _ monitor.Source = (*Server)(nil)

// noteConfigLoaded records when the configuration in force was loaded.
func (s *Server) noteConfigLoaded() { s.mon.configTime.Store(time.Now().UnixNano()) }

func (s *Server) configLoadTime() time.Time {
	if n := s.mon.configTime.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return s.start
}

// usage samples the process's CPU and memory for /varz and STATSZ.
func (s *Server) usage() *monitor.Usage {
	s.mon.usageOnce.Do(func() { s.mon.usageVal = monitor.NewUsage() })
	return s.mon.usageVal
}

// validateMonitor checks the monitoring options.
func (o *Options) validateMonitor() error {
	for _, p := range []struct {
		name string
		port int
	}{{"http_port", o.HTTPPort}, {"https_port", o.HTTPSPort}} {
		if p.port < RandomPort || p.port > 65535 {
			return fmt.Errorf("invalid %s %d", p.name, p.port)
		}
	}
	if o.HTTPPort != 0 && o.HTTPSPort != 0 {
		return fmt.Errorf("can't specify both HTTP (%v) and HTTPs (%v) ports", o.HTTPPort, o.HTTPSPort)
	}
	if o.HTTPSPort != 0 && o.monitorTLSConfig() == nil {
		return errors.New("https_port requires a tls block (a server certificate and key)")
	}
	return nil
}

// startMonitoring opens the HTTP(S) monitoring listener if one is
// configured.
func (s *Server) startMonitoring() error {
	o := s.getOpts()
	s.usage() // measure CPU from start
	port, secure := o.HTTPPort, false
	if port == 0 {
		port, secure = o.HTTPSPort, true
	}
	if port == 0 {
		return nil
	}
	if port == RandomPort {
		port = 0
	}
	hp := net.JoinHostPort(o.HTTPHost, strconv.Itoa(port))
	var ln net.Listener
	var err error
	if secure {
		ln, err = tls.Listen("tcp", hp, o.monitorTLSConfig())
	} else {
		ln, err = net.Listen("tcp", hp)
	}
	if err != nil {
		return fmt.Errorf("can't listen to the monitor port: %w", err)
	}
	scheme := "http"
	if secure {
		scheme = "https"
	}
	s.log.Noticef("Starting %s monitor on %s", scheme, net.JoinHostPort(o.HTTPHost, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)))
	h := monitor.New(monitor.Config{Source: s, Log: s.log, BasePath: o.HTTPBasePath, Version: version.Version})
	srv := &http.Server{
		Handler:           h,
		MaxHeaderBytes:    1 << 20,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(httpErrorLog{s.log}, "", 0),
		// No write timeout: a large /connz may take a while to build.
	}
	s.mon.mu.Lock()
	s.mon.mu.ln, s.mon.mu.srv, s.mon.mu.handler, s.mon.mu.secure = ln, srv, h, secure
	s.mon.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !s.isShuttingDown() {
			s.log.Errorf("Error serving monitor on %s: %v", hp, err)
		}
	}()
	return nil
}

// stopMonitoring closes the listener and every monitoring connection.
func (s *Server) stopMonitoring() {
	s.mon.mu.Lock()
	srv := s.mon.mu.srv
	s.mon.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// MonitorAddr is the address the monitoring listener is bound to, nil when
// monitoring is off or the server is not started.
func (s *Server) MonitorAddr() net.Addr {
	s.mon.mu.Lock()
	defer s.mon.mu.Unlock()
	if s.mon.mu.ln == nil {
		return nil
	}
	return s.mon.mu.ln.Addr()
}

// MonitorURL is the URL of the monitoring index page, "" when monitoring is
// off. An unspecified bind address is given as 127.0.0.1.
func (s *Server) MonitorURL() string {
	addr, ok := s.MonitorAddr().(*net.TCPAddr)
	if !ok {
		return ""
	}
	s.mon.mu.Lock()
	scheme, base := "http", s.mon.mu.handler.Path("/")
	if s.mon.mu.secure {
		scheme = "https"
	}
	s.mon.mu.Unlock()
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(addr.Port)) + strings.TrimSuffix(base, "/")
}

// monitorRequestStats is Varz's http_req_stats.
func (s *Server) monitorRequestStats() map[string]uint64 {
	s.mon.mu.Lock()
	h := s.mon.mu.handler
	s.mon.mu.Unlock()
	if h == nil {
		return map[string]uint64{}
	}
	return h.RequestStats()
}

// monitorPort is the monitoring port actually bound, or the configured one.
func (s *Server) monitorPort(configured int) int {
	if addr, ok := s.MonitorAddr().(*net.TCPAddr); ok && configured != 0 {
		return addr.Port
	}
	return configured
}

// httpErrorLog sends net/http's complaints (bad requests, TLS handshakes)
// to the server log.
type httpErrorLog struct{ log Logger }

func (l httpErrorLog) Write(p []byte) (int, error) {
	l.log.Errorf("monitoring: %s", strings.TrimSpace(strings.TrimPrefix(string(p), "http: ")))
	return len(p), nil
}
