package cmdutil

import (
	"os"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/sluicehq/sluice/internal/natscontext"
)

// Factory hands commands their dependencies, created only when asked
// for: `serve` never reads contexts and `context ls` never connects.
// The zero value (with IO set) is ready to use.
type Factory struct {
	IO *IOStreams

	// Prompter asks questions. Nil means survey on IO; tests set a stub.
	Prompter Prompter

	initOnce  sync.Once
	v         *viper.Viper
	connFlags *pflag.FlagSet

	mu       sync.Mutex
	settings *Settings
	conn     *nats.Conn
}

// Viper returns the factory's own viper instance (never the global one,
// so in-process runs do not leak settings into each other).
func (f *Factory) Viper() *viper.Viper {
	f.initOnce.Do(func() { f.v = viper.New() })
	return f.v
}

// AddConnectionFlags puts the global connection flags on cmd as
// persistent flags and binds them in viper. The root calls it once.
func (f *Factory) AddConnectionFlags(cmd *cobra.Command) {
	cmd.PersistentFlags().SortFlags = false
	cmd.Flags().SortFlags = false
	f.addConnectionFlags(cmd.PersistentFlags())
}

// Contexts returns the context store: $XDG_CONFIG_HOME/nats or
// ~/.config/nats.
func (f *Factory) Contexts() (*natscontext.Store, error) {
	return natscontext.DefaultStore(os.Getenv)
}

// Conn returns the command's connection, connecting on first use with
// the resolved settings. Main closes it when the command ends.
func (f *Factory) Conn() (*nats.Conn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conn != nil {
		return f.conn, nil
	}
	nc, err := f.dialLocked()
	if err != nil {
		return nil, err
	}
	f.conn = nc
	return nc, nil
}

// Dial opens a new connection with the resolved settings plus extra
// options; the caller closes it. bench uses one per simulated client.
func (f *Factory) Dial(extra ...nats.Option) (*nats.Conn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dialLocked(extra...)
}

// Close drains nothing and closes the shared connection, if one was made.
func (f *Factory) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conn != nil {
		f.conn.Close()
		f.conn = nil
	}
}
