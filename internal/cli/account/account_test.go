package accountcmd_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/testutil"
)

func TestAccountInfoJetStream(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		clitest.ExpectCode(t, clitest.Run(t, "stream", "add", "S", "--subjects", "s", "--defaults"), 0)
		r := clitest.Run(t, "account", "info")
		clitest.ExpectCode(t, r, 0)
		for _, want := range []string{"User: a", "Account: A", "Maximum Payload: 1.0 MiB", "Streams: 1", "Tier: Default",
			"Storage: 0 B of Unlimited", "Consumers: Unlimited", "Requests:"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("account info lacks %q:\n%s", want, r.Stdout)
			}
		}
		r = clitest.Run(t, "account", "info", "--json")
		clitest.ExpectCode(t, r, 0)
		var out struct {
			User       struct{ Account string } `json:"user"`
			Connection struct {
				MaxPayload int64 `json:"max_payload"`
			} `json:"connection"`
			JetStream struct {
				Streams int `json:"streams"`
				API     struct {
					Total int `json:"total"`
				} `json:"api"`
				Limits struct {
					MaxStreams int `json:"max_streams"`
				} `json:"limits"`
			} `json:"jetstream"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || out.User.Account != "A" || out.JetStream.Streams != 1 ||
			out.JetStream.API.Total == 0 || out.Connection.MaxPayload != 1<<20 || out.JetStream.Limits.MaxStreams != -1 {
			t.Fatalf("%v: %s", err, r.Stdout)
		}
	})
}

func TestAccountWithoutJetStream(t *testing.T) {
	srvtest.Both(t, srvtest.RefOptions{}, func(t *testing.T, s *srvtest.Server) {
		srvtest.ActAs(t, srvtest.AppUser, srvtest.AppPass)
		r := clitest.Run(t, "account", "info")
		clitest.ExpectCode(t, r, 0)
		if !strings.Contains(r.Stdout, "JetStream is not enabled for this account") || !strings.Contains(r.Stdout, "Account: A") {
			t.Fatalf("info: %s", r.Stdout)
		}
		// The report's own connection is the only one, once the server
		// has seen the previous command's connection close.
		testutil.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
			r := clitest.Run(t, "account", "report", "connections", "--json")
			clitest.ExpectCode(t, r, 0)
			var conns []struct {
				CID     uint64 `json:"cid"`
				Account string `json:"account"`
			}
			if err := json.Unmarshal([]byte(r.Stdout), &conns); err != nil || len(conns) != 1 {
				return fmt.Errorf("%v: %s", err, r.Stdout)
			}
			return nil
		})
		r = clitest.Run(t, "account", "report", "statistics")
		clitest.ExpectCode(t, r, 0)
		if !strings.Contains(r.Stdout, s.Name) {
			t.Fatalf("statistics: %s", r.Stdout)
		}
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"account", "report", "connections", "--sort", "name"}, "--sort"},
			{[]string{"account", "report", "connections", "--state", "gone"}, "--state"},
			{[]string{"account", "report", "connections", "--top", "0"}, "--top"},
			{[]string{"account", "info", "extra"}, "takes no arguments"},
		} {
			r := clitest.Run(t, c.args...)
			if r.Code != cmdutil.ExitUsage || !strings.Contains(r.Stderr, c.want) {
				t.Errorf("%v: exit %d %s", c.args, r.Code, r.Stderr)
			}
		}
	})
}
