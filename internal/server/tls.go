package server

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/server/tlsconf"
)

// reasonTLSHandshake is nats-server's text for connections that failed or
// no longer pass the TLS checks.
const reasonTLSHandshake closeReason = "TLS Handshake Failure"

// tlsRecordHandshake is the first byte of every TLS handshake: how a
// client that may choose (allow_non_tls) is told apart from a plain one.
const tlsRecordHandshake = 0x16

var errCertNotPinned = errors.New("certificate not pinned")

// tlsRequiredErr is sent, in plain text, to a client that answered a
// TLS-required INFO in plain text, so a human with telnet learns why.
var tlsRequiredErr = []byte("-ERR 'Secure Connection - TLS Required'\r\n")

// startTLS runs on its own goroutine for each connection accepted while
// TLS is on. It does what comes before the client protocol (plain-text
// INFO, the handshake, or both in the order configured), then hands over
// to run. A failure closes only this connection, with a log line saying why.
func (c *client) startTLS(raw net.Conn, o *Options) {
	defer c.srv.wg.Done()
	stop := c.srv.abortOnShutdown(raw)
	infoSent, err := c.secure(raw, o)
	stop()
	if err != nil {
		c.tlsFailed(raw, err, infoSent)
		raw.Close()
		return
	}
	if st := c.tlsState; st != nil && o.Debug {
		c.srv.log.Debugf("%s - cid:%d - TLS handshake complete: TLS version %s, cipher suite %s",
			c.hostPort(), c.cid, tlsVersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	}
	c.run(infoSent)
}

// secure takes raw from accept to where the client protocol starts; on
// success c.nc is the connection to speak it on. The whole of it is
// bounded by the TLS timeout.
func (c *client) secure(raw net.Conn, o *Options) (infoSent bool, err error) {
	deadline := time.Now().Add(o.TLSTimeout)
	raw.SetDeadline(deadline)
	first := o.TLSHandshakeFirst
	if first && o.TLSHandshakeFirstFallback > 0 {
		// Only a TLS-first client speaks before INFO: give it that long.
		raw.SetReadDeadline(earliest(deadline, time.Now().Add(o.TLSHandshakeFirstFallback)))
		if err := c.readPre(raw); err != nil && !isTimeout(err) {
			return false, err
		}
		raw.SetReadDeadline(deadline)
		first = len(c.pre) > 0
	}
	c.tlsFirst = first
	useTLS := true
	if !first {
		if _, err := raw.Write(c.srv.infoFor(c, false)); err != nil {
			return false, err
		}
		infoSent = true
		if o.AllowNonTLS {
			// A client that says nothing is taken as plain text, as
			// nats-server does; the auth timeout and pings deal with it.
			if err := c.readPre(raw); err != nil && !isTimeout(err) {
				return true, err
			}
			useTLS = len(c.pre) > 0 && c.pre[0] == tlsRecordHandshake
		}
	}
	if !useTLS {
		raw.SetDeadline(time.Time{})
		return true, nil
	}
	var under net.Conn = raw
	if len(c.pre) > 0 {
		under = &prefixConn{Conn: raw, pre: c.pre}
		c.pre = nil
	}
	tc := tls.Server(under, o.TLSConfig)
	if err := tc.Handshake(); err != nil {
		return infoSent, err
	}
	st := tc.ConnectionState()
	if !o.TLSPinnedCerts.Allows(st.PeerCertificates) {
		return infoSent, errCertNotPinned
	}
	raw.SetDeadline(time.Time{})
	c.tlsState = &st
	c.nc = &tlsConn{Conn: tc, raw: raw}
	return infoSent, nil
}

// readPre reads the first byte the client sends into c.pre.
func (c *client) readPre(raw net.Conn) error {
	b := make([]byte, 1)
	n, err := raw.Read(b)
	if n > 0 {
		c.pre = b[:n]
		return nil
	}
	return err
}

// tlsFailed logs why the connection is being closed.
func (c *client) tlsFailed(raw net.Conn, err error, infoSent bool) {
	log := c.srv.log
	where := fmt.Sprintf("%s - cid:%d", c.hostPort(), c.cid)
	var rhe tls.RecordHeaderError
	switch {
	case c.srv.isShuttingDown():
		log.Debugf("%s - TLS handshake abandoned: server shutting down", where)
	case isTimeout(err):
		log.Warnf("%s - TLS handshake timeout", where)
	case errors.As(err, &rhe) && rhe.Conn != nil:
		log.Warnf("%s - TLS handshake error: %v (the client is not using TLS)", where, err)
		if infoSent {
			raw.SetWriteDeadline(time.Now().Add(closeFlushDeadline))
			raw.Write(tlsRequiredErr)
		}
	case errors.Is(err, io.EOF):
		log.Warnf("%s - TLS handshake error: client closed the connection", where)
	default:
		log.Errorf("%s - TLS handshake error: %v%s", where, err, unverifiedDetail(err))
	}
}

// unverifiedDetail names the certificates a verification failure was
// about, so the log says which client certificate was refused.
func unverifiedDetail(err error) string {
	var ve *tls.CertificateVerificationError
	if !errors.As(err, &ve) || len(ve.UnverifiedCertificates) == 0 {
		return ""
	}
	parts := make([]string, 0, len(ve.UnverifiedCertificates))
	for _, cert := range ve.UnverifiedCertificates {
		sum := sha256.Sum256(cert.Raw)
		parts = append(parts, fmt.Sprintf("%s SHA-256: %s", cert.Subject, hex.EncodeToString(sum[:])))
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// abortOnShutdown makes blocked I/O on raw fail at once when the server
// shuts down, so Shutdown need not wait out a handshake. The returned
// function ends the watch and returns once the watcher is gone.
func (s *Server) abortOnShutdown(raw net.Conn) (stop func()) {
	done, gone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(gone)
		select {
		case <-s.doneCh:
			raw.SetDeadline(time.Unix(1, 0))
		case <-done:
		}
	}()
	return func() { close(done); <-gone }
}

// peerCertificate is the verified certificate the client presented, nil
// for a plain-text client or one that sent none.
func (c *client) peerCertificate() *x509.Certificate {
	if c.tlsState == nil || len(c.tlsState.PeerCertificates) == 0 {
		return nil
	}
	return c.tlsState.PeerCertificates[0]
}

// tlsMapRefused reports a client without a certificate on a server with
// verify_and_map: the handshake demands one, but a plain-text client
// (allow_non_tls) has none. Finding the user a certificate names
// (tlsconf.MapIdentities) is the authenticator's job.
func (c *client) tlsMapRefused() bool {
	o := c.authOpts()
	return o.TLSMap && o.TLSConfig != nil && c.peerCertificate() == nil
}

// setTLSInfoLocked puts the TLS flags of o in the INFO template.
func (s *Server) setTLSInfoLocked(o *Options) {
	on := o.TLSConfig != nil
	s.mu.info.TLSRequired = on && !o.AllowNonTLS
	s.mu.info.TLSAvailable = on && o.AllowNonTLS
	s.mu.info.TLSVerify = on && o.TLSConfig.ClientAuth == tls.RequireAndVerifyClientCert
}

// logTLSMode says at start how clients must connect, in nats-server's
// words. handshake_first without a fallback overrides allow_non_tls.
func (s *Server) logTLSMode(o *Options) {
	if o.TLSConfig == nil {
		return
	}
	firstOnly := o.TLSHandshakeFirst && o.TLSHandshakeFirstFallback == 0
	if o.AllowNonTLS && !firstOnly {
		s.log.Noticef("TLS available for client connections")
	} else {
		s.log.Noticef("TLS required for client connections")
	}
	if firstOnly {
		s.log.Warnf("Clients that are not using \"TLS Handshake First\" option will fail to connect")
	}
}

// closeUnpinned closes the TLS clients whose certificate a reload took out
// of pinned_certs, as nats-server does.
func (s *Server) closeUnpinned(prev, next *Options, clients []*client) {
	if len(next.TLSPinnedCerts) == 0 || reflect.DeepEqual(prev.TLSPinnedCerts, next.TLSPinnedCerts) {
		return
	}
	for _, c := range clients {
		if c.tlsState == nil || c.ws != nil || next.TLSPinnedCerts.Allows(c.tlsState.PeerCertificates) {
			continue
		}
		s.log.Noticef("%s - cid:%d - Certificate no longer pinned after reload; closing", c.hostPort(), c.cid)
		c.closeConnection(reasonTLSHandshake)
	}
}

// SetTLSFromFlags builds TLSConfig from the command-line form of the
// settings (TLSCert, TLSKey, TLSCaCert, TLSVerify), replacing what a tls {}
// block built, as nats-server's --tls flags do. The block's other settings
// (timeout, pinned certs, handshake_first, ...) stay in force.
func (o *Options) SetTLSFromFlags() error {
	if o.TLSCert == "" {
		return errors.New("TLS Server certificate must be present and valid")
	}
	if o.TLSKey == "" {
		return errors.New("TLS Server private key must be present and valid")
	}
	cfg, err := tlsconf.Build(tlsconf.Settings{
		CertFile: o.TLSCert, KeyFile: o.TLSKey, CaFile: o.TLSCaCert,
		Verify: o.TLSVerify || o.TLSMap,
	})
	if err != nil {
		return err
	}
	o.TLS, o.TLSConfig = true, cfg
	return nil
}

// tlsConn is a client's connection once TLS is up. Close shuts the socket
// without TLS's close_notify, which could block a closing goroutine for
// seconds on a peer that does not read.
type tlsConn struct {
	*tls.Conn
	raw net.Conn
}

func (t *tlsConn) Close() error { return t.raw.Close() }

// prefixConn replays bytes already read from a connection before reading
// on from it.
type prefixConn struct {
	net.Conn
	pre []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.pre) > 0 {
		n := copy(b, p.pre)
		p.pre = p.pre[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func tlsVersionName(v uint16) string {
	return strings.TrimPrefix(tls.VersionName(v), "TLS ")
}
