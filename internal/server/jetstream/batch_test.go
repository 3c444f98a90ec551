package jetstream_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func batchMsg(subj, id string, seq int, commit string, extra ...string) *nats.Msg {
	m := nats.NewMsg(subj)
	m.Data = []byte("b" + strconv.Itoa(seq))
	m.Header.Set("Nats-Batch-Id", id)
	m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(seq))
	if commit != "" {
		m.Header.Set("Nats-Batch-Commit", commit)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m.Header.Set(extra[i], extra[i+1])
	}
	return m
}

func TestAtomicBatch(t *testing.T) {
	s := runJS(t)
	nc, j := connectJS(t, s)
	c := ctx(t)
	st, err := j.CreateStream(c, jetstream.StreamConfig{Name: "B", Subjects: []string{"b.>"}, Storage: jetstream.MemoryStorage, AllowAtomicPublish: true})
	if err != nil {
		t.Fatal(err)
	}
	req := func(m *nats.Msg) string {
		r, err := nc.RequestMsg(m, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return string(r.Data)
	}
	if r := req(batchMsg("b.a", "one", 1, "")); r != "" {
		t.Fatalf("staged reply %q", r)
	}
	req(batchMsg("b.b", "one", 2, ""))
	if r := req(batchMsg("b.c", "one", 3, "1")); r != `{"stream":"B","seq":3,"batch":"one","count":3}` {
		t.Fatalf("commit ack %s", r)
	}
	// A batch whose second message breaks an expectation stores nothing.
	req(batchMsg("b.a", "two", 1, ""))
	req(batchMsg("b.b", "two", 2, "", "Nats-Expected-Last-Subject-Sequence", "99"))
	if r := req(batchMsg("b.c", "two", 3, "1")); !strings.Contains(r, `"err_code":10071`) {
		t.Fatalf("failed batch ack %s", r)
	}
	info, _ := st.Info(c)
	if info.State.Msgs != 3 || info.State.LastSeq != 3 {
		t.Fatalf("after failed batch %+v", info.State)
	}
	// Gaps, missing sequences and bad commits.
	if r := req(batchMsg("b.a", "three", 2, "")); !strings.Contains(r, "10176") {
		t.Fatalf("batch not starting at 1: %s", r)
	}
	m := batchMsg("b.a", "four", 1, "")
	m.Header.Del("Nats-Batch-Sequence")
	if r := req(m); !strings.Contains(r, "10175") {
		t.Fatalf("missing seq: %s", r)
	}
	req(batchMsg("b.a", "five", 1, ""))
	if r := req(batchMsg("b.a", "five", 2, "yes")); !strings.Contains(r, "10200") {
		t.Fatalf("bad commit: %s", r)
	}
	// eob commits the messages before it.
	req(batchMsg("b.a", "six", 1, ""))
	if r := req(batchMsg("b.a", "six", 2, "eob")); r != `{"stream":"B","seq":4,"batch":"six","count":1}` {
		t.Fatalf("eob commit %s", r)
	}
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "NB", Subjects: []string{"nb"}, Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	if r := req(batchMsg("nb", "x", 1, "1")); !strings.Contains(r, "10174") {
		t.Fatalf("batch on a stream without allow_atomic: %s", r)
	}
}
