package jetstream_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/auth"
	js "github.com/sluicehq/sluice/internal/server/jetstream"
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
			var errs []string
			for _, src := range append(si.Sources, si.Mirror) {
				if src != nil && src.Error != nil {
					errs = append(errs, src.Error.Error())
				}
			}
			return fmt.Errorf("%s holds %d, want %d %v", name, si.State.Msgs, n, errs)
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

// A mirror and a sourcing stream resume after a restart with neither
// duplicates nor gaps, while the origin kept growing.
func TestSourcesResumeAfterRestart(t *testing.T) {
	dir := t.TempDir()
	opts := func(o *server.Options) { o.JetStream = &js.Config{Enabled: true, StoreDir: dir} }
	s := testutil.RunServer(t, opts)
	_, j := connectJS(t, s)
	c := ctx(t)
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "O", Subjects: []string{"o.*"}}); err != nil {
		t.Fatal(err)
	}
	spub(t, j, "o.a", 50)
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "S", Sources: []*jetstream.StreamSource{{Name: "O"}}}); err != nil {
		t.Fatal(err)
	}
	waitMsgs(t, j, "M", 50)
	waitMsgs(t, j, "S", 50)
	s.Shutdown()
	s = testutil.RunServer(t, opts)
	_, j = connectJS(t, s)
	spub(t, j, "o.b", 25)
	waitMsgs(t, j, "M", 75)
	si := waitMsgs(t, j, "S", 75)
	if si.State.LastSeq != 75 {
		t.Fatalf("source after restart: %+v", si.State)
	}
	st, _ := j.Stream(c, "S")
	for seq := uint64(1); seq <= 75; seq++ {
		m, err := st.GetMsg(c, seq)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("O %d > > ", seq)
		if got := m.Header.Get("Nats-Stream-Source"); !strings.HasPrefix(got, want) {
			t.Fatalf("seq %d: header %q, want %q...", seq, got, want)
		}
	}
}

// nats.go's KV mirror and source options.
func TestKVMirrorAndSources(t *testing.T) {
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, err := nats.Connect(url, nats.UserInfo(srvtest.AppUser, srvtest.AppPass))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		j, _ := jetstream.New(nc)
		c := ctx(t)
		a, err := j.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "A"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := j.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "B"})
		if err != nil {
			t.Fatal(err)
		}
		a.PutString(c, "k1", "a1")
		a.PutString(c, "k2", "a2")
		b.PutString(c, "k3", "b3")
		m, err := j.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "MA", Mirror: &jetstream.StreamSource{Name: "A"}})
		if err != nil {
			t.Fatal(err)
		}
		agg, err := j.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "AGG", Sources: []*jetstream.StreamSource{{Name: "A"}, {Name: "B"}}})
		if err != nil {
			t.Fatal(err)
		}
		waitMsgs(t, j, "KV_MA", 2)
		testutil.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
			for _, kv := range []struct{ key, val string }{{"k1", "a1"}, {"k3", "b3"}} {
				e, err := agg.Get(ctx(t), kv.key)
				if err != nil {
					return fmt.Errorf("AGG %s: %v", kv.key, err)
				}
				if string(e.Value()) != kv.val {
					return fmt.Errorf("AGG %s = %q", kv.key, e.Value())
				}
			}
			return nil
		})
		// The mirror holds the origin's subjects; a put through it goes
		// to the origin and comes back.
		ms, _ := j.Stream(c, "KV_MA")
		if msg, err := ms.GetLastMsgForSubject(c, "$KV.A.k2"); err != nil || string(msg.Data) != "a2" {
			t.Fatalf("mirror k2: %v", err)
		}
		if _, err := m.PutString(c, "k4", "via mirror"); err != nil {
			t.Fatal(err)
		}
		// Direct gets of A may be answered by its mirror (mirror_direct),
		// which gets k4 a moment later.
		testutil.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
			if e, err := a.Get(ctx(t), "k4"); err != nil || string(e.Value()) != "via mirror" {
				return fmt.Errorf("origin k4: %v", err)
			}
			return nil
		})
		waitMsgs(t, j, "KV_MA", 3)
	})
}

