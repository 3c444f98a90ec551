package jetstream_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
)

// Counter streams sourcing counter streams add up their totals as
// nats-server 2.12+ does: each sourced message's value replaces what
// that source last gave for that subject (Nats-Counter-Sources records
// it, Nats-Incr becomes the difference); a plain stream sourcing a
// counter stream stores its messages as they are; a publish carrying
// Nats-Stream-Source is refused. Same results on both servers.
func TestCounterSourcingMatchesReference(t *testing.T) {
	var got []string
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, j := refConn(t, url)
		c := ctx(t)
		for _, cfg := range []jetstream.StreamConfig{
			{Name: "EU", Subjects: []string{"eu.>"}, AllowMsgCounter: true},
			{Name: "US", Subjects: []string{"us.>"}, AllowMsgCounter: true},
			{Name: "ALL", Subjects: []string{"all.>"}, AllowMsgCounter: true, Sources: []*jetstream.StreamSource{
				{Name: "EU", SubjectTransforms: []jetstream.SubjectTransformConfig{{Source: "eu.>", Destination: "all.>"}}},
				{Name: "US", SubjectTransforms: []jetstream.SubjectTransformConfig{{Source: "us.>", Destination: "all.>"}}},
			}},
			{Name: "COPY", Sources: []*jetstream.StreamSource{{Name: "EU"}}},
		} {
			if _, err := j.CreateStream(c, cfg); err != nil {
				t.Fatalf("%s: %v", cfg.Name, err)
			}
		}
		incr := func(subj, by string) {
			t.Helper()
			m := nats.NewMsg(subj)
			m.Header.Set("Nats-Incr", by)
			r, err := nc.RequestMsg(m, 5*time.Second)
			if err != nil {
				t.Fatalf("incr %s %s: %v", subj, by, err)
			}
			if strings.Contains(string(r.Data), `"error"`) {
				t.Fatalf("incr %s %s: %s", subj, by, r.Data)
			}
		}
		incr("eu.hits", "5")
		incr("us.hits", "3")
		incr("eu.hits", "2")
		incr("eu.misses", "1")
		incr("us.hits", "-1")
		waitMsgs(t, j, "ALL", 5)
		waitMsgs(t, j, "COPY", 3)
		var out []string
		for _, q := range []struct{ stream, subj string }{{"ALL", "all.hits"}, {"ALL", "all.misses"}, {"COPY", "eu.hits"}} {
			st, _ := j.Stream(c, q.stream)
			m, err := st.GetLastMsgForSubject(c, q.subj)
			if err != nil {
				t.Fatalf("%s %s: %v", q.stream, q.subj, err)
			}
			line := fmt.Sprintf("%s %s: %s sources=%s", q.stream, q.subj, m.Data, m.Header.Get("Nats-Counter-Sources"))
			if q.stream == "COPY" { // ALL's last increment depends on which source came last
				line += " incr=" + m.Header.Get("Nats-Incr")
			}
			out = append(out, line)
		}
		// A direct increment after sourced ones keeps the sources.
		incr("all.hits", "100")
		st, _ := j.Stream(c, "ALL")
		m, err := st.GetLastMsgForSubject(c, "all.hits")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("direct: %s sources=%s", m.Data, m.Header.Get("Nats-Counter-Sources")))
		// Publishing a Nats-Stream-Source header.
		pm := nats.NewMsg("us.hits")
		pm.Header.Set("Nats-Incr", "1")
		pm.Header.Set("Nats-Stream-Source", "X 1 > > us.hits")
		r, err := nc.RequestMsg(pm, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var resp struct {
			Error *struct {
				ErrCode int `json:"err_code"`
			} `json:"error"`
		}
		json.Unmarshal(r.Data, &resp)
		out = append(out, fmt.Sprintf("source header published: %+v", resp.Error))
		got = append(got, strings.Join(out, "\n"))
	})
	if len(got) == 2 && got[0] != got[1] {
		t.Errorf("nats-server:\n%s\nsluice:\n%s", got[0], got[1])
	}
	if len(got) > 0 {
		t.Logf("nats-server:\n%s", got[0])
	}
}
