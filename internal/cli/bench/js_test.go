package benchcmd_test

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

func benchJSON(t *testing.T, args ...string) (string, int64) {
	t.Helper()
	r := clitest.Run(t, append(args, "--json", "--no-progress")...)
	clitest.ExpectCode(t, r, 0)
	res := decode(t, r.Stdout)
	if res.MsgsPerSec <= 0 {
		t.Fatalf("%v: no rate: %s", args, r.Stdout)
	}
	return res.Kind, res.Messages
}

func TestBenchJetStream(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		for _, c := range []struct {
			args []string
			kind string
			msgs int64
		}{
			{[]string{"bench", "js", "pub", "sync", "bench.a", "--create", "--storage", "memory", "--msgs", "200"}, "js-pub-sync", 200},
			{[]string{"bench", "js", "pub", "async", "bench.a", "--create", "--storage", "memory", "--msgs", "300", "--batch", "50", "--clients", "2"}, "js-pub-async", 300},
			{[]string{"bench", "js", "pub", "atomic", "bench.a", "--create", "--storage", "memory", "--msgs", "250", "--batch", "100", "--dedup"}, "js-pub-atomic", 250},
			{[]string{"bench", "js", "consume", "--msgs", "600", "--clients", "2", "--batch", "50"}, "js-consume", 600},
			{[]string{"bench", "js", "fetch", "--msgs", "750", "--clients", "3", "--batch", "40", "--doubleack"}, "js-fetch", 750},
			{[]string{"bench", "js", "ordered", "--msgs", "750", "--clients", "2"}, "js-ordered", 1500},
			{[]string{"bench", "js", "get", "sync", "--msgs", "100"}, "js-get-sync", 100},
			{[]string{"bench", "js", "pub", "sync", "multi", "--stream", "MULTI", "--create", "--storage", "memory", "--msgs", "30", "--multisubject", "--multisubjectmax", "7", "-H", "K:V"}, "js-pub-sync", 30},
			{[]string{"bench", "js", "get", "batch", "--msgs", "750", "--batch", "100", "--clients", "2"}, "js-get-batch", 750},
			{[]string{"bench", "kv", "put", "--msgs", "200", "--storage", "memory"}, "kv-put", 200},
			{[]string{"bench", "kv", "get", "--msgs", "200", "--clients", "2"}, "kv-get", 200},
			{[]string{"bench", "kv", "get", "--msgs", "50", "--randomize", "400"}, "kv-get", 50},
		} {
			kind, msgs := benchJSON(t, c.args...)
			if kind != c.kind || msgs != c.msgs {
				t.Fatalf("%v: kind %s msgs %d, want %s %d", c.args, kind, msgs, c.kind, c.msgs)
			}
		}
		// The stream holds what was published, once each.
		r := clitest.Run(t, "stream", "info", "benchstream", "--state")
		if !strings.Contains(r.Stdout, "Messages: 750") {
			t.Fatalf("stream after the publishers: %s", r.Stdout)
		}
		// --multisubject spread the messages over 7 subjects, with the header.
		if r = clitest.Run(t, "stream", "subjects", "MULTI", "--names"); strings.Count(r.Stdout, "multi.") != 7 {
			t.Fatalf("multisubject: %s", r.Stdout)
		}
		if r = clitest.Run(t, "stream", "get", "MULTI", "1"); !strings.Contains(r.Stdout, "K: V") {
			t.Fatalf("header: %s", r.Stdout)
		}
		// The durable consumer made for the run is removed after it.
		if r = clitest.Run(t, "consumer", "ls", "benchstream", "--names"); strings.Contains(r.Stdout, "nats-bench") {
			t.Fatalf("consumer left behind: %s", r.Stdout)
		}
		// The report for people names the kind as nats bench does.
		r = clitest.Run(t, "bench", "js", "pub", "sync", "bench.a", "--msgs", "10", "--no-progress")
		if r.Code != 0 || !strings.Contains(r.Stdout, "JetStream synchronous publisher stats:") || !strings.Contains(r.Stdout, "latency:") {
			t.Fatalf("report: %d %s %s", r.Code, r.Stdout, r.Stderr)
		}

		for _, c := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"bench", "js", "pub", "sync", "bench.a", "--storage", "disk"}, 2, "--storage"},
			{[]string{"bench", "js", "pub", "async", "bench.a", "--batch", "0"}, 2, "--batch"},
			{[]string{"bench", "js", "pub", "sync", "bench.a", "--maxbytes", "huge", "--create"}, 2, "--maxbytes"},
			{[]string{"bench", "js", "pub", "sync", "bench.*"}, 2, "wildcard"},
			{[]string{"bench", "js", "pub", "sync", "x", "--stream", "nope"}, 4, `stream "nope" not found`},
			{[]string{"bench", "js", "consume", "--acks", "some"}, 2, "--acks"},
			{[]string{"bench", "js", "consume", "--consumer", "a.b"}, 2, "--consumer"},
			{[]string{"bench", "js", "get", "sync", "--msgs", "100000"}, 2, "--msgs"},
			{[]string{"bench", "js", "fetch", "--stream", "bad name"}, 2, "--stream"},
			{[]string{"bench", "kv", "put", "--history", "0"}, 2, "--history"},
			{[]string{"bench", "kv", "get", "--bucket", "nope"}, 4, `bucket "nope" not found`},
			{[]string{"bench", "kv", "get", "--msgs", "500"}, 4, `key "200" not found`},
			{[]string{"bench", "js", "consume", "--msgs", "10000", "--timeout", "300ms"}, cmdutil.ExitTimeout, "none came"},
		} {
			r := clitest.Run(t, append(c.args, "--no-progress")...)
			if r.Code != c.code || !strings.Contains(r.Stderr, c.want) {
				t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, r.Code, r.Stderr, c.code, c.want)
			}
		}
		// A refused run creates nothing.
		if r := clitest.Run(t, "stream", "ls", "--names"); r.Stdout != "MULTI\nbenchstream\n" {
			t.Fatalf("streams: %q", r.Stdout)
		}
		// The bucket's stream shows with --all, as with natscli.
		if r := clitest.Run(t, "stream", "ls", "--names", "--all"); r.Stdout != "KV_benchbucket\nMULTI\nbenchstream\n" {
			t.Fatalf("streams --all: %q", r.Stdout)
		}
	})
}
