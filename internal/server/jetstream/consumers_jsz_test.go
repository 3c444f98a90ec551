package jetstream_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

var lastActive = regexp.MustCompile(`"last_active":"[^"]*"`)

// TestConsumerJszMatchesReference: consumers in $SYS JSZ (server and
// account) are reported as nats-server reports them.
func TestConsumerJszMatchesReference(t *testing.T) {
	var got [][]string
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, j := refConn(t, url)
		if _, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.FileStorage}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 5; i++ {
			j.Publish(ctx(t), "s.a", []byte("x"))
		}
		addConsumer(t, nc, `{"durable_name":"D","ack_policy":"explicit"}`)
		addConsumer(t, nc, `{"durable_name":"E","ack_policy":"none","filter_subject":"s.b"}`)
		p := newPuller(t, nc)
		p.pull("D", `{"batch":2}`)
		p.next()
		p.next()
		sys, err := nats.Connect(url, nats.UserInfo(srvtest.SysUser, srvtest.SysPass))
		if err != nil {
			t.Fatal(err)
		}
		defer sys.Close()
		var out []string
		for _, q := range []struct{ subj, body string }{
			{"$SYS.REQ.SERVER.PING.JSZ", `{"accounts":true,"streams":true,"consumer":true}`},
			{"$SYS.REQ.ACCOUNT.A.JSZ", `{"streams":true,"consumer":true,"config":true}`},
		} {
			m, err := sys.Request(q.subj, []byte(q.body), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			d := normalize(m.Data)
			i := strings.Index(d, `"consumer_detail"`)
			if i < 0 {
				t.Fatalf("%s %s: no consumer_detail in %s", q.subj, q.body, d)
			}
			out = append(out, q.subj+" "+q.body+"\n"+lastActive.ReplaceAllString(d[i:], `"last_active":"T"`))
		}
		got = append(got, out)
	})
	if len(got) == 2 {
		for i := range got[0] {
			if got[0][i] != got[1][i] {
				t.Errorf("nats-server:\n%s\nsluice:\n%s", got[0][i], got[1][i])
			}
		}
	}
}

// TestConsumerServerReport: `sluice server report jetstream` counts the
// consumers, on both servers, for the server and for one account.
func TestConsumerServerReport(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, j := refConn(t, url)
		if _, err := j.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		j.Publish(ctx(t), "s.a", []byte("x"))
		for _, n := range []string{"C1", "C2", "C3"} {
			addConsumer(t, nc, `{"durable_name":"`+n+`","ack_policy":"explicit"}`)
		}
		srvtest.ActAs(t, srvtest.SysUser, srvtest.SysPass)
		t.Setenv("NATS_URL", url)
		for _, args := range [][]string{{"server", "report", "jetstream"}, {"server", "report", "jetstream", "--account", "A"}} {
			r := clitest.Run(t, args...)
			clitest.ExpectCode(t, r, 0)
			// Streams 1, consumers 3, messages 1 in the server's row.
			if !regexp.MustCompile(`\|\s+1\s+\|\s+3\s+\|\s+1\s+\|`).MatchString(r.Stdout) {
				t.Fatalf("%v:\n%s", args, r.Stdout)
			}
		}
	})
}
