package route_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

// BenchmarkInterestJoinVsRef: node A (a process) holds 100,000
// subscriptions of one client; each iteration starts node B (a process of
// the same kind) routing to A and waits until B's /varz counts them all.
// The time per op runs from B's start, so it includes B's start-up; the
// metrics are B's resident memory after the join and the CPU time B
// spent. sluice and nats-server v2.15.2 alike, in one run:
//
//	go test -run - -bench InterestJoinVsRef -benchtime 5x ./internal/server/route/
func BenchmarkInterestJoinVsRef(b *testing.B) {
	const n = 100000
	sluiceBin := buildSluice(b)
	for _, impl := range []struct{ name, bin, cmd string }{
		{"sluice", sluiceBin, "serve"},
		{"nats-server", refbin.NATSServer(b), ""},
	} {
		b.Run(impl.name, func(b *testing.B) {
			a := startProc(b, impl.bin, impl.cmd, "a", "")
			nc, err := nats.Connect(a.client)
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			for i := 0; i < n; i++ {
				if _, err := nc.Subscribe("interest."+strconv.Itoa(i), func(*nats.Msg) {}); err != nil {
					b.Fatal(err)
				}
			}
			if err := nc.Flush(); err != nil {
				b.Fatal(err)
			}
			var rss, cpu float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := startProc(b, impl.bin, impl.cmd, fmt.Sprintf("b%d", i), a.route)
				for {
					v := p.varz(b)
					if v.Subscriptions >= n {
						rss += float64(v.Mem) / (1 << 20)
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
				b.StopTimer()
				cpu += p.cpuMillis()
				p.stop()
				b.StartTimer()
			}
			b.ReportMetric(rss/float64(b.N), "MB-RSS-of-B")
			b.ReportMetric(cpu/float64(b.N), "cpu-ms-of-B")
		})
	}
}

// benchProc is a server process started by a benchmark.
type benchProc struct {
	cmd                 *exec.Cmd
	client, route, http string
}

func startProc(b *testing.B, bin, sub, name, routeTo string) *benchProc {
	b.Helper()
	dir := b.TempDir()
	routes := ""
	if routeTo != "" {
		routes = fmt.Sprintf(`, routes: [%q]`, routeTo)
	}
	conf := fmt.Sprintf(`listen: "127.0.0.1:-1"
http: "127.0.0.1:-1"
server_name: %s
ports_file_dir: %q
cluster { name: bench, listen: "127.0.0.1:-1"%s }
`, name, dir, routes)
	cf := filepath.Join(dir, "s.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		b.Fatal(err)
	}
	args := []string{"-c", cf}
	if sub != "" {
		args = append([]string{sub}, args...)
	}
	p := &benchProc{cmd: exec.Command(bin, args...)}
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.stop)
	suffix := "_" + strconv.Itoa(p.cmd.Process.Pid) + ".ports"
	testutil.CheckFor(b, 20*time.Second, 2*time.Millisecond, func() error {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), suffix) {
				continue
			}
			buf, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				return err
			}
			var pf struct{ Nats, Cluster, Monitoring []string }
			if err := json.Unmarshal(buf, &pf); err != nil || len(pf.Nats) == 0 || len(pf.Cluster) == 0 || len(pf.Monitoring) == 0 {
				return fmt.Errorf("ports file incomplete: %s", buf)
			}
			p.client, p.route, p.http = pf.Nats[0], pf.Cluster[0], pf.Monitoring[0]
			return nil
		}
		return errNotYet
	})
	return p
}

type benchVarz struct {
	Subscriptions int   `json:"subscriptions"`
	Mem           int64 `json:"mem"`
}

func (p *benchProc) varz(b *testing.B) benchVarz {
	resp, err := http.Get(p.http + "/varz")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var v benchVarz
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		b.Fatal(err)
	}
	return v
}

// cpuMillis is the user and system CPU time the process used (Linux).
func (p *benchProc) cpuMillis() float64 {
	buf, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(buf)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) * 10 // clock ticks of 10 ms
}

func (p *benchProc) stop() {
	if p.cmd.ProcessState == nil && p.cmd.Process != nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

var builtSluice string

// buildSluice builds the sluice binary once per test process.
func buildSluice(b *testing.B) string {
	b.Helper()
	if builtSluice != "" {
		return builtSluice
	}
	dir, err := os.MkdirTemp("", "sluice-bench-bin")
	if err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(dir, "sluice")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/sluicehq/sluice/cmd/sluice").CombinedOutput()
	if err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	builtSluice = bin
	return bin
}
