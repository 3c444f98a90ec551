package jetstream

import (
	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/filestore"
	"github.com/sluicehq/sluice/internal/server/store/memstore"
)

// openStore opens the store of a stream: memory, or file under dir.
var openStore = func(dir string, cfg store.Config, log Logger) (store.Store, error) {
	if cfg.Storage == store.MemoryStorage {
		return memstore.New(cfg, log)
	}
	return filestore.Open(dir, cfg, filestore.Options{Logger: log})
}
