//go:build !windows

package servecmd

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// serverCert is a server certificate for 127.0.0.1 written to the given
// files, so a test can renew it in place.
func serverCert(ca *testutil.CA, certFile, keyFile string) *testutil.Leaf {
	return ca.IssueTo(testutil.LeafSpec{Name: "server", Server: true, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}, certFile, keyFile)
}

// A server started with the --tls* flags requires TLS and client
// certificates; on SIGHUP it reads the certificate files again, so a
// renewed certificate is served to new clients while existing ones stay.
func TestServeTLSFlagsAndCertificateReloadOnSIGHUP(t *testing.T) {
	bin := sluiceBinary(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	ca := testutil.NewCA(t, "first-ca")
	serverCert(ca, certFile, keyFile)
	client := ca.ClientLeaf("client")

	p, addr := startServer(t, bin, "serve", "-a", "127.0.0.1", "-p", "-1",
		"--tlscert", certFile, "--tlskey", keyFile, "--tlscacert", ca.File, "--tlsverify")
	p.waitLog(t, "TLS required for client connections")
	url := "tls://" + addr
	withCert := nats.ClientCert(client.CertFile, client.KeyFile)

	nc, err := nats.Connect(url, nats.RootCAs(ca.File), withCert, nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("TLS client with a certificate: %v", err)
	}
	defer nc.Close()
	if st, err := nc.TLSConnectionState(); err != nil || !st.HandshakeComplete {
		t.Fatalf("not on TLS: %v", err)
	}
	if _, err := nats.Connect(url, nats.RootCAs(ca.File), nats.MaxReconnects(0)); err == nil {
		t.Fatal("--tlsverify: client without a certificate accepted")
	}
	if _, err := nats.Connect("nats://"+addr, nats.MaxReconnects(0)); err == nil {
		t.Fatal("plain-text client accepted")
	}

	// Renew the server certificate from another CA and reload.
	next := testutil.NewCA(t, "second-ca")
	renewed := serverCert(next, certFile, keyFile)
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitLog(t, "Reload applied changes to TLSConfig")

	nc2, err := nats.Connect(url, nats.RootCAs(next.File), withCert, nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("client trusting the new CA after reload: %v", err)
	}
	defer nc2.Close()
	if st, _ := nc2.TLSConnectionState(); st.PeerCertificates[0].SerialNumber.Cmp(renewed.Cert.SerialNumber) != 0 {
		t.Fatal("renewed certificate not served after reload")
	}
	if _, err := nats.Connect(url, nats.RootCAs(ca.File), withCert, nats.MaxReconnects(0)); err == nil {
		t.Fatal("client trusting only the old CA accepted the renewed certificate")
	}
	if err := nc.Flush(); err != nil {
		t.Fatalf("existing TLS client dropped by the reload: %v", err)
	}
}

// The TLS flags go over the configuration file: --tls=false turns a tls {}
// block off, the flags' files replace the block's, and a flag left out
// keeps the block's value.
func TestServeTLSFlagsOverConfig(t *testing.T) {
	ca := testutil.NewCA(t, "ca")
	fileCert := ca.ServerLeaf("file-server")
	flagCert := ca.ServerLeaf("flag-server")
	conf := filepath.Join(t.TempDir(), "tls.conf")
	writeFile(t, conf, fmt.Sprintf("tls { cert_file: %q, key_file: %q, ca_file: %q, verify: true, timeout: 3 }\n",
		fileCert.CertFile, fileCert.KeyFile, ca.File))

	load := func(set func(o *serveOptions)) server.Options {
		t.Helper()
		o := newServeOptions()
		o.configFile = conf
		set(o)
		opts, _, err := o.load()
		if err != nil {
			t.Fatal(err)
		}
		return opts
	}
	served := func(opts server.Options) string {
		return opts.TLSConfig.Certificates[0].Leaf.Subject.CommonName
	}

	opts := load(func(*serveOptions) {})
	if opts.TLSConfig == nil || served(opts) != "file-server" || opts.TLSConfig.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Fatal("configuration file's tls block not applied")
	}

	opts = load(func(o *serveOptions) { o.changed["tls"] = true }) // --tls=false
	if opts.TLSConfig != nil || opts.TLS {
		t.Fatal("--tls=false did not turn TLS off")
	}

	opts = load(func(o *serveOptions) {
		o.flags.TLSCert, o.flags.TLSKey = flagCert.CertFile, flagCert.KeyFile
		o.changed["tlscert"], o.changed["tlskey"] = true, true
	})
	if served(opts) != "flag-server" {
		t.Fatalf("--tlscert/--tlskey: serving %q", served(opts))
	}
	if opts.TLSConfig.ClientAuth != tls.RequireAndVerifyClientCert || opts.TLSConfig.ClientCAs == nil {
		t.Fatal("verify and ca_file of the block lost when only the certificate flags were given")
	}
	if opts.TLSTimeout.Seconds() != 3 {
		t.Fatalf("block's timeout lost: %v", opts.TLSTimeout)
	}
}

