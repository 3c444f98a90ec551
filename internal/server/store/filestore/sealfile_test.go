package filestore

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

// Files sealed with a store's data key open with the sealer of that
// store, and with LoadSealer given the key or, after a rotation, either
// key; not for another purpose, not with a flipped bit, not without a
// key; plain files pass through.
func TestSealedFiles(t *testing.T) {
	fsys := vfs.NewFaultFS(21)
	opts := Options{FS: fsys, BlockSize: 4096}
	s := openT(t, "/m", encCfg(store.AES, "k1", ""), opts)
	sl := s.Sealer()
	if sl == nil {
		t.Fatal("no sealer for an encrypted store")
	}
	plain := []byte(`{"config":{"name":"M"}}`)
	sealed, err := sl.Seal("meta", plain)
	if err != nil || !IsSealed(sealed) || bytes.Contains(sealed, []byte("config")) {
		t.Fatalf("seal: %q %v", sealed, err)
	}
	if got, err := sl.Open("meta", sealed); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := sl.Open("consumer:x", sealed); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("open for another purpose: %v", err)
	}
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-3] ^= 1
	if _, err := sl.Open("meta", flipped); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("open flipped: %v", err)
	}
	if got, err := sl.Open("meta", plain); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("plain file: %q %v", got, err)
	}
	var none *Sealer
	if _, err := none.Open("meta", sealed); !errors.Is(err, ErrSealed) {
		t.Fatalf("open without a sealer: %v", err)
	}
	if got, _ := none.Seal("meta", plain); !bytes.Equal(got, plain) {
		t.Fatal("a nil sealer must write plain")
	}
	s.Stop()

	load := func(key, prev string) (*Sealer, error) {
		return LoadSealer(fsys, "/m", testCfg.Name, &store.Encryption{Cipher: store.AES, Key: key, PrevKey: prev})
	}
	if l, err := load("k1", ""); err != nil || l == nil {
		t.Fatalf("load: %v", err)
	} else if got, err := l.Open("meta", sealed); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open with a loaded sealer: %v", err)
	}
	for _, k := range [][2]string{{"wrong", ""}, {"wrong", "also"}} {
		if _, err := load(k[0], k[1]); !errors.Is(err, store.ErrEncryption) {
			t.Fatalf("load with %v: %v", k, err)
		}
	}
	if _, err := LoadSealer(fsys, "/m", testCfg.Name, nil); !errors.Is(err, store.ErrEncryption) {
		t.Fatalf("load without a key: %v", err)
	}
	if l, err := LoadSealer(fsys, "/none", "x", nil); l != nil || err != nil {
		t.Fatalf("no key file: %v %v", l, err)
	}
	// Rotation re-seals the key file only: the data key still opens it.
	s = openT(t, "/m", encCfg(store.AES, "k2", "k1"), opts)
	s.Stop()
	if l, err := load("k2", ""); err != nil {
		t.Fatalf("load after rotation: %v", err)
	} else if _, err := l.Open("meta", sealed); err != nil {
		t.Fatalf("open after rotation: %v", err)
	}
	// An unencrypted store has no sealer.
	p := openT(t, "/p", testCfg, opts)
	defer p.Stop()
	if p.Sealer() != nil {
		t.Fatal("sealer for a plain store")
	}
}

// A consumer's state in an encrypted store is sealed, and read back.
func TestSealedConsumerState(t *testing.T) {
	fsys := vfs.NewFaultFS(22)
	opts := Options{FS: fsys, BlockSize: 4096}
	s := openT(t, "/c", encCfg(store.ChaChaPoly, "k", ""), opts)
	cs, err := s.ConsumerStore("dur")
	if err != nil {
		t.Fatal(err)
	}
	want := &store.ConsumerState{Delivered: store.SequencePair{Consumer: 7, Stream: 9}, AckFloor: store.SequencePair{Consumer: 5, Stream: 6}}
	cs.Update(want)
	if err := cs.Sync(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	data, err := fsys.ReadFile("/c/obs/dur.cs")
	if err != nil || !IsSealed(data) {
		t.Fatalf("state file: %q %v", data, err)
	}
	s = openT(t, "/c", encCfg(store.ChaChaPoly, "k", ""), opts)
	defer s.Stop()
	cs, err = s.ConsumerStore("dur")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := cs.State()
	if got.Delivered != want.Delivered || got.AckFloor != want.AckFloor {
		t.Fatalf("state %+v, want %+v", got, want)
	}
}

// BenchmarkStoreAtRest stores 128 B messages plain, s2-compressed and
// sealed with each cipher (no fsync), to show what each costs per message.
func BenchmarkStoreAtRest(b *testing.B) {
	s2cfg := testCfg
	s2cfg.Compression = store.S2Compression
	for _, c := range []struct {
		name string
		cfg  store.Config
	}{{"plain", testCfg}, {"s2", s2cfg}, {"aes", encCfg(store.AES, "k", "")}, {"chachapoly", encCfg(store.ChaChaPoly, "k", "")}} {
		b.Run(c.name, func(b *testing.B) {
			s, err := Open(b.TempDir(), c.cfg, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Stop()
			payload := bytes.Repeat([]byte("0123456789abcdef"), 8)
			b.SetBytes(int64(len(payload)))
			b.ResetTimer()
			for range b.N {
				if _, _, err := s.Store("bench.subject", nil, payload, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
