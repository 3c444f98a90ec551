package streamcmd

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
	"github.com/sluicehq/sluice/internal/cli/msgutil"
)

// storedMsg is a stored message in the JSON form of the API's
// STREAM.MSG.GET response, which natscli's 'stream get --json' prints:
// headers as their raw wire bytes, data as bytes (base64 in JSON).
type storedMsg struct {
	Subject string    `json:"subject"`
	Seq     uint64    `json:"seq"`
	Header  []byte    `json:"hdrs,omitempty"`
	Data    []byte    `json:"data,omitempty"`
	Time    time.Time `json:"time"`
}

// wireHeader encodes h as a NATS header block.
func wireHeader(h nats.Header) []byte {
	if len(h) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("NATS/1.0\r\n")
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

func newGet(f *cmdutil.Factory) *cobra.Command {
	var (
		lastFor string
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "get [STREAM] [SEQUENCE]",
		Short: "Show one message of a stream",
		Long: `Show the message with SEQUENCE, or with --last-for the last message on a
subject. --json prints it as the API does (headers and data base64).`,
		Example: `  sluice stream get ORDERS 12
  sluice stream get ORDERS --last-for orders.new --json`,
		Args: cmdutil.RangeArgs(0, 2, "STREAM", "SEQUENCE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, seqS := argOr(args, 0), argOr(args, 1)
			if seqS != "" && lastFor != "" {
				return cmdutil.FlagErrorf("give SEQUENCE or --last-for, not both")
			}
			if lastFor != "" {
				if err := msgutil.ValidateSubject(lastFor, false); err != nil {
					return cmdutil.FlagErrorf("--last-for: %v", err)
				}
			}
			if seqS != "" {
				if _, err := parseSeq(seqS); err != nil {
					return err
				}
			}
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			st, err := s.stream(&name)
			if err != nil {
				return err
			}
			var m *jetstream.RawStreamMsg
			if lastFor != "" {
				m, err = st.GetLastMsgForSubject(s.ctx, lastFor)
			} else {
				if err := f.RequireInput(&seqS, "SEQUENCE argument (or --last-for)", "Message Sequence to retrieve"); err != nil {
					return err
				}
				seq, perr := parseSeq(seqS)
				if perr != nil {
					return perr
				}
				m, err = st.GetMsg(s.ctx, seq)
			}
			if err != nil {
				return jsutil.Err(err, "stream", name)
			}
			// A direct get describes the message in headers of its own.
			for _, h := range []string{"Nats-Stream", "Nats-Sequence", "Nats-Time-Stamp", "Nats-Subject", "Nats-Last-Sequence", "Nats-Num-Pending"} {
				delete(m.Header, h)
			}
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, storedMsg{Subject: m.Subject, Seq: m.Sequence,
					Header: wireHeader(m.Header), Data: m.Data, Time: m.Time})
			}
			writeMsg(f.IO.Out, name, m.Sequence, m.Subject, m.Time, m.Header, m.Data, false)
			return nil
		},
	}
	cmd.Flags().StringVarP(&lastFor, "last-for", "S", "", "the last message on `SUBJECT`")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

// writeMsg prints one stored message as natscli does.
func writeMsg(w io.Writer, stream string, seq uint64, subject string, t time.Time, h nats.Header, data []byte, raw bool) {
	if raw {
		w.Write(data)
		fmt.Fprintln(w)
		return
	}
	fmt.Fprintf(w, "[%d] Subject: %s Received: %s\n", seq, subject, t.Local().Format(time.RFC3339))
	if len(h) > 0 {
		fmt.Fprintln(w)
		msgutil.WriteHeaders(w, h)
	}
	fmt.Fprintln(w)
	if len(data) == 0 {
		fmt.Fprintln(w, "nil body")
	} else {
		msgutil.WriteBody(w, data)
	}
	fmt.Fprintln(w)
}

