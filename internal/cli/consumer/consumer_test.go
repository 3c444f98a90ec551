package consumercmd_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/testutil"
)

func run(t *testing.T, code int, args ...string) clitest.Result {
	t.Helper()
	r := clitest.Run(t, args...)
	clitest.ExpectCode(t, r, code)
	return r
}

type cinfo struct {
	Name   string `json:"name"`
	Config struct {
		Durable       string   `json:"durable_name"`
		AckPolicy     string   `json:"ack_policy"`
		DeliverPolicy string   `json:"deliver_policy"`
		Deliver       string   `json:"deliver_subject"`
		Filter        string   `json:"filter_subject"`
		MaxDeliver    int      `json:"max_deliver"`
		MaxAckPending int      `json:"max_ack_pending"`
		Description   string   `json:"description"`
		BackOff       []int64  `json:"backoff"`
		Groups        []string `json:"priority_groups"`
		OptStartSeq   uint64   `json:"opt_start_seq"`
	} `json:"config"`
	NumPending    uint64 `json:"num_pending"`
	NumAckPending int    `json:"num_ack_pending"`
	Paused        bool   `json:"paused"`
}

func consumerInfo(t *testing.T, stream, name string) cinfo {
	t.Helper()
	var i cinfo
	r := run(t, 0, "consumer", "info", stream, name, "--json")
	if err := json.Unmarshal([]byte(r.Stdout), &i); err != nil {
		t.Fatalf("%v: %s", err, r.Stdout)
	}
	return i
}

func setup(t *testing.T, url string, msgs int) *nats.Conn {
	t.Helper()
	run(t, 0, "stream", "add", "ORDERS", "--subjects", "orders.*", "--defaults")
	nc, err := nats.Connect(url, nats.UserInfo(srvtest.AppUser, srvtest.AppPass))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	for i := 0; i < msgs; i++ {
		if _, err := nc.Request("orders.new", []byte("order"), 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	return nc
}

func TestConsumerPull(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		setup(t, url, 5)
		r := run(t, 0, "consumer", "add", "ORDERS", "NEW", "--pull", "--filter", "orders.new", "--max-deliver", "5",
			"--max-pending", "100", "--description", "new orders", "--defaults")
		if !strings.Contains(r.Stdout, "Pull Mode: true") || !strings.Contains(r.Stdout, "Unprocessed Messages: 5") {
			t.Fatalf("add: %s", r.Stdout)
		}
		i := consumerInfo(t, "ORDERS", "NEW")
		if i.Config.Durable != "NEW" || i.Config.AckPolicy != "explicit" || i.Config.Filter != "orders.new" ||
			i.Config.MaxDeliver != 5 || i.Config.MaxAckPending != 100 || i.NumPending != 5 {
			t.Fatalf("info: %+v", i)
		}
		if r = run(t, 0, "consumer", "ls", "ORDERS", "--names"); r.Stdout != "NEW\n" {
			t.Fatalf("ls: %q", r.Stdout)
		}
		// next with ack, then without.
		r = run(t, 0, "consumer", "next", "ORDERS", "NEW", "--count", "2")
		if strings.Count(r.Stdout, "Acknowledged message") != 2 || !strings.Contains(r.Stdout, "stream seq: 2") {
			t.Fatalf("next: %s", r.Stdout)
		}
		r = run(t, 0, "consumer", "next", "ORDERS", "NEW", "--no-ack", "--raw")
		if r.Stdout != "order\n" {
			t.Fatalf("next --no-ack --raw: %q", r.Stdout)
		}
		i = consumerInfo(t, "ORDERS", "NEW")
		if i.NumPending != 2 || i.NumAckPending != 1 {
			t.Fatalf("after next: %+v", i)
		}
		if r = run(t, 0, "consumer", "report", "ORDERS"); !strings.Contains(r.Stdout, "NEW") || !strings.Contains(r.Stdout, "Pull") {
			t.Fatalf("report: %s", r.Stdout)
		}
		// sub reads the rest and stops at --count.
		r = run(t, 0, "consumer", "sub", "ORDERS", "NEW", "--count", "2")
		if strings.Count(r.Stdout, "Acknowledged message") != 2 {
			t.Fatalf("sub: %s", r.Stdout)
		}
		// Nothing left: a timeout.
		run(t, cmdutil.ExitTimeout, "consumer", "next", "ORDERS", "NEW", "--wait", "200ms")

		// edit, copy, pause/resume, rm.
		run(t, cmdutil.ExitUsage, "consumer", "edit", "ORDERS", "NEW", "--description", "changed")
		run(t, 0, "consumer", "edit", "ORDERS", "NEW", "--description", "changed", "--force")
		if i = consumerInfo(t, "ORDERS", "NEW"); i.Config.Description != "changed" {
			t.Fatalf("edit: %+v", i.Config)
		}
		run(t, 0, "consumer", "copy", "ORDERS", "NEW", "NEW2", "--description", "copy")
		if i = consumerInfo(t, "ORDERS", "NEW2"); i.Config.Description != "copy" || i.Config.Filter != "orders.new" {
			t.Fatalf("copy: %+v", i.Config)
		}
		run(t, cmdutil.ExitUsage, "consumer", "pause", "ORDERS", "NEW", "1h")
		run(t, 0, "consumer", "pause", "ORDERS", "NEW", "1h", "--force")
		if i = consumerInfo(t, "ORDERS", "NEW"); !i.Paused {
			t.Fatal("not paused")
		}
		run(t, 0, "consumer", "resume", "ORDERS", "NEW", "--force")
		if i = consumerInfo(t, "ORDERS", "NEW"); i.Paused {
			t.Fatal("still paused")
		}
		r = clitest.RunWith(t, clitest.Opts{TTY: true, Answers: []any{true}}, "consumer", "rm", "ORDERS", "NEW2")
		clitest.ExpectCode(t, r, 0)
		run(t, cmdutil.ExitNotFound, "consumer", "info", "ORDERS", "NEW2")
	})
}

