package streamcmd_test

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

// TestWithoutJetStream: against a server or account without JetStream
// every verb fails at once with one line saying so.
func TestWithoutJetStream(t *testing.T) {
	srvtest.Both(t, srvtest.RefOptions{}, func(t *testing.T, s *srvtest.Server) {
		srvtest.ActAs(t, srvtest.AppUser, srvtest.AppPass)
		for _, args := range [][]string{
			{"stream", "ls"},
			{"stream", "add", "S", "--subjects", "s", "--defaults"},
			{"stream", "info", "S"},
			{"consumer", "ls", "S"},
			{"bench", "js", "pub", "sync", "x", "--create", "--msgs", "1"},
		} {
			r := clitest.Run(t, args...)
			t.Logf("%v: exit %d %s", args, r.Code, r.Stderr)
			if r.Code == 0 || !strings.Contains(r.Stderr, "JetStream") || strings.Count(strings.TrimSpace(r.Stderr), "\n") > 0 {
				t.Errorf("%v: exit %d, stderr %q", args, r.Code, r.Stderr)
			}
		}
	})
}
