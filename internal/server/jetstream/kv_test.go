package jetstream_test

import (
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// Key-value buckets stand on streams alone for create, put, get, update,
// delete and purge (watchers need consumers, a later issue).
func TestKeyValueOnStreams(t *testing.T) {
	s := runJS(t)
	_, j := connectJS(t, s)
	c := ctx(t)
	kv, err := j.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "CFG", History: 3, TTL: 0})
	if err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	if _, err := j.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "CFG", History: 5}); !errors.Is(err, jetstream.ErrBucketExists) {
		t.Fatalf("re-create with another config: %v", err)
	}
	rev, err := kv.Put(c, "a", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Create(c, "a", []byte("x")); !errors.Is(err, jetstream.ErrKeyExists) {
		t.Fatalf("create existing key: %v", err)
	}
	if _, err := kv.Update(c, "a", []byte("2"), rev+5); err == nil {
		t.Fatal("update with a wrong revision worked")
	}
	if _, err := kv.Update(c, "a", []byte("2"), rev); err != nil {
		t.Fatalf("update: %v", err)
	}
	e, err := kv.Get(c, "a")
	if err != nil || string(e.Value()) != "2" || e.Revision() != rev+1 {
		t.Fatalf("get: %v %+v", err, e)
	}
	if err := kv.Delete(c, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(c, "a"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	if err := kv.Purge(c, "a"); err != nil {
		t.Fatalf("purge key: %v", err)
	}
	st, err := kv.Status(c)
	if err != nil || st.Bucket() != "CFG" || st.History() != 3 {
		t.Fatalf("status %v %+v", err, st)
	}
	if err := j.DeleteKeyValue(c, "CFG"); err != nil {
		t.Fatal(err)
	}
}
