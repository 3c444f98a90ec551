package tlsconf

import (
	"crypto/tls"
	"fmt"
)

// ciphers maps Go's cipher suite names, the ones nats-server accepts, to
// the suites; insecure ones are included so they can be refused by name.
var ciphers = func() map[string]*tls.CipherSuite {
	m := map[string]*tls.CipherSuite{}
	for _, cs := range tls.CipherSuites() {
		m[cs.Name] = cs
	}
	for _, cs := range tls.InsecureCipherSuites() {
		m[cs.Name] = cs
	}
	// The names older nats-server releases documented for ChaCha20.
	for legacy, id := range map[string]uint16{
		"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305":   tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	} {
		for _, cs := range tls.CipherSuites() {
			if cs.ID == id {
				m[legacy] = cs
			}
		}
	}
	return m
}()

// curves are the key exchange names nats-server accepts.
var curves = map[string]tls.CurveID{
	"SecP384r1MLKEM1024": tls.SecP384r1MLKEM1024,
	"SecP256r1MLKEM768":  tls.SecP256r1MLKEM768,
	"X25519MLKEM768":     tls.X25519MLKEM768,
	"X25519":             tls.X25519,
	"CurveP256":          tls.CurveP256,
	"CurveP384":          tls.CurveP384,
	"CurveP521":          tls.CurveP521,
}

// CipherSuite looks a suite up by its Go name, e.g.
// "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256". The caller decides what to
// do with an insecure one (cs.Insecure).
func CipherSuite(name string) (*tls.CipherSuite, error) {
	cs, ok := ciphers[name]
	if !ok {
		return nil, fmt.Errorf("unrecognized cipher %s", name)
	}
	return cs, nil
}

// Curve looks a key exchange up by its Go name, e.g. "X25519".
func Curve(name string) (tls.CurveID, error) {
	id, ok := curves[name]
	if !ok {
		return 0, fmt.Errorf("unrecognized curve preference %s", name)
	}
	return id, nil
}

// Version parses a min_version value: "1.2" or "1.3". Older versions are
// recognised only to be refused.
func Version(s string) (uint16, error) {
	var v uint16
	switch s {
	case "1.0":
		v = tls.VersionTLS10
	case "1.1":
		v = tls.VersionTLS11
	case "1.2":
		v = tls.VersionTLS12
	case "1.3":
		v = tls.VersionTLS13
	default:
		return 0, fmt.Errorf("unknown version: %v", s)
	}
	if v < tls.VersionTLS12 {
		return 0, fmt.Errorf("unsupported TLS version: %s", tls.VersionName(v))
	}
	return v, nil
}

// DefaultCipherSuites is every suite Go considers secure, in Go's order.
func DefaultCipherSuites() []uint16 {
	var ids []uint16
	for _, cs := range tls.CipherSuites() {
		ids = append(ids, cs.ID)
	}
	return ids
}

// DefaultCurves prefers the post-quantum hybrids, then X25519, then the
// NIST curves, as nats-server does.
func DefaultCurves() []tls.CurveID {
	return []tls.CurveID{
		tls.X25519MLKEM768, tls.SecP384r1MLKEM1024, tls.SecP256r1MLKEM768,
		tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521,
	}
}
