package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/testutil"
)

// bothKV runs fn against nats-server v2.15.2 and sluice, connected as the
// JetStream-enabled user of srvtest.
func bothKV(t *testing.T, fn func(t *testing.T, nc *nats.Conn, j jetstream.JetStream)) {
	t.Helper()
	srvtest.JetStream(t, func(t *testing.T, url string) {
		nc, err := nats.Connect(url, nats.UserInfo(srvtest.AppUser, srvtest.AppPass))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		j, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		fn(t, nc, j)
	})
}

// next reads one watcher update or fails after a while.
func next(t *testing.T, w jetstream.KeyWatcher) jetstream.KeyValueEntry {
	t.Helper()
	select {
	case e, ok := <-w.Updates():
		if !ok {
			t.Fatal("watcher closed")
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no watcher update")
	}
	return nil
}

// drainInit reads the initial values up to the nil marker.
func drainInit(t *testing.T, w jetstream.KeyWatcher) []string {
	t.Helper()
	var got []string
	for {
		e := next(t, w)
		if e == nil {
			return got
		}
		got = append(got, fmt.Sprintf("%s=%s/%d/%s", e.Key(), e.Value(), e.Revision(), e.Operation()))
	}
}

func TestKVGetsAndRevisions(t *testing.T) {
	bothKV(t, func(t *testing.T, nc *nats.Conn, j jetstream.JetStream) {
		c := ctx(t)
		kv, err := j.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "R", History: 5, MaxValueSize: 64, Compression: true})
		if err != nil {
			t.Fatal(err)
		}
		r1, _ := kv.Put(c, "a.b", []byte("1"))
		r2, _ := kv.Put(c, "a.b", []byte("2"))
		if e, err := kv.GetRevision(c, "a.b", r1); err != nil || string(e.Value()) != "1" {
			t.Fatalf("get revision: %v", err)
		}
		if _, err := kv.GetRevision(c, "other", r1); !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Fatalf("revision of another key: %v", err)
		}
		if _, err := kv.Put(c, "big", make([]byte, 65)); err == nil {
			t.Fatal("value over max value size accepted")
		}
		// Create after delete works; update on the marker's revision too.
		kv.Delete(c, "a.b")
		if _, err := kv.Create(c, "a.b", []byte("3")); err != nil {
			t.Fatalf("create over delete: %v", err)
		}
		if err := kv.Delete(c, "a.b", jetstream.LastRevision(r2)); !errors.Is(err, jetstream.ErrKeyExists) && err == nil {
			t.Fatalf("delete with stale revision: %v", err)
		}
		// Legacy API and MSG.GET fallback agree.
		ljs, _ := nc.JetStream()
		lkv, err := ljs.KeyValue("R")
		if err != nil {
			t.Fatal(err)
		}
		if e, err := lkv.Get("a.b"); err != nil || string(e.Value()) != "3" {
			t.Fatalf("legacy get: %v", err)
		}
		st, _ := j.Stream(c, "KV_R")
		m, err := st.GetLastMsgForSubject(c, "$KV.R.a.b")
		if err != nil || string(m.Data) != "3" {
			t.Fatalf("msg get last: %v", err)
		}
		// Update bucket.
		if _, err := j.UpdateKeyValue(c, jetstream.KeyValueConfig{Bucket: "R", History: 10, Description: "d", Compression: true, MaxValueSize: 64}); err != nil {
			t.Fatalf("update bucket: %v", err)
		}
		if _, err := j.UpdateKeyValue(c, jetstream.KeyValueConfig{Bucket: "NOPE"}); !errors.Is(err, jetstream.ErrBucketNotFound) {
			t.Fatalf("update missing bucket: %v", err)
		}
		if _, err := j.KeyValue(c, "NOPE"); !errors.Is(err, jetstream.ErrBucketNotFound) {
			t.Fatalf("open missing bucket: %v", err)
		}
		st2, err := kv.Status(c)
		if err != nil || st2.History() != 10 || !st2.IsCompressed() {
			t.Fatalf("status: %v %+v", err, st2)
		}
	})
}

