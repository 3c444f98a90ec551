package jetstream

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/filestore"
)

// An encrypted stream's ack journal holds sealed records, read back by
// the next run (a torn last record ignored); a plain segment left from
// before the key still reads.
func TestSealedAckJournal(t *testing.T) {
	dir := t.TempDir()
	st, err := filestore.Open(dir, store.Config{Name: "S", Encryption: &store.Encryption{Cipher: store.AES, Key: "k"}}, filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	sl := st.Sealer()
	jdir := filepath.Join(dir, "consumers")
	plain, _ := openAckJournal(jdir, "C", nil, nil)
	plain.Append(1)
	plain.Append(2)
	plain.Rotate()
	plain.close()
	j, _ := openAckJournal(jdir, "C", []int{0}, sl)
	for _, seq := range []uint64{7, 9, 1 << 40} {
		if err := j.Append(seq); err != nil {
			t.Fatal(err)
		}
	}
	j.close()
	b, err := os.ReadFile(j.path(1))
	if err != nil || len(b) != 3*sealedAck || !filestore.IsSealed(b) {
		t.Fatalf("segment 1: %d bytes, %v", len(b), err)
	}
	os.WriteFile(j.path(1), b[:len(b)-5], 0o640) // torn last record
	_, seqs := openAckJournal(jdir, "C", []int{0, 1}, sl)
	if want := []uint64{1, 2, 7, 9}; !slices.Equal(seqs, want) {
		t.Fatalf("journaled %v, want %v", seqs, want)
	}
}
