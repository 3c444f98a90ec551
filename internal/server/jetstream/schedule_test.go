package jetstream_test

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/testutil"
)

func TestMessageSchedules(t *testing.T) {
	s := runJS(t)
	nc, j := connectJS(t, s)
	c := ctx(t)
	st, err := j.CreateStream(c, jetstream.StreamConfig{Name: "S", Subjects: []string{"sched.>", "out.>"}, Storage: jetstream.MemoryStorage, AllowMsgSchedules: true})
	if err != nil {
		t.Fatal(err)
	}
	pub := func(subj string, kv ...string) error {
		m := nats.NewMsg(subj)
		m.Data = []byte("payload")
		for i := 0; i+1 < len(kv); i += 2 {
			m.Header.Set(kv[i], kv[i+1])
		}
		_, err := j.PublishMsg(c, m)
		return err
	}
	at := time.Now().Add(time.Second).UTC().Format(time.RFC3339)
	if err := pub("sched.once", "Nats-Schedule", "@at "+at, "Nats-Schedule-Target", "out.once"); err != nil {
		t.Fatal(err)
	}
	testutil.CheckFor(t, 5*time.Second, 50*time.Millisecond, func() error {
		m, err := st.GetLastMsgForSubject(c, "out.once")
		if err != nil {
			return err
		}
		if m.Header.Get("Nats-Scheduler") != "sched.once" || m.Header.Get("Nats-Schedule-Next") != "purge" || string(m.Data) != "payload" {
			t.Fatalf("scheduled message %v %q", m.Header, m.Data)
		}
		return nil
	})
	if _, err := st.GetLastMsgForSubject(c, "sched.once"); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Fatalf("one-shot schedule left behind: %v", err)
	}
	for _, bad := range [][]string{
		{"Nats-Schedule", "@every 10ms", "Nats-Schedule-Target", "out.x"},
		{"Nats-Schedule", "@every 1s", "Nats-Schedule-Target", "elsewhere"},
		{"Nats-Schedule", "@every 1s"},
		{"Nats-Schedule", "1 2 3", "Nats-Schedule-Target", "out.x"},
	} {
		if err := pub("sched.bad", bad...); err == nil {
			t.Fatalf("schedule %v accepted", bad)
		}
	}
	if err := pub("sched.cron", "Nats-Schedule", "*/1 * * * * *", "Nats-Schedule-Target", "out.cron"); err != nil {
		t.Fatalf("cron schedule: %v", err)
	}
	testutil.CheckFor(t, 5*time.Second, 50*time.Millisecond, func() error {
		_, err := st.GetLastMsgForSubject(c, "out.cron")
		return err
	})
	_ = nc
}

// max_age removing the last message of a subject leaves a delete marker.
func TestSubjectDeleteMarker(t *testing.T) {
	s := runJS(t)
	_, j := connectJS(t, s)
	c := ctx(t)
	st, err := j.CreateStream(c, jetstream.StreamConfig{Name: "SDM", Storage: jetstream.MemoryStorage, MaxAge: time.Second, SubjectDeleteMarkerTTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	info, _ := st.Info(c)
	if !info.Config.AllowMsgTTL || !info.Config.AllowRollup {
		t.Fatalf("sdm did not force ttl and rollups: %+v", info.Config)
	}
	if _, err := j.Publish(c, "SDM", []byte("x")); err != nil {
		t.Fatal(err)
	}
	testutil.CheckFor(t, 5*time.Second, 50*time.Millisecond, func() error {
		m, err := st.GetLastMsgForSubject(c, "SDM")
		if err != nil {
			return err
		}
		if m.Header.Get("Nats-Marker-Reason") != "MaxAge" {
			return errors.New("no marker yet")
		}
		return nil
	})
}
