//go:build windows

package servecmd

import (
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/sluicehq/sluice/internal/logger"
	"github.com/sluicehq/sluice/internal/server"
)

// handleSignals on Windows knows only interrupt: reload, reopen and lame
// duck mode are reached through the system account instead.
func handleSignals(s *server.Server, log *logger.Logger) (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case sig := <-sigs:
			log.Noticef("Trapped %q signal", sig)
			s.Shutdown()
		}
	}()
	return func() { signal.Stop(sigs); close(done) }
}

var signalsByCommand = map[string]syscall.Signal{}

func kill(int, syscall.Signal) error { return errors.New("signals are not supported on Windows") }
