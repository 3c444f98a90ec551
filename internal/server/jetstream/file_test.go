package jetstream_test

import (
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/server"
	js "github.com/sluicehq/sluice/internal/server/jetstream"
	"github.com/sluicehq/sluice/internal/testutil"
)

// File streams survive a restart with their config, messages and dedupe
// window.
func TestFileStreamRestart(t *testing.T) {
	dir := t.TempDir()
	opts := func(o *server.Options) { o.JetStream = &js.Config{Enabled: true, StoreDir: dir} }
	s := testutil.RunServer(t, opts)
	_, j := connectJS(t, s)
	c := ctx(t)
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "F", Subjects: []string{"f.>"}, MaxMsgsPerSubject: 3}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := j.Publish(c, fmt.Sprintf("f.%d", i%4), []byte("data"), jetstream.WithMsgID(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	s.Shutdown()
	s = testutil.RunServer(t, opts)
	_, j = connectJS(t, s)
	st, err := j.Stream(c, "F")
	if err != nil {
		t.Fatalf("stream after restart: %v", err)
	}
	info, _ := st.Info(c)
	if info.State.Msgs != 12 || info.State.LastSeq != 20 || info.Config.MaxMsgsPerSubject != 3 || info.Config.Storage != jetstream.FileStorage {
		t.Fatalf("after restart: %+v %+v", info.State, info.Config)
	}
	ack, err := j.Publish(c, "f.1", nil, jetstream.WithMsgID("19"))
	if err != nil || !ack.Duplicate || ack.Sequence != 20 {
		t.Fatalf("dedupe after restart: %v %+v", err, ack)
	}
	// Ids of messages gone (per-subject limit) are not kept, as before
	// the restart; the last message's id is.
	if ack, err := j.Publish(c, "f.1", nil, jetstream.WithMsgID("1")); err != nil || ack.Duplicate || ack.Sequence != 21 {
		t.Fatalf("id of a removed message after restart: %v %+v", err, ack)
	}
	if _, err := j.Publish(c, "f.2", nil, jetstream.WithExpectLastMsgID("1")); err != nil {
		t.Fatalf("expected last msg id after restart: %v", err)
	}
	// The last message has no id now: a restart must not bring one back.
	s.Shutdown()
	s = testutil.RunServer(t, opts)
	_, j = connectJS(t, s)
	if _, err := j.Publish(c, "f.2", nil, jetstream.WithExpectLastMsgID("1")); err == nil {
		t.Fatal("expected last msg id matched a message that has none after restart")
	}
	if ack, err := j.Publish(c, "f.3", nil, jetstream.WithMsgID("19")); err != nil || !ack.Duplicate || ack.Sequence != 20 {
		t.Fatalf("dedupe after a second restart: %v %+v", err, ack)
	}
	if err := j.DeleteStream(c, "F"); err != nil {
		t.Fatal(err)
	}
}
