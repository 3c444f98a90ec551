package server

import "crypto/tls"

// defaultTLSTimeout is nats-server's TLS handshake timeout, in seconds,
// reported by /varz.
const defaultTLSTimeout = 2.0

// monitorTLSConfig is the TLS configuration the HTTPS monitoring listener
// serves with: the server's own certificate, without asking clients for
// theirs. The server has no TLS configuration yet, so https_port cannot be
// used; this is the one place to connect it once it does.
func (o *Options) monitorTLSConfig() *tls.Config { return nil }
