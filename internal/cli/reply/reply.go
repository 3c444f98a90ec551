package replycmd

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/msgutil"
)

// DefaultQueue is the queue group responders join, natscli's default.
const DefaultQueue = "NATS-RPLY-22"

// Options are the inputs of `sluice reply`.
type Options struct {
	f *cmdutil.Factory

	Subject string
	Body    string
	BodySet bool
	Echo    bool
	Command string
	Queue   string
	Sleep   time.Duration
	Headers []string
	Count   int
	JSON    bool
}

const replyLong = `Answer requests on SUBJECT until interrupted or --count requests have
been answered. Each request is printed; the answer is, by choice:

  BODY          a fixed body, which may use templates, {{Request}} among them
  --echo        the request itself, with its headers (the default)
  --command     the output of a command run for each request

The command is split into words like a shell would, without expansion.
{{0}}, {{1}}, ... in it are replaced by the tokens of the request subject,
and it may use the body templates. It runs with the request body on stdin
and in $NATS_REQUEST_BODY, and the subject in $NATS_REQUEST_SUBJECT.

Responders join the queue group "` + DefaultQueue + `", so several share the
load; --queue changes the group.

` + msgutil.TemplateHelp + `
  {{Request}}           the request body`

// New builds `sluice reply`.
func New(f *cmdutil.Factory) *cobra.Command { return NewCmd(f, nil) }