func TestKVWatchers(t *testing.T) {
	bothKV(t, func(t *testing.T, nc *nats.Conn, j jetstream.JetStream) {
		c := ctx(t)
		kv, err := j.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "W", History: 5})
		if err != nil {
			t.Fatal(err)
		}
		// Empty bucket: the init marker comes at once.
		w0, _ := kv.WatchAll(c)
		if got := drainInit(t, w0); len(got) != 0 {
			t.Fatalf("empty bucket %v", got)
		}
		kv.Put(c, "a", []byte("1"))
		kv.Put(c, "a", []byte("2"))
		kv.Put(c, "b.x", []byte("3"))
		kv.Put(c, "c", []byte("4"))
		kv.Delete(c, "c")
		if e := next(t, w0); e.Key() != "a" || string(e.Value()) != "1" {
			t.Fatalf("live update %v", e)
		}
		w0.Stop()

		w, _ := kv.WatchAll(c)
		want := []string{"a=2/2/KeyValuePutOp", "b.x=3/3/KeyValuePutOp", "c=/5/KeyValueDeleteOp"}
		if got := drainInit(t, w); !slices.Equal(got, want) {
			t.Fatalf("watch all %v", got)
		}
		kv.Put(c, "d", []byte("5"))
		if e := next(t, w); e.Key() != "d" || e.Revision() != 6 || e.Delta() != 0 {
			t.Fatalf("live %v", e)
		}
		w.Stop()

		hist, _ := kv.WatchAll(c, jetstream.IncludeHistory())
		if got := drainInit(t, hist); len(got) != 6 {
			t.Fatalf("history watch %v", got)
		}
		hist.Stop()
		nd, _ := kv.WatchAll(c, jetstream.IgnoreDeletes())
		if got := drainInit(t, nd); len(got) != 3 {
			t.Fatalf("ignore deletes %v", got)
		}
		nd.Stop()
		meta, _ := kv.Watch(c, "a", jetstream.MetaOnly())
		if got := drainInit(t, meta); !slices.Equal(got, []string{"a=/2/KeyValuePutOp"}) {
			t.Fatalf("meta only %v", got)
		}
		meta.Stop()
		res, _ := kv.WatchAll(c, jetstream.ResumeFromRevision(4))
		if got := drainInit(t, res); len(got) != 3 || got[0] != "c=4/4/KeyValuePutOp" {
			t.Fatalf("resume %v", got)
		}
		res.Stop()
		upd, _ := kv.WatchAll(c, jetstream.UpdatesOnly())
		kv.Put(c, "b.y", []byte("6"))
		if e := next(t, upd); e == nil || e.Key() != "b.y" {
			t.Fatalf("updates only %v", e)
		}
		upd.Stop()
		wc, _ := kv.Watch(c, "b.*")
		if got := drainInit(t, wc); len(got) != 2 {
			t.Fatalf("wildcard watch %v", got)
		}
		wc.Stop()
		wf, _ := kv.WatchFiltered(c, []string{"a", "d"})
		if got := drainInit(t, wf); len(got) != 2 {
			t.Fatalf("filtered watch %v", got)
		}
		wf.Stop()

		keys, err := kv.Keys(c)
		slices.Sort(keys)
		if err != nil || !slices.Equal(keys, []string{"a", "b.x", "b.y", "d"}) {
			t.Fatalf("keys %v %v", keys, err)
		}
		kl, _ := kv.ListKeysFiltered(c, "b.>")
		var lk []string
		for k := range kl.Keys() {
			lk = append(lk, k)
		}
		if len(lk) != 2 {
			t.Fatalf("list keys filtered %v", lk)
		}
		h, err := kv.History(c, "a")
		if err != nil || len(h) != 2 {
			t.Fatalf("history %v %v", h, err)
		}
		if _, err := kv.History(c, "zz"); !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Fatalf("history of missing key %v", err)
		}
		// Legacy watcher.
		ljs, _ := nc.JetStream()
		lkv, _ := ljs.KeyValue("W")
		lw, err := lkv.WatchAll()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for e := range lw.Updates() {
			if e == nil {
				break
			}
			n++
		}
		lw.Stop()
		if n != 5 {
			t.Fatalf("legacy watch saw %d", n)
		}
		empty, _ := j.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "E"})
		if _, err := empty.Keys(c); !errors.Is(err, jetstream.ErrNoKeysFound) {
			t.Fatalf("keys of empty %v", err)
		}
	})
}

