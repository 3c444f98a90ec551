package version

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestGetPrefersLinkerValues(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.99.0",
		Main:      debug.Module{Path: "github.com/sluicehq/sluice", Version: "v9.9.9"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "fromvcs"},
			{Key: "vcs.time", Value: "2020-01-01T00:00:00Z"},
			{Key: "GOOS", Value: "plan9"},
			{Key: "GOARCH", Value: "arm64"},
		},
	}
	got := get("v1.2.3", "abc123", "2025-02-03T04:05:06Z", bi)
	want := Info{Version: "v1.2.3", Commit: "abc123", Date: "2025-02-03T04:05:06Z", Go: "go1.99.0",
		OS: "plan9", Arch: "arm64", Platform: "plan9/arm64", NATSServer: NATSCompat}
	if got != want {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestGetFallsBackOnBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{
		Main: debug.Module{Path: "github.com/sluicehq/sluice", Version: "v0.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef"},
			{Key: "vcs.time", Value: "2024-05-06T07:08:09Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	got := get(DevVersion, "", "", bi)
	if got.Version != "v0.4.0" || got.Commit != "0123456789abcdef" || got.Date != "2024-05-06T07:08:09Z" || !got.Modified {
		t.Fatalf("fallback: %+v", got)
	}
	if got.Go != runtime.Version() || got.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Fatalf("toolchain and platform: %+v", got)
	}
}

func TestGetDevelBuild(t *testing.T) {
	// A build from a checkout without VCS stamping reports "(devel)".
	got := get(DevVersion, "", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}})
	if got.Version != DevVersion || got.Commit != "" || got.Date != "" || got.Modified {
		t.Fatalf("devel build: %+v", got)
	}
	if got := get(DevVersion, "", "", nil); got.Version != DevVersion || got.NATSServer != NATSCompat {
		t.Fatalf("no build info: %+v", got)
	}
}
