package benchcmd

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/msgutil"
)

// Kinds of benchmark.
const (
	kindPub     = "pub"
	kindSub     = "sub"
	kindRequest = "request"
	kindReply   = "reply"
)

const benchLong = `Measure core NATS performance with several clients, each on its own
connection, and report messages and bytes per second per client and in
total, with the spread of the clients' rates and, for requests, latency
percentiles. The figures are those of 'nats bench' (natscli), so results
can be compared side by side; both work against sluice and nats-server.

Progress bars are drawn on stderr when it is a terminal (--no-progress
turns them off); the report goes to stdout, as JSON with --json, and
--csv also saves one row per client.

Subscribers and responders must be running before the publishers start:`

// New builds `sluice bench` and its verbs.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure publish, subscribe and request-reply performance",
		Long:  benchLong,
		Example: `  sluice bench sub demo --msgs 1000000 &
  sluice bench pub demo --msgs 1000000 --size 512 --clients 2

  sluice bench reply svc &
  sluice bench request svc --msgs 10000 --clients 4`,
		Args: cmdutil.ExactArgs(0),
	}
	cmd.AddCommand(NewCmdPub(f, nil), NewCmdSub(f, nil), NewCmdRequest(f, nil), NewCmdReply(f, nil))
	cmd.AddCommand(newJS(f), newKV(f))
	return cmd
}

// Common are the inputs every bench verb has.
type Common struct {
	f *cmdutil.Factory

	Subject    string
	Clients    int
	Msgs       int64
	Size       string
	NoProgress bool
	CSV        string
	JSON       bool

	size int // Size in bytes, once checked
}

// addCommon defines the shared flags on cmd. The meaning of --msgs and
// --size differs by verb; an empty sizeUsage leaves --size out.
func addCommon(cmd *cobra.Command, c *Common, defMsgs int64, msgsUsage, sizeUsage string) {
	fl := cmd.Flags()
	fl.IntVar(&c.Clients, "clients", 1, "number of concurrent clients, each with its own connection")
	fl.Int64Var(&c.Msgs, "msgs", defMsgs, msgsUsage)
	if sizeUsage != "" {
		fl.StringVar(&c.Size, "size", "128B", sizeUsage)
	}
	fl.BoolVar(&c.NoProgress, "no-progress", false, "draw no progress bars")
	fl.StringVar(&c.CSV, "csv", "", "also save per-client figures to CSV `FILE`")
	cmdutil.AddJSONFlag(cmd, &c.JSON)
}

// check validates the shared inputs; minMsgs is 1, or 0 for reply.
func (c *Common) check(wildcards bool, minMsgs int64) error {
	f := c.f
	if err := f.RequireInput(&c.Subject, "SUBJECT argument", "Subject to benchmark on:"); err != nil {
		return err
	}
	if err := msgutil.ValidateSubject(c.Subject, wildcards); err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	if c.Clients < 1 {
		return cmdutil.FlagErrorf("--clients must be at least 1, not %d", c.Clients)
	}
	if c.Msgs < minMsgs {
		return cmdutil.FlagErrorf("--msgs must be at least %d, not %d", minMsgs, c.Msgs)
	}
	if c.Size != "" {
		n, err := cmdutil.ParseBytes(c.Size)
		if err != nil {
			return cmdutil.FlagErrorf("--size: %v", err)
		}
		if n > 64<<20 {
			return cmdutil.FlagErrorf("--size %s is too large: the most a NATS server accepts is 64 MiB", c.Size)
		}
		c.size = int(n)
	}
	return nil
}

// banner tells the user what is about to run, on stderr.
func (c *Common) banner(kind string, extra map[string]string) {
	args := map[string]string{
		"subject": c.Subject,
		"clients": cmdutil.Comma(int64(c.Clients)),
		"msgs":    cmdutil.Comma(c.Msgs),
	}
	if c.Size != "" {
		args["msg-size"] = cmdutil.IBytes(uint64(c.size))
	}
	for k, v := range extra {
		args[k] = v
	}
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + args[k]
	}
	fmt.Fprintf(c.f.IO.ErrOut, "Starting %s benchmark [%s]\n", label(kind), strings.Join(parts, ", "))
}

// client is one simulated client: its connection, its share of the
// work, and a counter its loop bumps for the progress bar.
type client struct {
	n    int // from 1
	nc   *nats.Conn
	msgs int64 // this client's share; 0 for open-ended work
	done atomic.Int64
}

// sample records what the client did, with its connection's counters.
func (c *client) sample(msgs, bytes int64, start, end time.Time, lat []time.Duration) *Sample {
	st := c.nc.Stats()
	return &Sample{Msgs: msgs, Bytes: bytes, Start: start, End: end, Latencies: lat,
		IOMsgs: st.InMsgs + st.OutMsgs, IOBytes: st.InBytes + st.OutBytes}
}

