// Package version holds sluice's own version and the nats-server
// compatibility level it implements.
package version

import (
	"runtime"
	"runtime/debug"
)

// These are set at build time with -ldflags "-X ...".
var (
	Version = "0.1.0-dev"
	Commit  = ""
	Date    = ""
)

// NATSCompat is the nats-server version sluice reports in INFO. Clients
// switch features on it (nats.go needs 2.9.0 or later), so raise it only as
// the matching features land.
const NATSCompat = "2.10.0"

// GoVersion is the Go toolchain the binary was built with.
func GoVersion() string { return runtime.Version() }

// CommitOrVCS returns the build commit, from ldflags or from the module
// build info when built from a checkout.
func CommitOrVCS() string {
	if Commit != "" {
		return Commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return ""
}
