package jetstream_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/server"
	js "github.com/sluicehq/sluice/internal/server/jetstream"
	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/testutil"
)

// dirBytes returns the concatenated block files under dir.
func dirBytes(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".blk") {
			b, _ := os.ReadFile(p)
			all = append(all, b...)
		}
		return nil
	})
	return all
}

// An encrypted, compressed file stream keeps its messages across a
// restart and a key rotation, holds no plaintext on disk, and a server
// with the wrong key does not load it (and changes nothing).
func TestEncryptedCompressedStreamRestart(t *testing.T) {
	dir := t.TempDir()
	withKey := func(key, prev string) func(o *server.Options) {
		return func(o *server.Options) {
			o.JetStream = &js.Config{Enabled: true, StoreDir: dir,
				Encryption: store.Encryption{Cipher: store.AES, Key: key, PrevKey: prev}}
		}
	}
	payload := bytes.Repeat([]byte("secret payload "), 30)
	s := testutil.RunServer(t, withKey("k1", ""))
	_, j := connectJS(t, s)
	c := ctx(t)
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "E", Subjects: []string{"e.>"}, Compression: jetstream.S2Compression}); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if _, err := j.Publish(c, "e.x", payload); err != nil {
			t.Fatal(err)
		}
	}
	s.Shutdown()
	onDisk := dirBytes(t, dir)
	if bytes.Contains(onDisk, []byte("secret")) {
		t.Fatal("plaintext on disk")
	}
	if len(onDisk) > 50*len(payload)/2 {
		t.Fatalf("%d bytes on disk for %d of payload: not compressed", len(onDisk), 50*len(payload))
	}

	// Wrong key: the stream is not loaded and its files stay as they are.
	s = testutil.RunServer(t, withKey("wrong", ""))
	_, j = connectJS(t, s)
	if _, err := j.Stream(c, "E"); err == nil {
		t.Fatal("stream loaded with the wrong key")
	}
	s.Shutdown()
	if !bytes.Equal(onDisk, dirBytes(t, dir)) {
		t.Fatal("a wrong key changed the blocks")
	}

	// Rotation: new key, old one as prev.
	for _, opts := range []func(*server.Options){withKey("k2", "k1"), withKey("k2", "")} {
		s = testutil.RunServer(t, opts)
		_, j = connectJS(t, s)
		st, err := j.Stream(c, "E")
		if err != nil {
			t.Fatalf("after rotation: %v", err)
		}
		m, err := st.GetMsg(c, 50)
		if err != nil || !bytes.Equal(m.Data, payload) {
			t.Fatalf("message 50: %v", err)
		}
		if info, _ := st.Info(c); info.State.Msgs != 50 {
			t.Fatalf("after restart: %+v", info.State)
		}
		s.Shutdown()
	}
}

// treeState maps every file under dir to its contents and modification
// time, to tell whether anything was written.
func treeState(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			b, _ := os.ReadFile(p)
			out[p] = fi.ModTime().String() + "\x00" + string(b)
		}
		return nil
	})
	return out
}

// With encryption, the stream's metadata and its consumers' configs and
// states are sealed too: no file of the stream holds its subjects or the
// consumer's name in the clear; a key rotation keeps all of it; a wrong
// key or no key loads nothing and changes no file; a stream written
// plain is sealed once a key is configured.
func TestEncryptedMetadataAndConsumers(t *testing.T) {
	dir := t.TempDir()
	withKey := func(key, prev string) func(o *server.Options) {
		return func(o *server.Options) {
			o.JetStream = &js.Config{Enabled: true, StoreDir: dir,
				Encryption: store.Encryption{Cipher: store.ChaChaPoly, Key: key, PrevKey: prev}}
		}
	}
	c := ctx(t)
	// Written plain first: encryption turned on later seals it.
	s := testutil.RunServer(t, withKey("", ""))
	_, j := connectJS(t, s)
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "E", Subjects: []string{"topsecret.>"}}); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := j.Publish(c, "topsecret.x", []byte("m")); err != nil {
			t.Fatal(err)
		}
	}
	s.Shutdown()

	s = testutil.RunServer(t, withKey("k1", ""))
	_, j = connectJS(t, s)
	cons, err := j.CreateOrUpdateConsumer(c, "E", jetstream.ConsumerConfig{Durable: "hiddendurable", AckPolicy: jetstream.AckExplicitPolicy, FilterSubject: "topsecret.x"})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(4)
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		if err := m.DoubleAck(c); err != nil {
			t.Fatal(err)
		}
	}
	s.Shutdown()
	for p, v := range treeState(t, dir) {
		if strings.Contains(p, "/blk/") {
			continue // written before the key: the other test covers blocks
		}
		if body := v[strings.IndexByte(v, 0)+1:]; strings.Contains(p, ".acks.") && body != "" && !strings.HasPrefix(body, "SLS1") {
			t.Errorf("%s: ack journal not sealed", p)
		}
		for _, plain := range []string{"topsecret", "hiddendurable", `"ack_floor"`} {
			if strings.Contains(v, plain) {
				t.Errorf("%s holds %q in the clear", p, plain)
			}
		}
	}

	// A wrong key, and no key: nothing loads, no file changes.
	before := treeState(t, dir)
	for _, opts := range []func(*server.Options){withKey("wrong", ""), withKey("wrong", "wrong2"), withKey("", "")} {
		s = testutil.RunServer(t, opts)
		_, j = connectJS(t, s)
		if _, err := j.Stream(c, "E"); err == nil {
			t.Fatal("stream loaded without its key")
		}
		s.Shutdown()
		after := treeState(t, dir)
		for p, v := range before {
			if after[p] != v {
				t.Fatalf("%s changed by a server without the key", p)
			}
		}
		if len(after) != len(before) {
			t.Fatalf("%d files before, %d after a server without the key", len(before), len(after))
		}
	}

	// Rotation, then the new key alone: stream, consumer and its state.
	for _, opts := range []func(*server.Options){withKey("k2", "k1"), withKey("k2", "")} {
		s = testutil.RunServer(t, opts)
		_, j = connectJS(t, s)
		st, err := j.Stream(c, "E")
		if err != nil {
			t.Fatalf("after rotation: %v", err)
		}
		if info, _ := st.Info(c); info.State.Msgs != 10 || info.Config.Subjects[0] != "topsecret.>" {
			t.Fatalf("after rotation: %+v", info)
		}
		ci, err := st.Consumer(c, "hiddendurable")
		if err != nil {
			t.Fatalf("consumer after rotation: %v", err)
		}
		if info, _ := ci.Info(c); info.AckFloor.Stream != 4 || info.Config.FilterSubject != "topsecret.x" {
			t.Fatalf("consumer after rotation: %+v", info)
		}
		s.Shutdown()
	}
}
