package server

import (
	"errors"
	"net"
)

// Server is one broker instance.
type Server struct {
	opts Options
	ln   net.Listener
}

// New validates opts and returns a server that is not yet listening.
func New(opts Options) (*Server, error) {
	opts.setDefaults()
	return &Server{opts: opts}, nil
}

// Start opens the client listener and begins accepting connections.
func (s *Server) Start() error { return errors.New("todo") }

// Shutdown stops accepting, closes every connection and waits for them.
func (s *Server) Shutdown() {}

// ClientURL is the nats:// URL clients can dial.
func (s *Server) ClientURL() string { return "" }
