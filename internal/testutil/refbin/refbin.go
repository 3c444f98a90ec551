// Package refbin finds the reference binaries that tests compare sluice
// with: nats-server and natscli at the pinned versions. `make reference`
// (a prerequisite of `make test`) installs them through the Go module
// proxy into a cache directory; tests that need one fail, never skip,
// when it is missing. Import it only from tests.
package refbin

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Pinned versions; the Makefile installs the same ones.
const (
	NATSServerVersion = "v2.15.2"
	NATSCLIVersion    = "v0.5.1"
)

// Dir is where `make reference` installs the binaries:
// $SLUICE_REF_DIR, else $XDG_CACHE_HOME/sluice/reference, else
// ~/.cache/sluice/reference.
func Dir() string {
	if d := os.Getenv("SLUICE_REF_DIR"); d != "" {
		return d
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "sluice", "reference")
}

// NATSServerPath is the reference nats-server: $SLUICE_REF_NATS_SERVER,
// else the one `make reference` installed, else ~/peers/bin/nats-server.
// It is "" when none exists.
func NATSServerPath() string {
	return find("SLUICE_REF_NATS_SERVER", "nats-server-"+NATSServerVersion, "nats-server")
}

// NATSCLIPath is the reference natscli (`nats`), found as NATSServerPath
// finds nats-server ($SLUICE_REF_NATS).
func NATSCLIPath() string {
	return find("SLUICE_REF_NATS", "natscli-"+NATSCLIVersion, "nats")
}

func find(env, subdir, name string) string {
	if p := os.Getenv(env); p != "" {
		return p
	}
	candidates := []string{filepath.Join(Dir(), subdir, name)}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, "peers", "bin", name))
	}
	for _, p := range candidates {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// NATSServer returns the reference nats-server, failing the test when it
// is not installed.
func NATSServer(t testing.TB) string {
	t.Helper()
	return must(t, NATSServerPath(), "nats-server "+NATSServerVersion)
}

// NATSCLI returns the reference natscli, failing the test when it is not
// installed.
func NATSCLI(t testing.TB) string {
	t.Helper()
	return must(t, NATSCLIPath(), "natscli "+NATSCLIVersion)
}

func must(t testing.TB, p, what string) string {
	t.Helper()
	if p == "" {
		t.Fatal(Missing(what))
	}
	return p
}

// Missing says what to do when a reference binary is not installed.
func Missing(what string) string {
	return fmt.Sprintf("reference %s not installed: run 'make reference' (installs into %s through the Go module proxy)", what, Dir())
}
