package jetstream_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/testutil"
)

// waitMsgs polls a stream until it holds n messages.
func waitMsgs(t *testing.T, j jetstream.JetStream, name string, n uint64) *jetstream.StreamInfo {
	t.Helper()
	var si *jetstream.StreamInfo
	testutil.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		st, err := j.Stream(ctx(t), name)
		if err != nil {
			return err
		}
		if si, err = st.Info(ctx(t)); err != nil {
			return err
		}
		if si.State.Msgs != n {
			return fmt.Errorf("%s holds %d, want %d", name, si.State.Msgs, n)
		}
		return nil
	})
	return si
}

func spub(t *testing.T, j jetstream.JetStream, subj string, n int, opts ...jetstream.PublishOpt) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := j.Publish(ctx(t), subj, []byte(fmt.Sprintf("m%d", i)), opts...); err != nil {
			t.Fatalf("publish %s: %v", subj, err)
		}
	}
}

func TestMirrorAndSourcesBothServers(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, err := nats.Connect(url, nats.UserInfo(srvtest.AppUser, srvtest.AppPass))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		j, _ := jetstream.New(nc)
		c := ctx(t)
		if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "O", Subjects: []string{"o.>"}, AllowDirect: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.*"}}); err != nil {
			t.Fatal(err)
		}
		spub(t, j, "o.a", 5)
		spub(t, j, "o.b", 5)
		spub(t, j, "p.x", 3)
		// Mirror from the 3rd message, filtered.
		if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O", OptStartSeq: 3, FilterSubject: "o.a"}}); err != nil {
			t.Fatal(err)
		}
		si := waitMsgs(t, j, "M", 3)
		if si.Mirror == nil || si.Mirror.Name != "O" || si.Mirror.FilterSubject != "o.a" {
			t.Fatalf("mirror info %+v", si.Mirror)
		}
		if !si.Config.MirrorDirect {
			t.Fatal("mirror_direct not inherited from allow_direct")
		}
		// A mirror keeps the origin's sequences.
		ms, _ := j.Stream(c, "M")
		if m, err := ms.GetMsg(c, 3); err != nil || m.Subject != "o.a" {
			t.Fatalf("mirror seq 3: %v %+v", err, m)
		}
		// Sources with transforms (two on one source) and a filter.
		_, err = j.CreateStream(c, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.own"}, Sources: []*jetstream.StreamSource{
			{Name: "O", SubjectTransforms: []jetstream.SubjectTransformConfig{{Source: "o.a", Destination: "s.a"}, {Source: "o.b", Destination: "s.b"}}},
			{Name: "P", FilterSubject: "p.x"},
		}})
		if err != nil {
			t.Fatal(err)
		}
		si = waitMsgs(t, j, "S", 13)
		if len(si.Sources) != 2 {
			t.Fatalf("sources %+v", si.Sources)
		}
		ss, _ := j.Stream(c, "S")
		m, err := ss.GetLastMsgForSubject(c, "s.b")
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Header.Get("Nats-Stream-Source"); !strings.HasPrefix(got, "O 10 o.a\fo.b s.a\fs.b o.b ") || len(got) != len("O 10 o.a\fo.b s.a\fs.b o.b ")+8 {
			t.Fatalf("Nats-Stream-Source %q", got)
		}
		m, _ = ss.GetLastMsgForSubject(c, "p.x")
		if got := m.Header.Get("Nats-Stream-Source"); !strings.HasPrefix(got, "P 3 p.x > p.x ") {
			t.Fatalf("Nats-Stream-Source %q", got)
		}
		// New messages keep flowing; client publishes mix in.
		spub(t, j, "o.a", 2)
		spub(t, j, "s.own", 1)
		waitMsgs(t, j, "S", 16)
		waitMsgs(t, j, "M", 5)

		// Bad configs.
		for _, bad := range []struct {
			cfg  jetstream.StreamConfig
			code jetstream.ErrorCode
		}{
			{jetstream.StreamConfig{Name: "B1", Subjects: []string{"b1"}, Mirror: &jetstream.StreamSource{Name: "O"}}, 10034},
			{jetstream.StreamConfig{Name: "B2", Mirror: &jetstream.StreamSource{Name: "O"}, Sources: []*jetstream.StreamSource{{Name: "P"}}}, 10031},
			{jetstream.StreamConfig{Name: "B3", Sources: []*jetstream.StreamSource{{Name: "P"}, {Name: "P"}}}, 10140},
			{jetstream.StreamConfig{Name: "B4", Sources: []*jetstream.StreamSource{{Name: "P", FilterSubject: "p.x",
				SubjectTransforms: []jetstream.SubjectTransformConfig{{Source: "p.y", Destination: "q"}}}}}, 10144},
			{jetstream.StreamConfig{Name: "B5", Mirror: &jetstream.StreamSource{Name: "O",
				SubjectTransforms: []jetstream.SubjectTransformConfig{{Source: "o.*", Destination: "x"}, {Source: "o.a", Destination: "y"}}}}, 10152},
			{jetstream.StreamConfig{Name: "B6", Mirror: &jetstream.StreamSource{Name: "O"}, FirstSeq: 5}, 10143},
			{jetstream.StreamConfig{Name: "B7", Sources: []*jetstream.StreamSource{{Name: "a.b"}}}, 10141},
		} {
			_, err := j.CreateStream(c, bad.cfg)
			var apiErr *jetstream.APIError
			if err == nil || !asAPIError(err, &apiErr) || apiErr.ErrorCode != bad.code {
				t.Errorf("%s: %v, want err_code %d", bad.cfg.Name, err, bad.code)
			}
		}
		// The mirror config can not change, but can go (promotion).
		mcfg := si.Config
		mcfg.Name = "M"
		mi, _ := ms.Info(c)
		upd := mi.Config
		upd.Mirror = &jetstream.StreamSource{Name: "P"}
		if _, err := j.UpdateStream(c, upd); err == nil || !strings.Contains(err.Error(), "can not be updated") {
			t.Fatalf("mirror update: %v", err)
		}
		upd.Mirror = nil
		if _, err := j.UpdateStream(c, upd); err != nil {
			t.Fatalf("promote: %v", err)
		}
	})
}

func asAPIError(err error, target **jetstream.APIError) bool {
	for err != nil {
		if e, ok := err.(*jetstream.APIError); ok {
			*target = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}
