package jetstream_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestObjectStore(t *testing.T) {
	bothKV(t, func(t *testing.T, nc *nats.Conn, j jetstream.JetStream) {
		c := ctx(t)
		os, err := j.CreateObjectStore(c, jetstream.ObjectStoreConfig{Bucket: "FILES", Description: "f", Compression: true})
		if err != nil {
			t.Fatal(err)
		}
		data := make([]byte, 300_000)
		rand.Read(data)
		info, err := os.Put(c, jetstream.ObjectMeta{Name: "dir/a b.bin", Description: "d",
			Headers: nats.Header{"X": []string{"1"}}, Opts: &jetstream.ObjectMetaOptions{ChunkSize: 64 * 1024}}, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if info.Chunks != 5 || info.Size != 300_000 {
			t.Fatalf("put info %+v", info)
		}
		got, err := os.GetBytes(c, "dir/a b.bin")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("get: %v", err)
		}
		// Replace: old chunks are purged.
		os.PutBytes(c, "dir/a b.bin", []byte("small"))
		st, _ := j.Stream(c, "OBJ_FILES")
		si, _ := st.Info(c)
		if si.State.Msgs != 2 {
			t.Fatalf("msgs after replace %d", si.State.Msgs)
		}
		if s, _ := os.GetString(c, "dir/a b.bin"); s != "small" {
			t.Fatalf("replaced %q", s)
		}
		// Meta update and rename.
		if err := os.UpdateMeta(c, "dir/a b.bin", jetstream.ObjectMeta{Name: "renamed", Description: "new"}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.GetInfo(c, "dir/a b.bin"); !errors.Is(err, jetstream.ErrObjectNotFound) {
			t.Fatalf("old name %v", err)
		}
		if i, err := os.GetInfo(c, "renamed"); err != nil || i.Description != "new" {
			t.Fatalf("renamed %v", err)
		}
		// Links.
		ri, _ := os.GetInfo(c, "renamed")
		if _, err := os.AddLink(c, "ln", ri); err != nil {
			t.Fatal(err)
		}
		if s, err := os.GetString(c, "ln"); err != nil || s != "small" {
			t.Fatalf("via link %q %v", s, err)
		}
		other, _ := j.CreateObjectStore(c, jetstream.ObjectStoreConfig{Bucket: "OTHER", Storage: jetstream.MemoryStorage})
		if _, err := os.AddBucketLink(c, "bl", other); err != nil {
			t.Fatal(err)
		}
		// Watch then list.
		w, err := os.Watch(c)
		if err != nil {
			t.Fatal(err)
		}
		var seen []string
		for u := range w.Updates() {
			if u == nil {
				break
			}
			seen = append(seen, u.Name)
		}
		slices.Sort(seen)
		if !slices.Equal(seen, []string{"bl", "ln", "renamed"}) {
			t.Fatalf("watch %v", seen)
		}
		os.PutString(c, "new", "x")
		select {
		case u := <-w.Updates():
			if u.Name != "new" {
				t.Fatalf("live %v", u.Name)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no live object update")
		}
		w.Stop()
		if err := os.Delete(c, "new"); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Get(c, "new"); !errors.Is(err, jetstream.ErrObjectNotFound) {
			t.Fatalf("get deleted %v", err)
		}
		if i, err := os.GetInfo(c, "new", jetstream.GetObjectInfoShowDeleted()); err != nil || !i.Deleted {
			t.Fatalf("deleted info %v", err)
		}
		l, err := os.List(c)
		if err != nil || len(l) != 3 {
			t.Fatalf("list %d %v", len(l), err)
		}
		if _, err := other.List(c); !errors.Is(err, jetstream.ErrNoObjectsFound) {
			t.Fatalf("empty list %v", err)
		}
		// Seal and status.
		if err := os.Seal(c); err != nil {
			t.Fatal(err)
		}
		ss, err := os.Status(c)
		if err != nil || !ss.Sealed() || ss.Description() != "f" || !ss.IsCompressed() {
			t.Fatalf("status %v %+v", err, ss)
		}
		if _, err := os.PutString(c, "after", "x"); err == nil {
			t.Fatal("put into sealed store worked")
		}
		var names []string
		nl := j.ObjectStoreNames(c)
		for n := range nl.Name() {
			names = append(names, n)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"FILES", "OTHER"}) {
			t.Fatalf("names %v", names)
		}
		n := 0
		for range j.ObjectStores(c).Status() {
			n++
		}
		if n != 2 {
			t.Fatalf("stores %d", n)
		}
		if err := j.DeleteObjectStore(c, "OTHER"); err != nil {
			t.Fatal(err)
		}
		if _, err := j.ObjectStore(c, "OTHER"); !errors.Is(err, jetstream.ErrBucketNotFound) {
			t.Fatalf("deleted store %v", err)
		}
		// Legacy API reads what the new one wrote.
		ljs, _ := nc.JetStream()
		lo, err := ljs.ObjectStore("FILES")
		if err != nil {
			t.Fatal(err)
		}
		if s, err := lo.GetString("renamed"); err != nil || s != "small" {
			t.Fatalf("legacy get %q %v", s, err)
		}
		ll, err := lo.List()
		if err != nil || len(ll) != 3 {
			t.Fatalf("legacy list %v", err)
		}
	})
}
