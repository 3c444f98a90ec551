package jetstream

import (
	"errors"

	"github.com/sluicehq/sluice/internal/server/store"
)

// openStore opens the store of a stream: memory, or file under dir.
var openStore = func(dir string, cfg store.Config, log Logger) (store.Store, error) {
	return nil, errors.New("no store implementation yet")
}
