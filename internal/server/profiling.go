package server

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync"
)

// profiler is the prof_port listener: Go's pprof handlers, for profiling a
// running server with `go tool pprof http://HOST:PORT/debug/pprof/profile`.
type profiler struct {
	mu  sync.Mutex
	srv *http.Server
	ln  net.Listener
}

// startProfiler listens on prof_port (-1 = random) when it is set.
func (s *Server) startProfiler() error {
	o := s.getOpts()
	if o.ProfPort == 0 {
		return nil
	}
	port := o.ProfPort
	if port < 0 {
		port = 0
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(o.Host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("error starting profiler: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux}
	s.prof.mu.Lock()
	s.prof.srv, s.prof.ln = srv, ln
	s.prof.mu.Unlock()
	s.log.Noticef("profiling port: %d", ln.Addr().(*net.TCPAddr).Port)
	go srv.Serve(ln)
	return nil
}

func (s *Server) stopProfiler() {
	s.prof.mu.Lock()
	defer s.prof.mu.Unlock()
	if s.prof.srv != nil {
		s.prof.srv.Close()
	}
}

// ProfilerAddr is the profiling listener's address, nil when off.
func (s *Server) ProfilerAddr() net.Addr {
	s.prof.mu.Lock()
	defer s.prof.mu.Unlock()
	if s.prof.ln == nil {
		return nil
	}
	return s.prof.ln.Addr()
}
