package jetstream

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/internal/server/store/filestore"
)

// ackJournal is a consumer's journal of AckSync acks on a file stream:
// segment files <consumers>/<name>.acks.<n> of 8-byte sequences (each
// sealed alone, 40 bytes, in an encrypted stream: see sealed.go), written
// without fsync (they must survive the process, as the page cache does),
// dropped once a stored state covers them.
type ackJournal struct {
	dir, name string
	sealer    *filestore.Sealer // nil: plain records
	purpose   string            // the sealer's purpose for this journal
	mu        struct {
		sync.Mutex
		seg int
		f   *os.File
		old []int // segments left by an earlier run
	}
}

// noJournal answers AckSyncs at once (memory streams keep no state).
type noJournal struct{}

func (noJournal) Append(uint64) error { return nil }
func (noJournal) Rotate() int         { return -1 }
func (noJournal) Release(int)         {}

// openAckJournal reads the segments segs an earlier run left and returns
// the journal and the sequences they hold.
func openAckJournal(dir, name string, segs []int, sl *filestore.Sealer) (*ackJournal, []uint64) {
	j := &ackJournal{dir: dir, name: name, sealer: sl, purpose: "acks:" + name}
	var seqs []uint64
	sort.Ints(segs)
	for _, n := range segs {
		j.mu.old = append(j.mu.old, n)
		j.mu.seg = max(j.mu.seg, n+1)
		b, _ := os.ReadFile(j.path(n))
		// A segment is sealed or plain whole (it belongs to one run);
		// a sealed one's first record opens.
		if len(b) >= sealedAck && filestore.IsSealed(b) {
			if _, err := sl.Open(j.purpose, b[:sealedAck]); err == nil {
				for i := 0; i+sealedAck <= len(b); i += sealedAck {
					p, err := sl.Open(j.purpose, b[i:i+sealedAck])
					if err != nil || len(p) != 8 {
						break // torn or corrupt: the rest is not trusted
					}
					seqs = append(seqs, binary.LittleEndian.Uint64(p))
				}
				continue
			}
		}
		for i := 0; i+8 <= len(b); i += 8 { // a torn last record is ignored
			seqs = append(seqs, binary.LittleEndian.Uint64(b[i:]))
		}
	}
	return j, seqs
}

// sealedAck is the size of a sealed journal record.
const sealedAck = 4 + 12 + 8 + 16

// journalSegments maps consumer names to the ack journal segments found
// in a directory listing.
func journalSegments(ents []os.DirEntry) map[string][]int {
	out := map[string][]int{}
	for _, e := range ents {
		name, num, ok := strings.Cut(e.Name(), ".acks.")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(num); err == nil {
			out[name] = append(out[name], n)
		}
	}
	return out
}

func (j *ackJournal) path(seg int) string {
	return filepath.Join(j.dir, j.name+".acks."+strconv.Itoa(seg))
}

func (j *ackJournal) Append(seq uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.mu.f == nil {
		if err := os.MkdirAll(j.dir, 0o750); err != nil {
			return err
		}
		f, err := os.OpenFile(j.path(j.mu.seg), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return err
		}
		j.mu.f = f
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seq)
	rec := b[:]
	if j.sealer != nil {
		var err error
		if rec, err = j.sealer.Seal(j.purpose, rec); err != nil {
			return err
		}
	}
	_, err := j.mu.f.Write(rec)
	return err
}

// Rotate closes the current segment and returns it: every ack in it (or
// in older ones) is in the state being stored.
func (j *ackJournal) Rotate() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	seg := j.mu.seg
	if j.mu.f != nil {
		j.mu.f.Close()
		j.mu.f = nil
	}
	j.mu.seg++
	return seg
}

// Release removes segment seg and every older one.
func (j *ackJournal) Release(seg int) {
	j.mu.Lock()
	old := j.mu.old
	j.mu.old = nil
	j.mu.Unlock()
	for _, n := range old {
		if n <= seg {
			os.Remove(j.path(n))
		}
	}
	os.Remove(j.path(seg))
}

// remove deletes every segment (the consumer is gone).
func (j *ackJournal) remove() {
	j.mu.Lock()
	if j.mu.f != nil {
		j.mu.f.Close()
		j.mu.f = nil
	}
	segs := append(j.mu.old, j.mu.seg)
	j.mu.old = nil
	j.mu.Unlock()
	for _, n := range segs {
		os.Remove(j.path(n))
	}
}

func (j *ackJournal) close() {
	j.mu.Lock()
	if j.mu.f != nil {
		j.mu.f.Close()
		j.mu.f = nil
	}
	j.mu.Unlock()
}
