package jetstream_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/testutil"
)

// BenchmarkMirrorCatchUp times a new mirror taking in b.N messages its
// origin already holds (file storage, 128 B).
func BenchmarkMirrorCatchUp(b *testing.B) {
	s := runJS(b)
	_, j := connectJS(b, s)
	c := ctx(b)
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "O", Subjects: []string{"o"}}); err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 128)
	for i := 0; i < b.N; i++ {
		j.PublishAsync("o", payload)
		if i%10000 == 9999 {
			<-j.PublishAsyncComplete()
		}
	}
	<-j.PublishAsyncComplete()
	ost, _ := j.Stream(ctx(b), "O")
	oi, _ := ost.Info(ctx(b))
	want := oi.State.Msgs
	b.ResetTimer()
	if _, err := j.CreateStream(ctx(b), jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O"}}); err != nil {
		b.Fatal(err)
	}
	testutil.CheckFor(b, 2*time.Minute, 20*time.Millisecond, func() error {
		st, err := j.Stream(ctx(b), "M")
		if err != nil {
			return err
		}
		si, _ := st.Info(ctx(b))
		if si.State.Msgs != want {
			if debugMirror {
				b.Logf("%d msgs, last %d, mirror %+v", si.State.Msgs, si.State.LastSeq, si.Mirror)
			}
			return errNotYet
		}
		return nil
	})
}

var errNotYet = &notYet{}

const debugMirror = false

type notYet struct{}

func (*notYet) Error() string { return "not yet" }
