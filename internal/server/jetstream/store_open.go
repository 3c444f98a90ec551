package jetstream

import (
	"errors"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/memstore"
)

// openStore opens the store of a stream: memory, or file under dir.
var openStore = func(dir string, cfg store.Config, log Logger) (store.Store, error) {
	if cfg.Storage == store.MemoryStorage {
		return memstore.New(cfg, log)
	}
	return nil, errors.New("file storage is not available yet")
}
