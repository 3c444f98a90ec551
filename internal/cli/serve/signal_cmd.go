package servecmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// sendSignal implements --signal CMD[=PID|PIDFILE]: with no pid it finds
// the one running sluice server, as nats-server finds the one running
// nats-server. A real nats-server is never a candidate.
func sendSignal(out io.Writer, arg string) error {
	cmd, target, _ := strings.Cut(arg, "=")
	sig, ok := signalsByCommand[cmd]
	if !ok {
		names := make([]string, 0, len(signalsByCommand))
		for n := range signalsByCommand {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Errorf("unknown signal %q; use one of %s", cmd, strings.Join(names, ", "))
	}
	pid, err := resolvePid(target)
	if err != nil {
		return err
	}
	if err := kill(pid, sig); err != nil {
		return fmt.Errorf("signal %s to pid %d: %w", cmd, pid, err)
	}
	fmt.Fprintf(out, "sent %s (%v) to pid %d\n", cmd, sig, pid)
	return nil
}

// resolvePid reads a pid, a pid file, or finds the single running server.
func resolvePid(target string) (int, error) {
	if target != "" {
		if pid, err := strconv.Atoi(target); err == nil {
			return pid, nil
		}
		b, err := os.ReadFile(target)
		if err != nil {
			return 0, fmt.Errorf("read pid file: %w", err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return 0, fmt.Errorf("pid file %s does not hold a process id", target)
		}
		return pid, nil
	}
	pids := runningServers()
	switch len(pids) {
	case 0:
		return 0, errors.New("no running sluice server found; give one with --signal CMD=PID or CMD=PIDFILE")
	case 1:
		return pids[0], nil
	}
	strs := make([]string, len(pids))
	for i, p := range pids {
		strs[i] = strconv.Itoa(p)
	}
	return 0, fmt.Errorf("multiple servers running (pids %s); choose one with --signal CMD=PID", strings.Join(strs, ", "))
}

// runningServers lists other processes running sluice's broker (sluice
// serve, or this binary through a link named nats-server), from /proc.
func runningServers() []int {
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	selfExe, _ := os.Executable()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		prog := filepath.Base(args[0])
		switch {
		case prog == "nats-server" && isSluice(pid, selfExe) && !hasArg(args, "--signal", "-signal", "-sl", "--sl"):
			pids = append(pids, pid)
		case prog == "sluice" && len(args) > 1 && args[1] == "serve" && !hasArg(args, "--signal"):
			pids = append(pids, pid)
		}
	}
	return pids
}

func hasArg(args []string, names ...string) bool {
	for _, a := range args {
		for _, n := range names {
			if a == n || strings.HasPrefix(a, n+"=") {
				return true
			}
		}
	}
	return false
}

// isSluice reports whether process pid runs a sluice binary: this one, or
// one named sluice (a link named nats-server resolves to it).
func isSluice(pid int, selfExe string) bool {
	exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "exe"))
	if err != nil {
		return false
	}
	exe = strings.TrimSuffix(exe, " (deleted)")
	return exe == selfExe || filepath.Base(exe) == "sluice"
}
