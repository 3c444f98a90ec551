package difftest

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

var (
	diffCases = flag.Int("diff.cases", 300, "number of generated cases to compare")
	diffSeed  = flag.Uint64("diff.seed", 1, "seed of the generated cases")
	diffCase  = flag.Int("diff.case", -1, "run only this case index (with its -diff.seed)")
	diffShow  = flag.Bool("diff.show", false, "print every case's configuration and scenario")
)

// inProcess is sluice's broker started in this process, from the file as
// `sluice serve -c` reads it (unknown keys are errors).
type inProcess struct{}

func (inProcess) Name() string { return "sluice" }

func (inProcess) Start(path string) (string, func(), error) {
	var o server.Options
	if _, err := o.ProcessConfigFile(path, true); err != nil {
		return "", nil, err
	}
	o.Host, o.Port = "127.0.0.1", server.RandomPort
	s, err := server.New(o)
	if err != nil {
		return "", nil, err
	}
	if err := s.Start(); err != nil {
		return "", nil, err
	}
	return s.Addr().String(), s.Shutdown, nil
}

// TestDifferential plays generated cases on sluice and on the reference
// nats-server and fails on the first difference of each failing case.
// Reproduce one with -diff.seed=S -diff.case=N (-diff.show prints it).
func TestDifferential(t *testing.T) {
	ref := &Binary{Label: "nats-server", Path: refbin.NATSServer(t)}
	var sluice Target = inProcess{}
	first, last := 0, *diffCases
	if *diffCase >= 0 {
		first, last = *diffCase, *diffCase+1
	}
	var failed atomic.Int32
	var stats struct{ cases, refused, msgs, errs atomic.Int64 }
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(2, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if failed.Load() >= 10 {
					continue // enough to look at
				}
				if msg := runCase(t, sluice, ref, *diffSeed, i, func(tr *Transcript) {
					stats.cases.Add(1)
					if tr.Refused != "" {
						stats.refused.Add(1)
					}
					for _, st := range tr.Steps {
						for _, e := range st {
							switch {
							case strings.Contains(e, ": MSG "):
								stats.msgs.Add(1)
							case strings.Contains(e, ": ERR "):
								stats.errs.Add(1)
							}
						}
					}
				}); msg != "" {
					failed.Add(1)
					t.Error(msg)
				}
			}
		}()
	}
	for i := first; i < last; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	// What the reference did over all cases, to see the cases exercise
	// something: deliveries, errors and refused configurations.
	t.Logf("%d cases (seed %d): the reference refused %d configurations, delivered %d messages and sent %d errors",
		stats.cases.Load(), *diffSeed, stats.refused.Load(), stats.msgs.Load(), stats.errs.Load())
}

func runCase(t *testing.T, a, b Target, seed uint64, i int, observe func(*Transcript)) string {
	c := Generate(seed, i)
	dir, err := os.MkdirTemp(t.TempDir(), fmt.Sprintf("case%d-", i))
	if err != nil {
		return err.Error()
	}
	if *diffShow {
		t.Logf("case %d:\n%s", i, c.Describe())
	}
	ta, err := Run(a, c, dir)
	if err != nil {
		return fmt.Sprintf("case %d on %s: %v", i, a.Name(), err)
	}
	tb, err := Run(b, c, dir)
	if err != nil {
		return fmt.Sprintf("case %d on %s: %v", i, b.Name(), err)
	}
	observe(tb)
	if d := Diff(c, ta, tb, a.Name(), b.Name()); d != "" {
		return fmt.Sprintf("case %d (-diff.seed=%d -diff.case=%d) differs %s\n%s", i, seed, i, d, c.Describe())
	}
	return ""
}

// The generator is reproducible: the same seed and index give the same
// case.
func TestGenerateIsReproducible(t *testing.T) {
	for i := range 20 {
		if a, b := Generate(7, i).Describe(), Generate(7, i).Describe(); a != b {
			t.Fatalf("case %d differs between two generations:\n%s\n%s", i, a, b)
		}
	}
	if Generate(7, 0).Describe() == Generate(8, 0).Describe() {
		t.Error("different seeds gave the same case")
	}
}

// The harness sees a difference when there is one: a target that drops
// every message differs from the reference.
func TestDiffDetectsDifferences(t *testing.T) {
	c := &Case{
		Users:   []*User{{Name: "u0"}},
		Clients: []ClientSpec{{User: "u0", Pass: "p"}, {User: "u0", Pass: "p"}},
		Steps: []Step{
			{Op: "sub", Client: 0, Subject: "a.>", SID: 1},
			{Op: "pub", Client: 1, Subject: "a.x", Payload: "hello"},
		},
	}
	ref := &Binary{Label: "nats-server", Path: refbin.NATSServer(t)}
	tr, err := Run(ref, c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.Steps[2]; len(got) != 1 || got[0] != `c0: MSG a.x to sid 1 reply "" payload "hello"` {
		t.Fatalf("reference transcript: %q", tr.Steps)
	}
	lossy := &Transcript{Steps: [][]string{tr.Steps[0], tr.Steps[1], nil}}
	if d := Diff(c, tr, lossy, "ref", "lossy"); d == "" {
		t.Fatal("no difference reported")
	}
	if d := Diff(c, tr, &Transcript{Refused: "no"}, "ref", "refusing"); d == "" {
		t.Fatal("a refused configuration is no difference")
	}
}
