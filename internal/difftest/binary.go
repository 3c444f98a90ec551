package difftest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// Binary is a Target run as a process: the reference nats-server, or a
// sluice binary (with Args "serve").
type Binary struct {
	Label string
	Path  string
	Args  []string // before -c FILE
}

// Name implements Target.
func (b *Binary) Name() string { return b.Label }

var listenLine = regexp.MustCompile(`Listening for client connections on (\S+:\d+)`)

// Start implements Target: it runs the binary on a copy of the file that
// listens on a random loopback port, and waits for the line announcing
// the port, or for the process to exit (a refused configuration).
func (b *Binary) Start(path string) (string, func(), error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	run := path + ".run"
	if err := os.WriteFile(run, append([]byte("listen: \"127.0.0.1:-1\"\n"), text...), 0o600); err != nil {
		return "", nil, err
	}
	cmd := exec.Command(b.Path, append(append([]string(nil), b.Args...), "-c", run)...)
	out, err := cmd.StderrPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	found := make(chan string, 1)
	exited := make(chan struct{})
	var logs strings.Builder
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if m := listenLine.FindStringSubmatch(line); m != nil {
				found <- m[1]
			}
			if logs.Len() < 4096 {
				logs.WriteString(line + "\n")
			}
		}
		cmd.Wait()
		close(exited)
	}()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}
	select {
	case addr := <-found:
		return addr, stop, nil
	case <-exited:
		return "", nil, errors.New(strings.TrimSpace(logs.String()))
	case <-time.After(30 * time.Second):
		stop()
		return "", nil, fmt.Errorf("%s did not start within 30s", b.Path)
	}
}