// clientFunc does one client's part. It sets up (subscribes, builds
// payloads), calls ready, which returns once every client is set up,
// then does the work and returns its sample.
type clientFunc func(ctx context.Context, c *client, ready func()) (*Sample, error)

// runClients connects c.Clients clients, runs fn on each at once, draws
// progress while they work, and returns their samples in client order.
// shares gives each client's share of the messages (nil: none).
func (c *Common) runClients(ctx context.Context, shares []int64, extra []nats.Option, fn clientFunc) ([]*Sample, error) {
	f := c.f
	clients := make([]*client, c.Clients)
	for i := range clients {
		nc, err := f.Dial(extra...)
		if err != nil {
			if i > 0 {
				err = fmt.Errorf("client %d: %w", i+1, err)
			}
			return nil, err
		}
		defer nc.Close()
		clients[i] = &client{n: i + 1, nc: nc}
		if shares != nil {
			clients[i].msgs = shares[i]
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var arrived, finished sync.WaitGroup
	begin := make(chan struct{})
	samples := make([]*Sample, len(clients))
	errs := make([]error, len(clients))
	arrived.Add(len(clients))
	finished.Add(len(clients))
	for i, cl := range clients {
		go func() {
			defer finished.Done()
			var once sync.Once
			arrive := func() { once.Do(arrived.Done) }
			defer arrive() // a client that fails while setting up must not hold the others
			s, err := fn(ctx, cl, func() { arrive(); <-begin })
			samples[i], errs[i] = s, err
			if err != nil {
				cancel()
			}
		}()
	}
	arrived.Wait()
	stopBars := c.startBars(clients)
	close(begin)
	finished.Wait()
	stopBars()

	for i, err := range errs {
		if err != nil {
			if len(clients) > 1 {
				err = fmt.Errorf("client %d: %w", i+1, err)
			}
			return nil, err
		}
	}
	for _, cl := range clients {
		if cl.nc.Stats().Reconnects > 0 {
			fmt.Fprintln(f.IO.ErrOut, "Warning: a client lost its connection during the run; the figures are not reliable")
			break
		}
	}
	return samples, nil
}

// startBars draws one bar per client with a known share, updated from
// the clients' counters so that their loops never wait on the display.
// The returned func draws the final state and stops.
func (c *Common) startBars(clients []*client) func() {
	if c.NoProgress {
		return func() {}
	}
	var p *cmdutil.Progress
	bars := make([]*cmdutil.Tracker, len(clients))
	for i, cl := range clients {
		if cl.msgs == 0 {
			continue
		}
		if p == nil {
			if p = c.f.NewProgress(); p == nil {
				return func() {}
			}
		}
		bars[i] = p.Track(fmt.Sprintf("Client %d", cl.n), cl.msgs)
	}
	if p == nil {
		return func() {}
	}
	update := func() {
		for i, cl := range clients {
			bars[i].SetValue(cl.done.Load())
		}
	}
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				update()
			}
		}
	}()
	return func() {
		close(stop)
		<-stopped
		update()
		for _, b := range bars {
			b.Done()
		}
		p.Stop()
	}
}

// report prints the result: JSON, or the figures for people; and saves
// the CSV file when asked.
func (c *Common) report(r *Result) error {
	io := c.f.IO
	if c.CSV != "" {
		if err := writeCSVFile(c.CSV, r); err != nil {
			return err
		}
	}
	if c.JSON {
		if err := cmdutil.WriteJSON(io.Out, r); err != nil {
			return err
		}
	} else {
		r.WriteReport(io.Out)
	}
	if c.CSV != "" {
		fmt.Fprintf(io.ErrOut, "Saved per-client figures in %s\n", c.CSV)
	}
	return nil
}

func writeCSVFile(path string, r *Result) error {
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("cannot save --csv: %w", err)
	}
	err = r.WriteCSV(fh, msgutil.NewID())
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot save --csv %s: %w", path, err)
	}
	return nil
}

// shares splits msgs over n clients as evenly as possible, the first
// clients taking the remainder.
func shares(msgs int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = msgs / int64(n)
		if int64(i) < msgs%int64(n) {
			out[i]++
		}
	}
	return out
}

// pause sleeps for d unless ctx ends first.
func pause(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// checkPayload fails early when the server would refuse the payload.
func checkPayload(nc *nats.Conn, size int) error {
	if mp := nc.MaxPayload(); mp > 0 && int64(size) > mp {
		return cmdutil.FlagErrorf("--size %s is larger than the server's max_payload of %s",
			cmdutil.IBytes(uint64(size)), cmdutil.IBytes(uint64(mp)))
	}
	return nil
}

// flushTimeout bounds the final flush: the server may still be working
// through a large backlog, so allow more than --timeout.
func (c *Common) flushTimeout() time.Duration {
	return max(c.f.Timeout(), time.Minute)
}
