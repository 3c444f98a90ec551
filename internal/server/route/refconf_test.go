package route_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

// startRefConf runs nats-server with conf (which must listen on random
// ports); the ports file tells its client and cluster URLs.
func startRefConf(t *testing.T, conf string) *refNode {
	t.Helper()
	dir := t.TempDir()
	conf = "ports_file_dir: \"" + dir + "\"\n" + conf
	cf := filepath.Join(dir, "ref.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &refNode{t: t, bin: refbin.NATSServer(t), conf: cf, dir: dir}
	r.start()
	t.Cleanup(r.stop)
	return r
}

// rewrite replaces the reference server's configuration (before a reload).
func (r *refNode) rewrite(conf string) {
	r.t.Helper()
	conf = "ports_file_dir: \"" + r.dir + "\"\n" + conf
	if err := os.WriteFile(r.conf, []byte(conf), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

// reload signals the reference server to reload its configuration and
// waits until it says it did.
func (r *refNode) reload() {
	r.t.Helper()
	n := strings.Count(r.logs.String(), "Reloaded server configuration")
	if err := r.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		r.t.Fatal(err)
	}
	testutil.CheckFor(r.t, 10*time.Second, 20*time.Millisecond, func() error {
		if strings.Count(r.logs.String(), "Reloaded server configuration") <= n {
			return errNotYet
		}
		return nil
	})
}

// waitLog waits until the reference server logged want.
func (r *refNode) waitLog(want string) {
	r.t.Helper()
	testutil.CheckFor(r.t, 10*time.Second, 20*time.Millisecond, func() error {
		if !strings.Contains(r.logs.String(), want) {
			return errNotYet
		}
		return nil
	})
}

var errNotYet = errors.New("not yet")
