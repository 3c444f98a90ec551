package jetstream_test

import (
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/server"
)

// With a JetStream domain, nats.go writes keys through the domain's API
// prefix ($JS.<domain>.API.$KV.<bucket>.<key>); the server maps them back.
func TestKVWithDomain(t *testing.T) {
	s := runJS(t, func(o *server.Options) { o.JetStream.Domain = "hub" })
	nc, _ := connectJS(t, s)
	j, err := jetstream.NewWithDomain(nc, "hub")
	if err != nil {
		t.Fatal(err)
	}
	c := ctx(t)
	kv, err := j.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "D"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(c, "k", []byte("v")); err != nil {
		t.Fatalf("put through the domain prefix: %v", err)
	}
	if e, err := kv.Get(c, "k"); err != nil || string(e.Value()) != "v" {
		t.Fatalf("get: %v", err)
	}
	if err := kv.Delete(c, "k"); err != nil {
		t.Fatal(err)
	}
	o, err := j.CreateObjectStore(c, jetstream.ObjectStoreConfig{Bucket: "DO"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.PutString(c, "a", "b"); err != nil {
		t.Fatalf("object put with domain: %v", err)
	}
	if v, err := o.GetString(c, "a"); err != nil || v != "b" {
		t.Fatalf("object get with domain: %v", err)
	}
}
