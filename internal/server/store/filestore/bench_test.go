package filestore

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/storetest"
)

func BenchmarkFileStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B, cfg store.Config) store.Store {
		s, err := Open(b.TempDir(), cfg, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Stop() })
		return s
	})
}

// BenchmarkRecovery opens a store holding STORE_RECOVERY_MB (default 1024)
// megabytes of 1 KiB messages and reports the time to open it and the heap
// it holds afterwards.
func BenchmarkRecovery(b *testing.B) {
	mb := 1024
	if v, err := strconv.Atoi(os.Getenv("STORE_RECOVERY_MB")); err == nil && v > 0 {
		mb = v
	}
	dir := b.TempDir()
	if d := os.Getenv("STORE_RECOVERY_DIR"); d != "" {
		dir = d // kept, for TestOpenRSS
	}
	cfg := store.Config{Name: "R", SyncAlways: true}
	s, err := Open(dir, cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 1024)
	n := mb << 10
	for i := range n {
		if _, _, err := s.Store(fmt.Sprintf("orders.%d", i%1000), nil, payload, 0); err != nil {
			b.Fatal(err)
		}
		if i%10000 == 0 {
			s.Sync()
		}
	}
	if err := s.Stop(); err != nil {
		b.Fatal(err)
	}
	for _, withIndex := range []bool{true, false} {
		b.Run(fmt.Sprintf("index=%v", withIndex), func(b *testing.B) {
			if !withIndex {
				names, _ := os.ReadDir(dir + "/blk")
				for _, e := range names {
					if len(e.Name()) > 4 && e.Name()[len(e.Name())-4:] == ".idx" {
						os.Remove(dir + "/blk/" + e.Name())
					}
				}
			}
			var heap uint64
			for b.Loop() {
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				start := time.Now()
				s, err := Open(dir, cfg, Options{})
				if err != nil {
					b.Fatal(err)
				}
				el := time.Since(start)
				runtime.GC()
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				heap = after.HeapAlloc - before.HeapAlloc
				if st := s.State(); st.Msgs != uint64(n) {
					b.Fatalf("recovered %d of %d", st.Msgs, n)
				}
				b.ReportMetric(float64(el.Milliseconds()), "ms/open")
				s.Stop()
			}
			b.ReportMetric(float64(heap>>20), "heapMiB")
			b.ReportMetric(float64(rssKiB()>>10), "rssMiB")
		})
	}
}

// rssKiB is the process's resident set (Linux; 0 elsewhere).
func rssKiB() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// TestOpenRSS opens the store in STORE_OPEN_DIR (made by BenchmarkRecovery
// with STORE_RECOVERY_DIR) in a fresh process and logs the time and the
// resident memory: the restart figure. Skipped without the variable.
func TestOpenRSS(t *testing.T) {
	dir := os.Getenv("STORE_OPEN_DIR")
	if dir == "" {
		t.Skip("STORE_OPEN_DIR not set")
	}
	before := rssKiB()
	start := time.Now()
	s, err := Open(dir, store.Config{Name: "R", SyncAlways: true}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	st := s.State()
	after := rssKiB()
	debug.FreeOSMemory()
	t.Logf("opened %d msgs (%d MiB) in %v; RSS %d MiB before, %d MiB after, %d MiB once recovery garbage is returned (debug.FreeOSMemory)",
		st.Msgs, st.Bytes>>20, el, before>>10, after>>10, rssKiB()>>10)
	s.Stop()
}
