package route

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/server/tlsconf"
	"github.com/sluicehq/sluice/pkg/conf"
)

// Route TLS beyond the handshake, as nats-server applies it: pinned_certs
// checked both ways, verify_and_map (the peer's certificate names the
// cluster user) and verify_cert_and_check_known_urls (or carries the DNS
// name of a configured route).

// TLSSettings is what a cluster tls {} block sets.
type TLSSettings struct {
	Config  *tls.Config
	Timeout time.Duration // 0: DefaultTLSTimeout
	Map     bool          // verify_and_map
	Pinned  tlsconf.PinnedCerts
}

const knownURLsKey = "verify_cert_and_check_known_urls"

// tls reads the cluster tls {} block. verify_cert_and_check_known_urls,
// which the client block refuses, is taken out here (it implies verify)
// before the rest is read as any tls block.
func (r *reader) tls(e *conf.Item, c *Config, readTLS TLSReader) {
	if readTLS == nil {
		return
	}
	known := false
	if m, ok := e.Value.(map[string]any); ok {
		cp := make(map[string]any, len(m))
		for k, v := range m {
			if !strings.EqualFold(k, knownURLsKey) {
				cp[k] = v
				continue
			}
			it := item(v)
			b, ok := it.Value.(bool)
			if !ok {
				r.errorf(it.Pos, "error parsing tls config, expected '%s' to be a boolean", knownURLsKey)
				return
			}
			known = b
		}
		if known {
			cp["verify"] = &conf.Item{Value: true, Pos: e.Pos, KeyPos: e.KeyPos}
		}
		e = &conf.Item{Value: cp, Pos: e.Pos, KeyPos: e.KeyPos}
	}
	set, ok := readTLS(e)
	if !ok {
		return
	}
	c.TLSConfig, c.TLSTimeout, c.TLSMap, c.TLSPinnedCerts = set.Config, set.Timeout, set.Map, set.Pinned
	c.TLSCheckKnownURLs = known
}

// secure runs the handshake under the TLS timeout and checks the peer's
// key against pinned_certs, whichever side dialed.
func (m *Manager) secure(c *Conn, cfg *Config) error {
	if err := c.startTLS(cfg.TLSConfig, cfg.TLSTimeout); err != nil {
		return err
	}
	if !cfg.TLSPinnedCerts.Allows(c.peerChain()) {
		return fmt.Errorf("peer certificate not pinned")
	}
	return nil
}

// peerChain is the certificate chain the peer presented (nil without TLS).
func (c *Conn) peerChain() []*x509.Certificate {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return nil
	}
	return tc.ConnectionState().PeerCertificates
}

// authorized decides whether an accepted route may join: by certificate
// under verify_and_map or check_known_urls (the credentials in CONNECT
// are then not looked at), else by user and password when one is set.
func authorized(c *Conn, cfg *Config, user, pass string) bool {
	if cfg.TLSMap || cfg.TLSCheckKnownURLs {
		chain := c.peerChain()
		if len(chain) == 0 {
			return false
		}
		return certAuthorized(chain[0], cfg)
	}
	if cfg.Username == "" {
		return true
	}
	return user == cfg.Username && checkPassword(cfg.Password, pass)
}

// certAuthorized: a DNS name matching a configured route's host (known
// URLs), or any name verify_and_map tries equal to the cluster user.
func certAuthorized(cert *x509.Certificate, cfg *Config) bool {
	if cfg.TLSCheckKnownURLs {
		for _, d := range cert.DNSNames {
			if dnsNameMatches(d, cfg.Routes) {
				return true
			}
		}
	}
	if !cfg.TLSMap || cfg.Username == "" {
		return false
	}
	for _, id := range tlsconf.MapIdentities(cert) {
		if id == cfg.Username {
			return true
		}
	}
	return false
}

// dnsNameMatches compares a certificate DNS name with the hosts of urls
// label by label (RFC 6125 6.4.3): a "*" matches only the leftmost label,
// and exactly one.
func dnsNameMatches(name string, urls []*url.URL) bool {
	labels := strings.Split(strings.ToLower(name), ".")
	for _, u := range urls {
		if u == nil {
			continue
		}
		host := strings.Split(strings.ToLower(u.Hostname()), ".")
		if len(host) != len(labels) {
			continue
		}
		i := 0
		if labels[0] == "*" {
			i = 1
		}
		for ; i < len(labels) && labels[i] == host[i]; i++ {
		}
		if i == len(labels) {
			return true
		}
	}
	return false
}
