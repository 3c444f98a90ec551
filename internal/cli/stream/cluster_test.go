package streamcmd_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/testutil"
)

// TestClusterStepDown runs the leader step-downs against a three-node
// nats-server cluster: a stream's, then (as the system user) the meta
// group's.
func TestClusterStepDown(t *testing.T) {
	srvtest.ReferenceCluster(t, 3)
	srvtest.ActAs(t, srvtest.AppUser, srvtest.AppPass)
	run(t, 0, "stream", "add", "R3", "--subjects", "r3", "--replicas", "3", "--defaults")
	testutil.CheckFor(t, 20*time.Second, 100*time.Millisecond, func() error {
		r := clitest.Run(t, "stream", "info", "R3")
		if !strings.Contains(r.Stdout, "Leader: ref") || strings.Count(r.Stdout, "current") < 2 {
			return fmt.Errorf("no leader and current replicas yet:\n%s", r.Stdout)
		}
		return nil
	})
	if r := run(t, 0, "stream", "report"); !strings.Contains(r.Stdout, "*") {
		t.Fatalf("report lacks the leader mark: %s", r.Stdout)
	}
	r := run(t, 0, "stream", "cluster", "step-down", "R3")
	if !strings.HasPrefix(r.Stdout, "New leader of stream R3: ref") {
		t.Fatalf("step-down: %s %s", r.Stdout, r.Stderr)
	}
	run(t, 0, "consumer", "add", "R3", "C", "--pull", "--defaults")
	testutil.CheckFor(t, 20*time.Second, 100*time.Millisecond, func() error {
		r := clitest.Run(t, "consumer", "info", "R3", "C")
		if !strings.Contains(r.Stdout, "Leader: ref") || strings.Count(r.Stdout, "current") < 2 {
			return fmt.Errorf("no consumer leader and current replicas yet:\n%s", r.Stdout)
		}
		return nil
	})
	r = run(t, 0, "consumer", "cluster", "step-down", "R3", "C")
	if !strings.HasPrefix(r.Stdout, "New leader of consumer R3 > C: ref") {
		t.Fatalf("consumer step-down: %s %s", r.Stdout, r.Stderr)
	}
	// The meta group needs the system account.
	r = clitest.Run(t, "server", "raft", "step-down")
	if r.Code == 0 {
		t.Fatalf("meta step-down as an account user: %s", r.Stdout)
	}
	srvtest.ActAs(t, srvtest.SysUser, srvtest.SysPass)
	r = run(t, 0, "server", "raft", "step-down")
	if !strings.HasPrefix(r.Stdout, "New JetStream meta leader: ref") {
		t.Fatalf("raft step-down: %s %s", r.Stdout, r.Stderr)
	}
}
