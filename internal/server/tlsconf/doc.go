// Package tlsconf turns the TLS settings of a listener (the tls {} block of
// a configuration file, or the --tls flags) into a *tls.Config, and reads
// out of a client certificate what the server needs after the handshake:
// the identities used to map it to a user and the key pinned_certs checks.
//
// It owns the names nats-server accepts for cipher suites, curves and TLS
// versions. It reads certificate files but does no network I/O, keeps no
// state and never imports the server.
package tlsconf