func TestConsumerPushAndPrompts(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc := setup(t, url, 3)
		run(t, 0, "consumer", "add", "ORDERS", "MON", "--target", "mon.orders", "--defaults")
		i := consumerInfo(t, "ORDERS", "MON")
		if i.Config.Deliver != "mon.orders" || i.Config.AckPolicy != "none" {
			t.Fatalf("push: %+v", i.Config)
		}
		r := run(t, 1, "consumer", "next", "ORDERS", "MON")
		if !strings.Contains(r.Stderr, "push consumer") {
			t.Fatalf("next on push: %s", r.Stderr)
		}
		bg := clitest.Start(t, "Subscribing to consumer", "consumer", "sub", "ORDERS", "MON", "--raw", "--count", "4")
		if _, err := nc.Request("orders.new", []byte("late"), 5*time.Second); err != nil {
			t.Fatal(err)
		}
		res := bg.Wait(10 * time.Second)
		if res.Code != 0 || res.Stdout != "order\norder\norder\nlate\n" {
			t.Fatalf("push sub: %d %q %s", res.Code, res.Stdout, res.Stderr)
		}

		// --push without --target, not on a terminal.
		r = run(t, cmdutil.ExitUsage, "consumer", "add", "ORDERS", "P", "--push", "--defaults")
		if !strings.Contains(r.Stderr, "--target") {
			t.Fatalf("--push: %s", r.Stderr)
		}
		// On a terminal: name, target, start, ack, replay, filter, deliveries, pending, headers only.
		answers := []any{"ASKED", "", "3", "explicit", "instant", "orders.new", "3", "10", false}
		r = clitest.RunWith(t, clitest.Opts{TTY: true, Answers: answers}, "consumer", "add", "ORDERS")
		clitest.ExpectCode(t, r, 0)
		i = consumerInfo(t, "ORDERS", "ASKED")
		if i.Config.DeliverPolicy != "by_start_sequence" || i.Config.OptStartSeq != 3 || i.Config.MaxDeliver != 3 || i.Config.Filter != "orders.new" {
			t.Fatalf("asked: %+v", i.Config)
		}
		// --backoff linear and the pinned client group, then unpin.
		run(t, 0, "consumer", "add", "ORDERS", "BO", "--pull", "--backoff", "linear", "--backoff-steps", "3",
			"--backoff-min", "1s", "--backoff-max", "3s", "--pinned-groups", "g1", "--pinned-ttl", "1m", "--defaults")
		i = consumerInfo(t, "ORDERS", "BO")
		if len(i.Config.BackOff) != 3 || i.Config.MaxDeliver != 4 || len(i.Config.Groups) != 1 {
			t.Fatalf("backoff: %+v", i.Config)
		}
		run(t, 0, "consumer", "unpin", "ORDERS", "BO", "g1", "--force")
		run(t, cmdutil.ExitNotFound, "consumer", "unpin", "ORDERS", "BO", "g9", "--force")
	})
}

