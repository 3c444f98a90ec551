package filestore

import (
	"sync"

	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

// dataSyncAll fdatasyncs files at once, the first on this goroutine and
// the others each on its own: a group that removed messages of an older
// block (a KV put replacing a key's value writes its tombstone there)
// makes that block dirty beside the tail, and two fdatasyncs one after
// the other doubled the wait of every ack in the group. Concurrent ones
// overlap their device flushes. It returns the first error.
func dataSyncAll(files []vfs.File) error {
	switch len(files) {
	case 0:
		return nil
	case 1:
		return vfs.DataSync(files[0])
	}
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	for i := 1; i < len(files); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = vfs.DataSync(files[i])
		}()
	}
	errs[0] = vfs.DataSync(files[0])
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
