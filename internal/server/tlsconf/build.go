package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// Settings is what a tls {} block or the --tls flags say. The zero value of
// each field means nats-server's default.
type Settings struct {
	CertFile string
	KeyFile  string
	// CaFile holds the CAs client certificates are checked against; without
	// it the system roots are used.
	CaFile string
	// Verify requires every client to present a certificate that verifies.
	Verify bool
	// Map is verify_and_map: Verify, and the certificate names the user.
	Map bool
	// Insecure skips verifying the peer; it only matters where the server
	// dials out, and is kept so such blocks parse.
	Insecure         bool
	MinVersion       uint16        // 0: TLS 1.2
	CipherSuites     []uint16      // nil: DefaultCipherSuites
	CurvePreferences []tls.CurveID // nil: DefaultCurves
	// Client is a block for dialing out (resolver_tls): the certificate
	// is optional and the CAs verify the server dialed.
	Client bool
}

// Error is a Build failure together with the setting it comes from, so a
// configuration reader can point at the offending key.
type Error struct {
	Field string // cert_file, key_file, ca_file or min_version
	Err   error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func fieldErr(field, format string, a ...any) error {
	return &Error{Field: field, Err: fmt.Errorf(format, a...)}
}

// Build loads the certificate and CA files named by s and returns the
// server-side configuration. It is called again on every reload, which is
// how renewed certificates are picked up.
func Build(s Settings) (*tls.Config, error) {
	switch {
	case s.Client && s.CertFile == "" && s.KeyFile == "":
	case s.CertFile == "" && s.KeyFile == "":
		return nil, fieldErr("cert_file", "missing 'cert_file' and 'key_file' in TLS configuration")
	case s.KeyFile == "":
		return nil, fieldErr("cert_file", "missing 'key_file' in TLS configuration")
	case s.CertFile == "":
		return nil, fieldErr("key_file", "missing 'cert_file' in TLS configuration")
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		CipherSuites:       s.CipherSuites,
		CurvePreferences:   s.CurvePreferences,
		InsecureSkipVerify: s.Insecure,
	}
	if cfg.CipherSuites == nil {
		cfg.CipherSuites = DefaultCipherSuites()
	}
	if cfg.CurvePreferences == nil {
		cfg.CurvePreferences = DefaultCurves()
	}
	if s.MinVersion != 0 {
		if s.MinVersion < tls.VersionTLS12 {
			return nil, fieldErr("min_version", "unsupported minimum TLS version: %s", tls.VersionName(s.MinVersion))
		}
		cfg.MinVersion = s.MinVersion
	}
	if s.CertFile != "" {
		cert, err := loadPair(s.CertFile, s.KeyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if (s.Verify || s.Map) && !s.Client {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if s.CaFile != "" {
		pem, err := os.ReadFile(s.CaFile)
		if err != nil {
			return nil, fieldErr("ca_file", "error reading CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fieldErr("ca_file", "failed to parse root ca certificate")
		}
		cfg.ClientCAs = pool
		if s.Client {
			cfg.RootCAs = pool
		}
	}
	return cfg, nil
}

func loadPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fieldErr("cert_file", "error reading certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fieldErr("key_file", "error reading private key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fieldErr("cert_file", "error parsing X509 certificate/key pair: %w", err)
	}
	if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
		return tls.Certificate{}, fieldErr("cert_file", "error parsing certificate: %v", err)
	}
	return cert, nil
}