func TestConsumerBadInput(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		setup(t, url, 0)
		run(t, 0, "consumer", "add", "ORDERS", "C", "--pull", "--defaults")
		for _, c := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"consumer", "add", "ORDERS", "X", "--ack", "maybe"}, 2, "--ack"},
			{[]string{"consumer", "add", "ORDERS", "X", "--deliver", "yesterday"}, 2, "--deliver"},
			{[]string{"consumer", "add", "ORDERS", "X", "--replay", "fast"}, 2, "--replay"},
			{[]string{"consumer", "add", "ORDERS", "X", "--filter", "a..b"}, 2, "--filter"},
			{[]string{"consumer", "add", "ORDERS", "X", "--max-deliver", "0"}, 2, "--max-deliver"},
			{[]string{"consumer", "add", "ORDERS", "X", "--sample", "101"}, 2, "--sample"},
			{[]string{"consumer", "add", "ORDERS", "X", "--backoff", "expo"}, 2, "--backoff"},
			{[]string{"consumer", "add", "ORDERS", "X", "--pull", "--target", "t"}, 2, "--pull"},
			{[]string{"consumer", "add", "ORDERS", "X", "--pinned-ttl", "1m"}, 2, "--pinned-groups"},
			{[]string{"consumer", "add", "ORDERS", "X", "--pause", "whenever"}, 2, "--pause"},
			{[]string{"consumer", "add", "ORDERS", "a.b"}, 2, "CONSUMER"},
			{[]string{"consumer", "add", "ORDERS"}, 2, "CONSUMER argument"},
			{[]string{"consumer", "add", "NOPE", "X", "--defaults"}, 4, `stream "NOPE" not found`},
			{[]string{"consumer", "info", "ORDERS", "NOPE"}, 4, "not found"},
			{[]string{"consumer", "info", "ORDERS"}, 2, "missing CONSUMER"},
			{[]string{"consumer", "edit", "ORDERS", "C"}, 2, "nothing to change"},
			{[]string{"consumer", "next", "ORDERS", "C", "--count", "0"}, 2, "--count"},
			{[]string{"consumer", "next", "ORDERS", "C", "--nak", "--term"}, 2, "--nak and --term"},
			{[]string{"consumer", "next", "ORDERS"}, 2, "CONSUMER"},
			{[]string{"consumer", "pause", "ORDERS", "C", "later", "-f"}, 2, "UNTIL"},
			{[]string{"consumer", "resume", "ORDERS", "C", "-f"}, 1, "not paused"},
			{[]string{"consumer", "unpin", "ORDERS", "C", "g", "-f"}, 1, "no priority groups"},
			{[]string{"consumer", "rm", "ORDERS", "C"}, 2, "--force"},
		} {
			r := clitest.Run(t, c.args...)
			if r.Code != c.code || !strings.Contains(r.Stderr, c.want) || strings.Count(strings.TrimSpace(r.Stderr), "\n") > 0 {
				t.Errorf("%v: exit %d, stderr %q; want exit %d and %q on one line", c.args, r.Code, r.Stderr, c.code, c.want)
			}
		}
		if r := run(t, 0, "consumer", "ls", "ORDERS", "--names"); r.Stdout != "C\n" {
			t.Fatalf("consumers after bad input: %q", r.Stdout)
		}
	})
}

var _ = testutil.CheckFor