func TestKVPurgeAndTTL(t *testing.T) {
	bothKV(t, func(t *testing.T, nc *nats.Conn, j jetstream.JetStream) {
		c, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		kv, err := j.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "P", History: 5, LimitMarkerTTL: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		kv.Put(c, "a", []byte("1"))
		kv.Put(c, "a", []byte("2"))
		kv.Put(c, "b", []byte("1"))
		if err := kv.Purge(c, "a"); err != nil {
			t.Fatal(err)
		}
		if h, _ := kv.History(c, "a"); len(h) != 1 || h[0].Operation() != jetstream.KeyValuePurge {
			t.Fatalf("history after purge %v", h)
		}
		kv.Delete(c, "b")
		if err := kv.PurgeDeletes(c, jetstream.DeleteMarkersOlderThan(-1)); err != nil {
			t.Fatal(err)
		}
		st, _ := kv.Status(c)
		if st.Values() != 0 {
			t.Fatalf("values after purge deletes %d", st.Values())
		}
		// Per-key TTL: the key goes and a marker says why.
		if _, err := kv.Create(c, "t", []byte("x"), jetstream.KeyTTL(time.Second)); err != nil {
			t.Fatal(err)
		}
		w, _ := kv.Watch(c, "t", jetstream.UpdatesOnly())
		testutil.CheckFor(t, 5*time.Second, 50*time.Millisecond, func() error {
			if _, err := kv.Get(c, "t"); !errors.Is(err, jetstream.ErrKeyNotFound) {
				return fmt.Errorf("still there: %v", err)
			}
			return nil
		})
		if e := next(t, w); e.Operation() != jetstream.KeyValuePurge {
			t.Fatalf("ttl marker %v", e.Operation())
		}
		// A purge with a TTL leaves a marker that ages out too.
		kv.Put(c, "u", []byte("x"))
		if err := kv.Purge(c, "u", jetstream.PurgeTTL(time.Second)); err != nil {
			t.Fatal(err)
		}
		testutil.CheckFor(t, 6*time.Second, 50*time.Millisecond, func() error {
			// Each poll has its own deadline: a marker that ages out
			// while the watch behind History is starting can leave it
			// waiting for a message that is gone.
			pc, pcancel := context.WithTimeout(c, time.Second)
			defer pcancel()
			if h, _ := kv.History(pc, "u"); len(h) != 0 {
				return fmt.Errorf("marker still there: %d", len(h))
			}
			return nil
		})
		w.Stop()
		if _, err := j.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "H", History: 65}); !errors.Is(err, jetstream.ErrHistoryTooLarge) {
			t.Fatalf("history too large %v", err)
		}
		// Bucket TTL with markers.
		kt, err := j.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "T", TTL: time.Second, LimitMarkerTTL: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		kt.Put(c, "k", []byte("v"))
		testutil.CheckFor(t, 6*time.Second, 50*time.Millisecond, func() error {
			pc, pcancel := context.WithTimeout(c, time.Second)
			defer pcancel()
			h, err := kt.History(pc, "k")
			if err != nil || len(h) != 1 || h[0].Operation() != jetstream.KeyValuePurge {
				return fmt.Errorf("no max-age marker: %v %d", err, len(h))
			}
			return nil
		})
		// The marker expires in turn and leaves nothing behind; so does a
		// purge marker (without a TTL of its own) aging out.
		kt.Put(c, "p", []byte("v"))
		if err := kt.Purge(c, "p"); err != nil {
			t.Fatal(err)
		}
		last := uint64(0)
		testutil.CheckFor(t, 8*time.Second, 50*time.Millisecond, func() error {
			pc, pcancel := context.WithTimeout(c, time.Second)
			defer pcancel()
			st, err := kt.Status(pc)
			if err != nil {
				return err
			}
			if st.Values() != 0 {
				return fmt.Errorf("%d messages left", st.Values())
			}
			last = st.(*jetstream.KeyValueBucketStatus).StreamInfo().State.LastSeq
			return nil
		})
		if last != 4 {
			t.Fatalf("last sequence %d: a marker was written for an expiring marker", last)
		}
	})
}

func TestKVBucketListing(t *testing.T) {
	bothKV(t, func(t *testing.T, nc *nats.Conn, j jetstream.JetStream) {
		c := ctx(t)
		for _, b := range []string{"B1", "B2"} {
			if _, err := j.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: b, Storage: jetstream.MemoryStorage}); err != nil {
				t.Fatal(err)
			}
		}
		j.CreateStream(c, jetstream.StreamConfig{Name: "OTHER", Subjects: []string{"x"}})
		var names []string
		l := j.KeyValueStoreNames(c)
		for n := range l.Name() {
			names = append(names, n)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"B1", "B2"}) || l.Error() != nil {
			t.Fatalf("names %v %v", names, l.Error())
		}
		n := 0
		sl := j.KeyValueStores(c)
		for st := range sl.Status() {
			if st.BackingStore() != "JetStream" {
				t.Fatalf("backing %s", st.BackingStore())
			}
			n++
		}
		if n != 2 {
			t.Fatalf("stores %d", n)
		}
		if err := j.DeleteKeyValue(c, "B1"); err != nil {
			t.Fatal(err)
		}
		if err := j.DeleteKeyValue(c, "B1"); !errors.Is(err, jetstream.ErrBucketNotFound) {
			t.Fatalf("delete twice %v", err)
		}
		if _, err := j.CreateKeyValue(context.Background(), jetstream.KeyValueConfig{Bucket: "bad.name"}); !errors.Is(err, jetstream.ErrInvalidBucketName) {
			t.Fatalf("bad name %v", err)
		}
		// Republish.
		kv, err := j.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "RP", RePublish: &jetstream.RePublish{Source: ">", Destination: "rp.>"}})
		if err != nil {
			t.Fatal(err)
		}
		sub, _ := nc.SubscribeSync("rp.>")
		nc.Flush()
		kv.Put(c, "k", []byte("v"))
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil || m.Subject != "rp.$KV.RP.k" {
			t.Fatalf("republish %v %v", m, err)
		}
	})
}
