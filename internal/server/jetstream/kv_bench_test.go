package jetstream_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// fillBucket stores n keys g<i/1000>.k<i%1000> in a memory bucket.
func fillBucket(b *testing.B, j jetstream.JetStream, n int) jetstream.KeyValue {
	c := context.Background()
	kv, err := j.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "BIG", Storage: jetstream.MemoryStorage})
	if err != nil {
		b.Fatal(err)
	}
	val := []byte("value")
	for i := 0; i < n; i++ {
		subj := "$KV.BIG.g" + strconv.Itoa(i/1000) + ".k" + strconv.Itoa(i%1000)
		if _, err := j.PublishAsync(subj, val); err != nil {
			b.Fatal(err)
		}
		if i%2000 == 1999 {
			<-j.PublishAsyncComplete()
		}
	}
	<-j.PublishAsyncComplete()
	return kv
}

// BenchmarkKVBigBucket measures requests on one key, or one group of 1000
// keys, in buckets of 1,000 and 1,000,000 keys: the cost per request must
// not grow with the bucket (watchers, key listing and history use the
// store's subject index, never a scan of the stream). Compare the
// keys=1000 and keys=1000000 lines.
func BenchmarkKVBigBucket(b *testing.B) {
	for _, n := range []int{1000, 1_000_000} {
		b.Run("keys="+strconv.Itoa(n), func(b *testing.B) {
			s := runJS(b)
			_, j := connectJS(b, s)
			kv := fillBucket(b, j, n)
			c := context.Background()
			b.Run("get", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if _, err := kv.Get(c, "g0.k"+strconv.Itoa(i%1000)); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("watch-one-key", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					w, err := kv.Watch(c, "g0.k"+strconv.Itoa(i%1000))
					if err != nil {
						b.Fatal(err)
					}
					if e := <-w.Updates(); e == nil {
						b.Fatal("no value")
					}
					<-w.Updates()
					w.Stop()
				}
			})
			b.Run("history-one-key", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if h, err := kv.History(c, "g0.k"+strconv.Itoa(i%1000)); err != nil || len(h) != 1 {
						b.Fatal(err)
					}
				}
			})
			b.Run("list-keys-1000-of-group", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					l, err := kv.ListKeysFiltered(c, "g0.>")
					if err != nil {
						b.Fatal(err)
					}
					got := 0
					for range l.Keys() {
						got++
					}
					if got != 1000 {
						b.Fatal(fmt.Sprint("keys ", got))
					}
				}
			})
		})
	}
}
