package server

import (
	"crypto/tls"
	"crypto/x509"
	"time"
)

// monitorTLSConfig is the TLS configuration the HTTPS monitoring listener
// serves with: the server's own certificate (the tls {} block), without
// asking browsers and scrapers for theirs, as nats-server does. Nil when
// the server has no TLS configuration.
func (o *Options) monitorTLSConfig() *tls.Config {
	if o.TLSConfig == nil {
		return nil
	}
	c := o.TLSConfig.Clone()
	c.ClientAuth = tls.NoClientCert
	c.VerifyPeerCertificate = nil
	return c
}

// tlsCertNotAfter is when the server's TLS certificate expires, zero
// without one.
func (o *Options) tlsCertNotAfter() time.Time {
	if o.TLSConfig == nil || len(o.TLSConfig.Certificates) == 0 {
		return time.Time{}
	}
	cert := &o.TLSConfig.Certificates[0]
	leaf := cert.Leaf
	if leaf == nil && len(cert.Certificate) > 0 {
		leaf, _ = x509.ParseCertificate(cert.Certificate[0])
	}
	if leaf == nil {
		return time.Time{}
	}
	return leaf.NotAfter.UTC()
}
