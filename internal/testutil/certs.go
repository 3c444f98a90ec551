package testutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CA is a certificate authority made up for one test. Its certificate is
// written to File (PEM), ready for ca_file or nats.RootCAs.
type CA struct {
	Cert *x509.Certificate
	File string
	key  *ecdsa.PrivateKey
	dir  string
	t    testing.TB
}

// LeafSpec says what a certificate issued by a CA is for and names.
type LeafSpec struct {
	Name    string // subject common name, also the file name stem
	Subject *pkix.Name
	// RDNs, when set, is the subject exactly as given (it wins over
	// Subject): for multi-valued RDNs and attribute orders pkix.Name
	// cannot express.
	RDNs     pkix.RDNSequence
	DNSNames []string
	IPs      []net.IP
	Emails   []string
	URIs     []string
	Server   bool // usable by a TLS server (ExtKeyUsageServerAuth)
	Client   bool // usable by a TLS client (ExtKeyUsageClientAuth)
	// NotAfter, when set, ends the validity (which starts an hour before
	// NotAfter if that is in the past): for expired certificates.
	NotAfter time.Time
}

// Leaf is an issued certificate and its key, on disk and in memory.
type Leaf struct {
	Cert              *x509.Certificate
	CertFile, KeyFile string
	Pair              tls.Certificate
}

// NewCA creates a CA whose files live in a fresh t.TempDir().
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"sluice tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create CA: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &CA{Cert: cert, key: key, dir: t.TempDir(), t: t}
	ca.File = filepath.Join(ca.dir, name+"-ca.pem")
	writePEM(t, ca.File, "CERTIFICATE", der)
	return ca
}

// Pool is a cert pool holding only this CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Issue signs a new certificate and writes it and its key beside the CA.
func (ca *CA) Issue(spec LeafSpec) *Leaf {
	ca.t.Helper()
	return ca.IssueTo(spec, filepath.Join(ca.dir, spec.Name+".pem"), filepath.Join(ca.dir, spec.Name+"-key.pem"))
}

// IssueTo is Issue writing to the given files, replacing what they hold:
// how a test renews a certificate in place.
func (ca *CA) IssueTo(spec LeafSpec, certFile, keyFile string) *Leaf {
	t := ca.t
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:   serial(t),
		Subject:        pkix.Name{CommonName: spec.Name},
		NotBefore:      time.Now().Add(-time.Hour),
		NotAfter:       time.Now().Add(24 * time.Hour),
		KeyUsage:       x509.KeyUsageDigitalSignature,
		DNSNames:       spec.DNSNames,
		IPAddresses:    spec.IPs,
		EmailAddresses: spec.Emails,
	}
	if !spec.NotAfter.IsZero() {
		tmpl.NotAfter = spec.NotAfter
		if !tmpl.NotBefore.Before(spec.NotAfter) {
			tmpl.NotBefore = spec.NotAfter.Add(-time.Hour)
		}
	}
	if spec.Subject != nil {
		tmpl.Subject = *spec.Subject
	}
	if spec.RDNs != nil {
		raw, err := asn1.Marshal(spec.RDNs)
		if err != nil {
			t.Fatalf("subject %v: %v", spec.RDNs, err)
		}
		tmpl.RawSubject = raw
	}
	for _, s := range spec.URIs {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, u)
	}
	if spec.Server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	if spec.Client {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("issue %s: %v", spec.Name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
	pair := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}
	return &Leaf{Cert: cert, CertFile: certFile, KeyFile: keyFile, Pair: pair}
}

// ServerLeaf issues a server certificate valid for 127.0.0.1 and localhost.
func (ca *CA) ServerLeaf(name string) *Leaf {
	ca.t.Helper()
	return ca.Issue(LeafSpec{Name: name, Server: true, DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
}

// ClientLeaf issues a client certificate with the given common name.
func (ca *CA) ClientLeaf(name string) *Leaf {
	ca.t.Helper()
	return ca.Issue(LeafSpec{Name: name, Client: true})
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
