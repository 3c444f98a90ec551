package server_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// runConfReloadable starts a server from the configuration file at path
// and installs a reloader that reads the file again, as sluice serve does.
func runConfReloadable(t *testing.T, path string, mutate func(*server.Options)) *server.Server {
	t.Helper()
	load := func() (server.Options, error) {
		var o server.Options
		_, err := o.ProcessConfigFile(path, true)
		o.Host, o.Port = "127.0.0.1", server.RandomPort
		return o, err
	}
	o, err := load()
	if err != nil {
		t.Fatal(err)
	}
	s := testutil.RunServer(t, func(so *server.Options) {
		*so = o
		if mutate != nil {
			mutate(so)
		}
	})
	port := s.Options().Port
	s.SetReloader(func() error {
		next, err := load()
		if err != nil {
			return err
		}
		next.Port = port
		_, err = s.ReloadOptions(next)
		return err
	})
	return s
}

func TestTLSReloadServesNewCertificate(t *testing.T) {
	oldCA := testutil.NewCA(t, "old-ca")
	srv := oldCA.ServerLeaf("server")
	conf := writeConf(t, fmt.Sprintf("tls { cert_file: %q, key_file: %q }\n", srv.CertFile, srv.KeyFile))
	s := runConfReloadable(t, conf, nil)
	existing := testutil.Connect(t, s, nats.RootCAs(oldCA.File))

	// Renew in place with a certificate from another CA, as a
	// certificate manager would, and reload.
	newCA := testutil.NewCA(t, "new-ca")
	renewed := newCA.IssueTo(testutil.LeafSpec{Name: "server", Server: true, DNSNames: []string{"localhost"}, IPs: srv.Cert.IPAddresses},
		srv.CertFile, srv.KeyFile)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	nc := testutil.Connect(t, s, nats.RootCAs(newCA.File))
	st, err := nc.TLSConnectionState()
	if err != nil || st.PeerCertificates[0].SerialNumber.Cmp(renewed.Cert.SerialNumber) != 0 {
		t.Fatalf("new connection not served the renewed certificate: %v", err)
	}
	checkRoundTrip(t, nc)
	if _, err := dial(s, nats.RootCAs(oldCA.File)); err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("client trusting only the old CA: %v", err)
	}
	// The connection made before the reload keeps its session.
	if !existing.IsConnected() {
		t.Fatal("existing client dropped by the certificate reload")
	}
	checkRoundTrip(t, existing)
	if st, _ := existing.TLSConnectionState(); st.PeerCertificates[0].SerialNumber.Cmp(srv.Cert.SerialNumber) != 0 {
		t.Fatal("existing connection changed certificate")
	}
}

func TestTLSReloadWithBrokenCertificateKeepsServing(t *testing.T) {
	ca := testutil.NewCA(t, "ca")
	srv := ca.ServerLeaf("server")
	conf := writeConf(t, fmt.Sprintf("tls { cert_file: %q, key_file: %q }\n", srv.CertFile, srv.KeyFile))
	s := runConfReloadable(t, conf, nil)
	existing := testutil.Connect(t, s, nats.RootCAs(ca.File))

	if err := os.WriteFile(srv.CertFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := s.Reload()
	if err == nil || !strings.Contains(err.Error(), "error parsing X509 certificate/key pair") {
		t.Fatalf("reload with a broken certificate: %v", err)
	}
	// The certificate loaded before stays in force for new clients.
	checkHealthy(t, s, existing, nats.RootCAs(ca.File))
}

func TestTLSReloadTurnsVerifyOn(t *testing.T) {
	p := newTLSPKI(t)
	block := "tls { cert_file: %q, key_file: %q, ca_file: %q, verify: %v }\n"
	conf := writeConf(t, fmt.Sprintf(block, p.server.CertFile, p.server.KeyFile, p.ca.File, false))
	s := runConfReloadable(t, conf, nil)
	existing := testutil.Connect(t, s, p.trust())
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(block, p.server.CertFile, p.server.KeyFile, p.ca.File, true)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	_, info := testutil.NewRawConn(t, s)
	if !info.TLSRequired || !info.TLSVerify {
		t.Fatalf("INFO after reload: tls_required=%v tls_verify=%v", info.TLSRequired, info.TLSVerify)
	}
	if _, err := dial(s, p.trust()); err == nil {
		t.Fatal("client without a certificate accepted after verify was turned on")
	}
	// Clients already in keep going; new ones need a certificate.
	checkHealthy(t, s, existing, p.withCert()...)
}
