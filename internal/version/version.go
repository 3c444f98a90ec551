// Package version holds sluice's own version and build information and
// the nats-server compatibility level it implements.
package version

import (
	"runtime"
	"runtime/debug"
)

// These are set at build time (Makefile, goreleaser) with
//
//	-ldflags "-X github.com/sluicehq/sluice/internal/version.Version=v1.2.3
//	          -X github.com/sluicehq/sluice/internal/version.Commit=abc123
//	          -X github.com/sluicehq/sluice/internal/version.Date=2025-01-02T03:04:05Z"
//
// When they are not, Get falls back on what the Go toolchain recorded.
var (
	Version = DevVersion
	Commit  = ""
	Date    = ""
)

// DevVersion is the version of a build nobody stamped.
const DevVersion = "0.1.0-dev"

// NATSCompat is the nats-server version sluice reports in INFO. Clients
// switch features on it (nats.go needs 2.9.0 or later; natscli traces
// messages only on 2.11 and later), so raise it only as the matching
// features land. 2.12 is the last nats-server release whose JetStream
// API (level 2) sluice implements whole; sluice reports level 3 (fast
// batch publish), which no release reported, and 2.14 means level 4.
const NATSCompat = "2.12.0"

// Info describes the running binary; `sluice version --json` prints it.
// Fields are only ever added.
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	// Date is when the binary was built (or, failing that, when its
	// commit was made), in RFC 3339 form.
	Date string `json:"date,omitempty"`
	// Modified is set when the binary was built from a checkout with
	// uncommitted changes.
	Modified   bool   `json:"modified,omitempty"`
	Go         string `json:"go"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	Platform   string `json:"platform"`
	NATSServer string `json:"nats_server_compat"`
}

// Get returns the binary's build information: the ldflags values where
// set, else the module version and VCS settings the toolchain embedded.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return get(Version, Commit, Date, bi)
}

func get(ver, commit, date string, bi *debug.BuildInfo) Info {
	info := Info{
		Version: ver, Commit: commit, Date: date,
		Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		NATSServer: NATSCompat,
	}
	if bi != nil {
		// `go install module@v1.2.3` stamps the module version, not ldflags.
		if info.Version == DevVersion && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			info.Go = bi.GoVersion
		}
		vcsCommit := ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				vcsCommit = s.Value
			case "vcs.time":
				if info.Date == "" {
					info.Date = s.Value
				}
			case "vcs.modified":
				info.Modified = s.Value == "true"
			case "GOOS":
				info.OS = s.Value
			case "GOARCH":
				info.Arch = s.Value
			}
		}
		if info.Commit == "" {
			info.Commit = vcsCommit
		}
	}
	info.Platform = info.OS + "/" + info.Arch
	return info
}

// GoVersion is the Go toolchain the binary was built with.
func GoVersion() string { return runtime.Version() }

// CommitOrVCS returns the build commit, from ldflags or from the module
// build info when built from a checkout.
func CommitOrVCS() string { return Get().Commit }
