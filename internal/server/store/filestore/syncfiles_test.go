package filestore

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

type syncCounter struct {
	vfs.File
	n   *atomic.Int32
	err error
}

func (f syncCounter) Sync() error { f.n.Add(1); return f.err }

// Every file is synced, and a failure of any one of them is reported.
func TestDataSyncAll(t *testing.T) {
	var n atomic.Int32
	bad := errors.New("disk gone")
	for _, failing := range []int{-1, 0, 2} {
		n.Store(0)
		files := make([]vfs.File, 3)
		for i := range files {
			f := syncCounter{n: &n}
			if i == failing {
				f.err = bad
			}
			files[i] = f
		}
		err := dataSyncAll(files)
		if n.Load() != 3 {
			t.Fatalf("failing %d: %d of 3 files synced", failing, n.Load())
		}
		if (failing >= 0) != errors.Is(err, bad) {
			t.Fatalf("failing %d: err %v", failing, err)
		}
	}
	if err := dataSyncAll(nil); err != nil {
		t.Fatal(err)
	}
}
