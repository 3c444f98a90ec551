//go:build !windows

package servecmd

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/sluicehq/sluice/internal/logger"
	"github.com/sluicehq/sluice/internal/server"
)

// handleSignals wires process signals to the server as nats-server does:
// INT/TERM stop gracefully, QUIT exits at once, HUP reloads the
// configuration, USR1 reopens the log file, USR2 enters lame duck mode.
func handleSignals(s *server.Server, log *logger.Logger) (stop func()) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT,
		syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case sig := <-sigs:
				switch sig {
				case syscall.SIGINT, syscall.SIGTERM:
					log.Noticef("Trapped %q signal", sig)
					go s.Shutdown()
				case syscall.SIGQUIT:
					log.Noticef("Trapped %q signal, exiting immediately", sig)
					os.Exit(0)
				case syscall.SIGHUP:
					log.Noticef("Trapped %q signal, reloading configuration", sig)
					s.Reload() // failures are logged by the reloader
				case syscall.SIGUSR1:
					log.Noticef("Trapped %q signal, reopening log file", sig)
					if err := log.Reopen(); err != nil {
						log.Errorf("Reopening log file: %v", err)
					}
				case syscall.SIGUSR2:
					go s.LameDuckMode()
				}
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}

// signalsByCommand maps --signal commands to what they send.
var signalsByCommand = map[string]syscall.Signal{
	"stop":   syscall.SIGKILL,
	"quit":   syscall.SIGINT,
	"term":   syscall.SIGTERM,
	"reopen": syscall.SIGUSR1,
	"reload": syscall.SIGHUP,
	"ldm":    syscall.SIGUSR2,
}

func kill(pid int, sig syscall.Signal) error { return syscall.Kill(pid, sig) }