// A source whose origin goes away shows an error, and resumes where it
// left off when the origin comes back.
func TestSourceOriginComesBack(t *testing.T) {
	js.SetSourceTimingsForTest(t, 200*time.Millisecond, time.Second, 100*time.Millisecond)
	s := runJS(t)
	_, j := connectJS(t, s)
	c := ctx(t)
	ocfg := jetstream.StreamConfig{Name: "O", Subjects: []string{"o.*"}, Storage: jetstream.MemoryStorage}
	if _, err := j.CreateStream(c, ocfg); err != nil {
		t.Fatal(err)
	}
	spub(t, j, "o.a", 10)
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "S", Sources: []*jetstream.StreamSource{{Name: "O"}}}); err != nil {
		t.Fatal(err)
	}
	waitMsgs(t, j, "S", 10)
	if err := j.DeleteStream(c, "O"); err != nil {
		t.Fatal(err)
	}
	testutil.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		st, _ := j.Stream(c, "S")
		si, err := st.Info(c)
		if err != nil {
			return err
		}
		if len(si.Sources) != 1 || si.Sources[0].Error == nil {
			return fmt.Errorf("no source error yet: %+v", si.Sources[0])
		}
		return nil
	})
	if _, err := j.CreateStream(c, ocfg); err != nil {
		t.Fatal(err)
	}
	spub(t, j, "o.b", 3)
	// Recreated: its sequences start over, and are all taken.
	si := waitMsgs(t, j, "S", 13)
	if si.Sources[0].Error != nil {
		t.Fatalf("error after recovery: %+v", si.Sources[0].Error)
	}
}

// A stream in account B sources and mirrors a stream of account A through
// imports of A's consumer API, deliver subjects and flow control, with an
// external api and deliver prefix; a domain prefix reaches the same
// server's API.
func TestSourcesAcrossAccountsAndDomain(t *testing.T) {
	js.SetSourceTimingsForTest(t, 100*time.Millisecond, 500*time.Millisecond, 100*time.Millisecond)
	dir := t.TempDir()
	s := testutil.RunServer(t, func(o *server.Options) {
		o.JetStream = &js.Config{Enabled: true, StoreDir: dir, Domain: "hub",
			Accounts: map[string]*js.AccountLimits{"A": js.Unlimited(), "B": js.Unlimited()}}
		o.Accounts = append(o.Accounts,
			&server.AccountConfig{Name: "A", Exports: []server.Export{
				{Subject: "$JS.API.CONSUMER.CREATE.O", Service: true},
				{Subject: "$JS.API.CONSUMER.DELETE.O.>", Service: true},
				{Subject: "$JS.FC.>", Service: true},
				{Subject: "deliver.b.>"},
			}},
			&server.AccountConfig{Name: "B", Imports: []server.Import{
				{Account: "A", Subject: "$JS.API.CONSUMER.CREATE.O", Service: true, To: "JS.A.API.CONSUMER.CREATE.O"},
				{Account: "A", Subject: "$JS.API.CONSUMER.DELETE.O.>", Service: true, To: "JS.A.API.CONSUMER.DELETE.O.>"},
				{Account: "A", Subject: "$JS.FC.>", Service: true},
				{Account: "A", Subject: "deliver.b.>"},
			}})
		o.Users = append(o.Users,
			&auth.User{Username: "a", Password: "a", Account: "A"},
			&auth.User{Username: "b", Password: "b", Account: "B"})
	})
	c := ctx(t)
	na := testutil.Connect(t, s, nats.UserInfo("a", "a"))
	ja, _ := jetstream.New(na)
	nb := testutil.Connect(t, s, nats.UserInfo("b", "b"))
	jb, _ := jetstream.New(nb)
	if _, err := ja.CreateStream(c, jetstream.StreamConfig{Name: "O", Subjects: []string{"o.*"}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		ja.Publish(c, "o.x", bytes.Repeat([]byte("z"), 10_000)) // enough for flow control
	}
	ext := &jetstream.ExternalStream{APIPrefix: "JS.A.API", DeliverPrefix: "deliver.b"}
	if _, err := jb.CreateStream(c, jetstream.StreamConfig{Name: "S", Sources: []*jetstream.StreamSource{{Name: "O", External: ext}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := jb.CreateStream(c, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O", External: ext}}); err != nil {
		t.Fatal(err)
	}
	si := waitMsgs(t, jb, "S", 20)
	if si.Sources[0].External == nil || si.Sources[0].External.APIPrefix != "JS.A.API" {
		t.Fatalf("external in info: %+v", si.Sources[0])
	}
	waitMsgs(t, jb, "M", 20)
	st, _ := jb.Stream(c, "S")
	m, _ := st.GetMsg(c, 1)
	if h := m.Header.Get("Nats-Stream-Source"); !strings.HasPrefix(h, "O:") || !strings.Contains(h, " 1 > > o.x") {
		t.Fatalf("external source header %q", h)
	}
	ja.Publish(c, "o.y", nil)
	waitMsgs(t, jb, "S", 21)

	// Domain: the same server's API under $JS.hub.API.
	if _, err := ja.CreateStream(c, jetstream.StreamConfig{Name: "D", Sources: []*jetstream.StreamSource{{Name: "O",
		External: &jetstream.ExternalStream{APIPrefix: "$JS.hub.API"}}}}); err != nil {
		t.Fatal(err)
	}
	waitMsgs(t, ja, "D", 21)
}
