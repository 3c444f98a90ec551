package jetstream_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
)

// normalize blanks what legitimately differs between two servers: times,
// server identity, version metadata and the API level.
var normalizers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`"(created|ts|first_ts|last_ts|time)":"[^"]*"`), `"$1":"T"`},
	{regexp.MustCompile(`"cluster":\{[^}]*\}`), `"cluster":{}`},
	{regexp.MustCompile(`"_nats\.(ver|level)":"[^"]*"`), `"_nats.$1":"X"`},
	{regexp.MustCompile(`"level":\d+`), `"level":0`},
	{regexp.MustCompile(`"total":\d+,"errors":\d+`), `"total":0,"errors":0`},
}

func normalize(b []byte) string {
	s := string(b)
	for _, n := range normalizers {
		s = n.re.ReplaceAllString(s, n.with)
	}
	return s
}

// TestAPIMatchesReference sends the same requests and publishes to sluice
// and to nats-server v2.15.2 and compares the answers byte for byte once
// times and identities are blanked.
func TestAPIMatchesReference(t *testing.T) {
	ref := srvtest.Reference(t, srvtest.RefOptions{JetStream: true})
	dir := t.TempDir()
	cf := filepath.Join(dir, "sl.conf")
	os.WriteFile(cf, []byte(fmt.Sprintf(`jetstream { store_dir: %q }
accounts { SYS { users: [{user: sys, password: sys}] }, A { users: [{user: a, password: a}], jetstream: enabled } }
system_account: SYS
`, dir)), 0o600)
	var opts server.Options
	if _, err := opts.ProcessConfigFile(cf, true); err != nil {
		t.Fatal(err)
	}
	opts.Host, opts.Port = "127.0.0.1", server.RandomPort
	sl := testutil.RunServer(t, func(o *server.Options) { *o = opts })

	type step struct {
		subj, body string
		hdr        map[string]string
	}
	steps := []step{
		{subj: "$JS.API.STREAM.CREATE.T", body: `{"name":"T","subjects":["t.>"],"storage":"memory","allow_direct":true,"allow_rollup_hdrs":true}`},
		{subj: "$JS.API.STREAM.CREATE.T", body: `{"name":"T","subjects":["x"]}`},
		{subj: "$JS.API.STREAM.CREATE.U", body: `{"name":"T"}`},
		{subj: "$JS.API.STREAM.CREATE.U", body: `{"name":"U","subjects":["t.a"]}`},
		{subj: "$JS.API.STREAM.CREATE.V", body: `{"name":"V","max_age":10}`},
		{subj: "$JS.API.STREAM.CREATE.V", body: `{"name":"V","num_replicas":3}`},
		{subj: "$JS.API.STREAM.CREATE.V", body: `{"name":"V","bogus":1}`},
		{subj: "$JS.API.STREAM.CREATE.V", body: `{"name":"V",`},
		{subj: "$JS.API.STREAM.CREATE.V", body: `{"name":"V","subjects":["$JS.API.>"]}`},
		{subj: "$JS.API.STREAM.CREATE.V", body: `{"name":"V","deny_purge":true,"allow_rollup_hdrs":true}`},
		{subj: "t.a", body: "1"},
		{subj: "t.a", body: "2", hdr: map[string]string{"Nats-Msg-Id": "m1"}},
		{subj: "t.a", body: "2", hdr: map[string]string{"Nats-Msg-Id": "m1"}},
		{subj: "t.b", body: "3", hdr: map[string]string{"Nats-Expected-Last-Sequence": "9"}},
		{subj: "t.b", body: "3", hdr: map[string]string{"Nats-Expected-Stream": "Z"}},
		{subj: "t.b", body: "3", hdr: map[string]string{"Nats-Expected-Last-Subject-Sequence": "0"}},
		{subj: "t.b", body: "4", hdr: map[string]string{"Nats-Expected-Last-Subject-Sequence": "0"}},
		{subj: "t.b", body: "4", hdr: map[string]string{"Nats-Expected-Last-Msg-Id": "nope"}},
		{subj: "t.b", body: "4", hdr: map[string]string{"Nats-TTL": "5s"}},
		{subj: "t.b", body: "4", hdr: map[string]string{"Nats-Incr": "1"}},
		{subj: "t.b", body: "4", hdr: map[string]string{"Nats-Rollup": "bad"}},
		{subj: "t.c", body: "5", hdr: map[string]string{"Nats-Rollup": "sub"}},
		{subj: "$JS.API.STREAM.INFO.T", body: `{"subjects_filter":">","deleted_details":true}`},
		{subj: "$JS.API.STREAM.INFO.NOPE"},
		{subj: "$JS.API.STREAM.NAMES", body: `{"subject":"t.x"}`},
		{subj: "$JS.API.STREAM.LIST"},
		{subj: "$JS.API.STREAM.MSG.GET.T", body: `{"seq":1}`},
		{subj: "$JS.API.STREAM.MSG.GET.T", body: `{"last_by_subj":"t.b"}`},
		{subj: "$JS.API.STREAM.MSG.GET.T", body: `{"seq":99}`},
		{subj: "$JS.API.STREAM.MSG.GET.T", body: `{}`},
		{subj: "$JS.API.DIRECT.GET.T", body: `{"seq":2}`},
		{subj: "$JS.API.DIRECT.GET.T", body: `{"seq":99}`},
		{subj: "$JS.API.DIRECT.GET.T", body: `{}`},
		{subj: "$JS.API.DIRECT.GET.T", body: `{"seq":1,"last_by_subj":"t.a"}`},
		{subj: "$JS.API.DIRECT.GET.T.t.b"},
		{subj: "$JS.API.DIRECT.GET.T", body: `{"seq":1,"batch":2}`},
		{subj: "$JS.API.STREAM.MSG.DELETE.T", body: `{"seq":1,"no_erase":true}`},
		{subj: "$JS.API.STREAM.MSG.DELETE.T", body: `{"seq":1}`},
		{subj: "$JS.API.STREAM.PURGE.T", body: `{"filter":"t.c"}`},
		{subj: "$JS.API.STREAM.LEADER.STEPDOWN.T"},
		{subj: "$JS.API.STREAM.UPDATE.T", body: `{"name":"T","subjects":["t.>"],"storage":"file"}`},
		{subj: "$JS.API.STREAM.UPDATE.NOPE", body: `{"name":"NOPE"}`},
		{subj: "$JS.API.STREAM.DELETE.T"},
		{subj: "$JS.API.STREAM.DELETE.T"},
		{subj: "$JS.API.STREAM.CREATE.W", body: `{"name":"W","retention":"workqueue","subjects":["w.>"],"storage":"memory","allow_atomic":true,"allow_msg_schedules":true,"allow_msg_ttl":true}`},
		{subj: "$JS.API.STREAM.UPDATE.W", body: `{"name":"W","retention":"limits","subjects":["w.>"],"storage":"memory"}`},
		{subj: "$JS.API.STREAM.CREATE.I", body: `{"name":"I","retention":"interest","subjects":["i"],"storage":"memory","discard_new_per_subject":true}`},
		{subj: "$JS.API.STREAM.CREATE.I", body: `{"name":"I","subjects":["i"],"storage":"memory","subject_delete_marker_ttl":500000000}`},
		{subj: "$JS.API.STREAM.CREATE.I", body: `{"name":"I","subjects":["i"],"storage":"memory","allow_msg_counter":true,"discard":"new"}`},
		{subj: "$JS.API.STREAM.CREATE.I", body: `{"name":"I","subjects":["i"],"storage":"memory","persist_mode":"async"}`},
		{subj: "w.1", body: "a", hdr: map[string]string{"Nats-Batch-Id": "b1", "Nats-Batch-Sequence": "1"}},
		{subj: "w.2", body: "b", hdr: map[string]string{"Nats-Batch-Id": "b1", "Nats-Batch-Sequence": "2", "Nats-Batch-Commit": "1"}},
		{subj: "w.3", body: "c", hdr: map[string]string{"Nats-Batch-Id": "b2", "Nats-Batch-Sequence": "2"}},
		{subj: "w.3", body: "c", hdr: map[string]string{"Nats-Batch-Id": "b3"}},
		{subj: "w.s", body: "s", hdr: map[string]string{"Nats-Schedule": "@every 1h", "Nats-Schedule-Target": "w.t"}},
		{subj: "w.s", body: "s", hdr: map[string]string{"Nats-Schedule": "@every 1ms", "Nats-Schedule-Target": "w.t"}},
		{subj: "w.s", body: "s", hdr: map[string]string{"Nats-Schedule": "@every 1h", "Nats-Schedule-Target": "elsewhere"}},
		{subj: "w.s", body: "s", hdr: map[string]string{"Nats-Schedule": "@every 1h", "Nats-Schedule-Target": "w.t", "Nats-Schedule-TTL": "x"}},
		{subj: "w.s", body: "s", hdr: map[string]string{"Nats-Schedule": "0 0 * * * *", "Nats-Schedule-Target": "w.t", "Nats-Schedule-Time-Zone": "Mars/Base"}},
		{subj: "$JS.API.STREAM.DELETE.W"},
	}
	run := func(url string) []string {
		nc, err := nats.Connect(url, nats.UserInfo("a", "a"))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		var out []string
		for _, st := range steps {
			m := nats.NewMsg(st.subj)
			m.Data = []byte(st.body)
			for k, v := range st.hdr {
				m.Header.Set(k, v)
			}
			r, err := nc.RequestMsg(m, 5*time.Second)
			if err != nil {
				out = append(out, "error: "+err.Error())
				continue
			}
			// Direct gets answer with headers: compare them without the time.
			r.Header.Del("Nats-Time-Stamp")
			hb, _ := json.Marshal(r.Header)
			out = append(out, normalize(r.Data)+" "+string(hb))
		}
		return out
	}
	got, want := run(sl.ClientURL()), run(ref.URL)
	// An account without JetStream (here the system account).
	for _, subj := range []string{"$JS.API.INFO", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.CREATE.Q"} {
		var answers [2]string
		for i, url := range []string{sl.ClientURL(), ref.URL} {
			nc, err := nats.Connect(url, nats.UserInfo("sys", "sys"))
			if err != nil {
				t.Fatal(err)
			}
			r, err := nc.Request(subj, []byte(`{"name":"Q"}`), 5*time.Second)
			if err != nil {
				answers[i] = "error: " + err.Error()
			} else {
				answers[i] = normalize(r.Data)
			}
			nc.Close()
		}
		if answers[0] != answers[1] {
			t.Errorf("system account %s\n sluice:      %s\n nats-server: %s", subj, answers[0], answers[1])
		}
	}
	for i := range steps {
		if got[i] != want[i] {
			var a, b any
			json.Unmarshal([]byte(got[i]), &a)
			json.Unmarshal([]byte(want[i]), &b)
			t.Errorf("%s %s %v\n sluice:      %s\n nats-server: %s", steps[i].subj, steps[i].body, steps[i].hdr, got[i], want[i])
		}
	}
}