// NewCmd builds `sluice reply` with an optional run function for tests.
func NewCmd(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	o := &Options{f: f}
	cmd := &cobra.Command{
		Use:   "reply SUBJECT [BODY]",
		Short: "Answer requests with a body, an echo or a command's output",
		Long:  replyLong,
		Example: `  sluice reply time.now 'it is {{TimeStamp}}'
  sluice reply echo --echo
  sluice reply 'weather.>' --command "curl -s wttr.in/{{1}}?format=3"
  sluice reply upper --command 'tr a-z A-Z'`,
		Args: cmdutil.RangeArgs(0, 2, "SUBJECT", "BODY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.Subject = args[0]
			}
			if len(args) > 1 {
				o.Body, o.BodySet = args[1], true
			}
			if runF != nil {
				return runF(o)
			}
			return run(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&o.Echo, "echo", false, "answer with the request itself")
	fl.StringVar(&o.Command, "command", "", "answer with the output of `COMMAND`")
	fl.StringVarP(&o.Queue, "queue", "q", DefaultQueue, "queue `GROUP` to join")
	fl.DurationVar(&o.Sleep, "sleep", 0, "wait a random time up to this long before each answer")
	fl.StringArrayVarP(&o.Headers, "header", "H", nil, "add a header to answers, as `Key:Value` (repeatable)")
	fl.IntVar(&o.Count, "count", 0, "stop after answering this many requests")
	cmdutil.AddJSONFlag(cmd, &o.JSON)
	return cmd
}

type responder struct {
	o    *Options
	nc   *nats.Conn
	body *msgutil.Template
	hdrs *msgutil.Headers
	jl   *cmdutil.JSONLines

	mu   sync.Mutex
	n    int
	done bool
}

func run(ctx context.Context, o *Options) error {
	f := o.f
	if err := f.RequireInput(&o.Subject, "SUBJECT argument", "Subject to answer requests on:"); err != nil {
		return err
	}
	if err := msgutil.ValidateSubject(o.Subject, true); err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	modes := 0
	for _, b := range []bool{o.BodySet, o.Echo, o.Command != ""} {
		if b {
			modes++
		}
	}
	if modes > 1 {
		return cmdutil.FlagErrorf("choose one of BODY, --echo and --command")
	}
	if o.Count < 0 {
		return cmdutil.FlagErrorf("--count must not be negative")
	}
	if modes == 0 {
		o.Echo = true
		fmt.Fprintln(f.IO.ErrOut, "No body or --command given: echoing requests back")
	}
	r := &responder{o: o, jl: cmdutil.NewJSONLines(f.IO.Out)}
	var err error
	if o.BodySet {
		if r.body, err = msgutil.Compile(o.Body, true); err != nil {
			return &cmdutil.UsageError{Err: err}
		}
	}
	if o.Command != "" {
		if _, err := cmdutil.SplitCommand(o.Command); err != nil {
			return cmdutil.FlagErrorf("--command: %v", err)
		}
	}
	if r.hdrs, err = msgutil.ParseHeaders(o.Headers, true); err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	if r.nc, err = f.Conn(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub, err := r.nc.QueueSubscribe(o.Subject, o.Queue, func(m *nats.Msg) {
		if r.handle(m) {
			cancel()
		}
	})
	if err != nil {
		return fmt.Errorf("cannot subscribe to %q: %w", o.Subject, err)
	}
	if err := r.nc.FlushTimeout(f.Timeout()); err != nil {
		return err
	}
	if err := r.nc.LastError(); err != nil {
		return err
	}
	// Always announced on stderr: scripts wait for it before requesting.
	fmt.Fprintf(f.IO.ErrOut, "Listening on %q in queue group %q\n", o.Subject, o.Queue)
	<-ctx.Done()
	sub.Unsubscribe()
	r.mu.Lock()
	r.done = true
	r.mu.Unlock()
	return r.nc.FlushTimeout(f.Timeout())
}

// handle answers one request; it reports whether --count is reached.
func (r *responder) handle(m *nats.Msg) bool {
	o, io := r.o, r.o.f.IO
	r.mu.Lock()
	if r.done || (o.Count > 0 && r.n >= o.Count) {
		r.mu.Unlock()
		return false
	}
	r.n++
	n := r.n
	if o.JSON {
		r.jl.Write(msgutil.NewMessage(m, uint64(n), time.Now()))
	} else {
		fmt.Fprintf(io.ErrOut, "[#%d] Received on %q\n", n, m.Subject)
		msgutil.WriteHeaders(io.ErrOut, m.Header)
		msgutil.WriteBody(io.Out, m.Data)
	}
	r.mu.Unlock()

	if m.Reply == "" {
		fmt.Fprintf(io.ErrOut, "sluice: request #%d on %q has no reply subject; not answering\n", n, m.Subject)
		return o.Count > 0 && n >= o.Count
	}
	if o.Sleep > 0 {
		time.Sleep(rand.N(o.Sleep))
	}
	resp, err := r.answer(m, n)
	if err != nil {
		fmt.Fprintf(io.ErrOut, "sluice: request #%d: %v\n", n, err)
	}
	if resp != nil {
		if err := m.RespondMsg(resp); err != nil {
			fmt.Fprintf(io.ErrOut, "sluice: cannot answer request #%d: %v\n", n, err)
		}
	}
	return o.Count > 0 && n >= o.Count
}

// answer builds the reply to request number n.
func (r *responder) answer(m *nats.Msg, n int) (*nats.Msg, error) {
	o := r.o
	resp := nats.NewMsg(m.Reply)
	hdr, err := r.hdrs.Build(n)
	if err != nil {
		return nil, err
	}
	for k, vs := range hdr {
		for _, v := range vs {
			resp.Header.Add(k, v)
		}
	}
	switch {
	case o.Echo:
		for k, vs := range m.Header {
			for _, v := range vs {
				resp.Header.Add(k, v)
			}
		}
		resp.Header.Set("NATS-Reply-Counter", strconv.Itoa(n))
		resp.Data = m.Data
	case o.Command != "":
		resp.Data, err = runCommand(o.Command, m, n)
	default:
		resp.Data, err = r.body.Execute(n, m.Data)
	}
	if len(resp.Header) == 0 {
		resp.Header = nil
	}
	return resp, err
}

// runCommand runs the --command for request m and returns its output,
// stdout and stderr together, even when it fails.
func runCommand(command string, m *nats.Msg, n int) ([]byte, error) {
	line := command
	for i, tok := range strings.Split(m.Subject, ".") {
		line = strings.ReplaceAll(line, fmt.Sprintf("{{%d}}", i), tok)
	}
	t, err := msgutil.Compile(line, true)
	if err != nil {
		return nil, err
	}
	expanded, err := t.Execute(n, m.Data)
	if err != nil {
		return nil, err
	}
	argv, err := cmdutil.SplitCommand(string(expanded))
	if err != nil {
		return nil, err
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("--command is empty")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "NATS_REQUEST_SUBJECT="+m.Subject, "NATS_REQUEST_BODY="+string(m.Data))
	cmd.Stdin = bytes.NewReader(m.Data)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("command %q failed: %w", argv[0], err)
	}
	return out, nil
}