func newView(f *cmdutil.Factory) *cobra.Command {
	var (
		startID int
		since   time.Duration
		raw     bool
		subject string
	)
	cmd := &cobra.Command{
		Use:   "view [STREAM] [PAGE_SIZE]",
		Short: "Page through the messages of a stream",
		Long: `Show the messages of a stream, PAGE_SIZE (default 10, at most 25) at a
time, asking before each next page on a terminal; elsewhere every
message is printed. Nothing is acknowledged or changed: an ordered
consumer the server removes by itself reads the stream.`,
		Example: `  sluice stream view ORDERS
  sluice stream view ORDERS 5 --id 100 --subject orders.new`,
		Args: cmdutil.RangeArgs(0, 2, "STREAM", "PAGE_SIZE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := argOr(args, 0)
			size := 10
			if v := argOr(args, 1); v != "" {
				if _, err := fmt.Sscan(v, &size); err != nil || size < 1 || size > 25 {
					return cmdutil.FlagErrorf("PAGE_SIZE must be from 1 to 25, not %q", v)
				}
			}
			if startID < 0 {
				return cmdutil.FlagErrorf("--id must be a positive sequence, not %d", startID)
			}
			if cmd.Flags().Changed("id") && cmd.Flags().Changed("since") {
				return cmdutil.FlagErrorf("--id and --since cannot be used together")
			}
			if subject != "" {
				if err := msgutil.ValidateSubject(subject, true); err != nil {
					return cmdutil.FlagErrorf("--subject: %v", err)
				}
			}
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			st, err := s.stream(&name)
			if err != nil {
				return err
			}
			return view(cmd.Context(), f, st, name, size, startID, since, raw, subject)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&startID, "id", 0, "start at sequence `SEQ`")
	fl.DurationVar(&since, "since", 0, "start with messages received this long ago")
	fl.BoolVar(&raw, "raw", false, "print only the message data")
	fl.StringVar(&subject, "subject", "", "only messages on `SUBJECT` (wildcards allowed)")
	return cmd
}

func view(ctx context.Context, f *cmdutil.Factory, st jetstream.Stream, name string, size, startID int, since time.Duration, raw bool, subject string) error {
	info := st.CachedInfo()
	if info.State.Msgs == 0 {
		fmt.Fprintf(f.IO.ErrOut, "Stream %s has no messages\n", name)
		return nil
	}
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if subject != "" {
		cfg.FilterSubjects = []string{subject}
	}
	switch {
	case startID > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, uint64(startID)
	case since > 0:
		t := time.Now().Add(-since)
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	}
	cctx, cancel := jsutil.Ctx(ctx, f)
	cons, err := st.OrderedConsumer(cctx, cfg)
	cancel()
	if err != nil {
		return jsutil.Err(err, "stream", name)
	}
	p := f.Prompt()
	shown := 0
	for {
		batch, err := cons.FetchNoWait(size)
		if err != nil {
			return jsutil.Err(err, "stream", name)
		}
		n := 0
		last := false
		for m := range batch.Messages() {
			n++
			md, err := m.Metadata()
			if err != nil {
				return err
			}
			writeMsg(f.IO.Out, name, md.Sequence.Stream, m.Subject(), md.Timestamp, m.Headers(), m.Data(), raw)
			if md.NumPending == 0 {
				last = true
			}
		}
		if err := batch.Error(); err != nil && n == 0 {
			return jsutil.Err(err, "stream", name)
		}
		shown += n
		if n == 0 || last {
			if shown == 0 {
				fmt.Fprintln(f.IO.ErrOut, "No messages to show")
			} else {
				fmt.Fprintln(f.IO.ErrOut, "Reached the end of the stream")
			}
			return nil
		}
		if p != nil {
			more, err := p.Confirm("Next Page?", true)
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

func newSubjects(f *cmdutil.Factory) *cobra.Command {
	var (
		sortBy         string
		reverse, names bool
		asJSON         bool
	)
	cmd := &cobra.Command{
		Use:     "subjects [STREAM] [FILTER]",
		Aliases: []string{"subj"},
		Short:   "List the subjects held in a stream with their message counts",
		Args:    cmdutil.RangeArgs(0, 2, "STREAM", "FILTER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, filter := argOr(args, 0), argOr(args, 1)
			if filter == "" {
				filter = ">"
			}
			if err := msgutil.ValidateSubject(filter, true); err != nil {
				return cmdutil.FlagErrorf("FILTER: %v", err)
			}
			switch sortBy {
			case "name", "subjects", "messages", "count":
			default:
				return cmdutil.FlagErrorf("--sort must be name or messages, not %q", sortBy)
			}
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			st, err := s.stream(&name)
			if err != nil {
				return err
			}
			info, err := st.Info(s.ctx, jetstream.WithSubjectFilter(filter))
			if err != nil {
				return jsutil.Err(err, "stream", name)
			}
			subs := info.State.Subjects
			if subs == nil {
				subs = map[string]uint64{}
			}
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, subs)
			}
			keys := make([]string, 0, len(subs))
			for k := range subs {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(i, j int) bool {
				a, b := keys[i], keys[j]
				less := a < b
				if (sortBy == "messages" || sortBy == "count") && subs[a] != subs[b] {
					less = subs[a] < subs[b]
				}
				return less != reverse
			})
			if len(keys) == 0 {
				fmt.Fprintf(f.IO.ErrOut, "No subjects in stream %s match %s\n", name, filter)
				return nil
			}
			if names {
				for _, k := range keys {
					printf(f, "%s\n", k)
				}
				return nil
			}
			t := cmdutil.NewTable(f.IO, "")
			t.AddHeader("Subject", "Count")
			for _, k := range keys {
				t.AddRow(k, cmdutil.Comma(int64(subs[k])))
			}
			t.AlignRight(2)
			t.Render()
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&sortBy, "sort", "messages", "sort by name or messages")
	fl.BoolVarP(&reverse, "reverse", "R", false, "reverse the order")
	fl.BoolVar(&names, "names", false, "print the subject names only")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}