func TestServeTLSFlagErrors(t *testing.T) {
	ca := testutil.NewCA(t, "ca")
	leaf := ca.ServerLeaf("server")
	missing := filepath.Join(t.TempDir(), "missing.pem")
	for _, tc := range []struct {
		name  string
		flags map[string]string
		want  string
	}{
		{"tls without files", map[string]string{"tls": "true"}, "TLS Server certificate must be present and valid"},
		{"verify without files", map[string]string{"tlsverify": "true"}, "TLS Server certificate must be present and valid"},
		{"cert without key", map[string]string{"tlscert": leaf.CertFile}, "TLS Server private key must be present and valid"},
		{"missing cert", map[string]string{"tlscert": missing, "tlskey": leaf.KeyFile}, "error reading certificate"},
		{"missing ca", map[string]string{"tlscert": leaf.CertFile, "tlskey": leaf.KeyFile, "tlscacert": missing}, "error reading CA file"},
		{"key of another cert", map[string]string{"tlscert": leaf.CertFile, "tlskey": ca.ClientLeaf("x").KeyFile}, "private key does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newServeOptions()
			f := &o.flags
			for name, v := range tc.flags {
				o.changed[name] = true
				switch name {
				case "tls":
					f.TLS = v == "true"
				case "tlsverify":
					f.TLSVerify = v == "true"
				case "tlscert":
					f.TLSCert = v
				case "tlskey":
					f.TLSKey = v
				case "tlscacert":
					f.TLSCaCert = v
				}
			}
			_, _, err := o.load()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "TLS from command-line flags") {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// The nats-server personality takes the same flags in its spelling.
func TestNATSServerPersonalityTLSFlags(t *testing.T) {
	bin := sluiceBinary(t)
	link := filepath.Join(t.TempDir(), "nats-server")
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	ca := testutil.NewCA(t, "ca")
	leaf := ca.ServerLeaf("server")
	p, addr := startServer(t, link, "-a", "127.0.0.1", "-p", "-1", "-tls", "-tlscert", leaf.CertFile, "-tlskey", leaf.KeyFile)
	nc, err := nats.Connect("tls://"+addr, nats.RootCAs(ca.File), nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("TLS client: %v", err)
	}
	nc.Close()
	if strings.Contains(p.Logs(), "not supported yet") {
		t.Fatalf("TLS flags still reported unsupported:\n%s", p.Logs())
	}
}

func TestNATSServerHelpTLS(t *testing.T) {
	io, out, _ := cmdutil.Test("")
	if code := RunNATSServer(io, "nats-server", []string{"--help_tls"}); code != cmdutil.ExitOK {
		t.Fatalf("exit code %d", code)
	}
	for _, flag := range []string{"--tls ", "--tlscert", "--tlskey", "--tlsverify", "--tlscacert"} {
		if !strings.Contains(out.String(), flag) {
			t.Errorf("--help_tls does not mention %s:\n%s", flag, out)
		}
	}
}
