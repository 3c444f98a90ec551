package consumercmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
	"github.com/sluicehq/sluice/internal/cli/msgutil"
)

// readOpts say what to do with each message read.
type readOpts struct {
	ack, nak, term, raw bool
}

// handle prints m and acknowledges it as asked; it returns what it did.
func (o readOpts) handle(ctx context.Context, w io.Writer, m jetstream.Msg, policy jetstream.AckPolicy) error {
	md, err := m.Metadata()
	if err != nil {
		return err
	}
	if o.raw {
		w.Write(m.Data())
		fmt.Fprintln(w)
	} else {
		fmt.Fprintf(w, "[%s] subj: %s / delivered: %d / stream seq: %d / consumer seq: %d\n",
			time.Now().Format("15:04:05"), m.Subject(), md.NumDelivered, md.Sequence.Stream, md.Sequence.Consumer)
		if len(m.Headers()) > 0 {
			fmt.Fprintln(w)
			msgutil.WriteHeaders(w, m.Headers())
		}
		fmt.Fprintln(w)
		msgutil.WriteBody(w, m.Data())
		fmt.Fprintln(w)
	}
	if policy == jetstream.AckNonePolicy {
		return nil
	}
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var what string
	switch {
	case o.term:
		err, what = m.Term(), "Terminated"
	case o.nak:
		err, what = m.Nak(), "Negatively acknowledged"
	case o.ack:
		err, what = m.DoubleAck(actx), "Acknowledged"
	default:
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot acknowledge message %d: %w", md.Sequence.Stream, err)
	}
	if !o.raw {
		fmt.Fprintf(w, "%s message\n\n", what)
	}
	return nil
}

func newNext(f *cmdutil.Factory) *cobra.Command {
	var (
		ro    readOpts
		noAck bool
		count int
		wait  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "next STREAM CONSUMER",
		Short: "Fetch and print messages from a pull consumer",
		Long: `Fetch --count messages (default 1) from a pull consumer, print them and
acknowledge each (--no-ack leaves them unacknowledged, to be redelivered
after the ack wait; --nak asks for redelivery now; --term stops
redelivery). Waits up to --wait (default --timeout) for messages; none
arriving is a timeout.`,
		Example: `  sluice consumer next ORDERS NEW --count 10
  sluice consumer next ORDERS NEW --no-ack --raw`,
		Args: cmdutil.ExactArgs(2, "STREAM", "CONSUMER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			stream, name := args[0], args[1]
			if count < 1 {
				return cmdutil.FlagErrorf("--count must be at least 1, not %d", count)
			}
			if wait < 0 {
				return cmdutil.FlagErrorf("--wait must not be negative")
			}
			if ro.nak && ro.term {
				return cmdutil.FlagErrorf("--nak and --term cannot be used together")
			}
			if noAck {
				ro.ack = false
			}
			if wait == 0 {
				wait = f.Timeout()
			}
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			st, info, err := s.consumer(&stream, &name)
			if err != nil {
				return err
			}
			if info.Config.DeliverSubject != "" {
				return fmt.Errorf("consumer %s > %s is a push consumer; read it with 'sluice consumer sub %s %s'", stream, name, stream, name)
			}
			c, err := st.Consumer(s.ctx, name)
			if err != nil {
				return jsutil.Err(err, "consumer", name)
			}
			batch, err := c.Fetch(count, jetstream.FetchMaxWait(wait))
			if err != nil {
				return jsutil.Err(err, "consumer", name)
			}
			n := 0
			for m := range batch.Messages() {
				n++
				if err := ro.handle(cmd.Context(), f.IO.Out, m, info.Config.AckPolicy); err != nil {
					return err
				}
			}
			if err := batch.Error(); err != nil && n == 0 && !errors.Is(err, context.DeadlineExceeded) {
				return jsutil.Err(err, "consumer", name)
			}
			if n == 0 {
				return &cmdutil.Error{Code: cmdutil.ExitTimeout, Err: fmt.Errorf("no message received from %s > %s within %s", stream, name, wait)}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&ro.ack, "ack", true, "acknowledge each message")
	fl.BoolVar(&noAck, "no-ack", false, "do not acknowledge the messages")
	fl.BoolVar(&ro.nak, "nak", false, "negatively acknowledge each message (redeliver now)")
	fl.BoolVar(&ro.term, "term", false, "terminate each message (no more redeliveries)")
	fl.BoolVarP(&ro.raw, "raw", "r", false, "print only the message data")
	fl.DurationVar(&wait, "wait", 0, "how long to wait for messages (default --timeout)")
	fl.IntVar(&count, "count", 1, "number of messages to fetch")
	return cmd
}

func newSub(f *cmdutil.Factory) *cobra.Command {
	var (
		ro    readOpts
		noAck bool
		count int
	)
	cmd := &cobra.Command{
		Use:   "sub STREAM CONSUMER",
		Short: "Read messages from a consumer as they arrive",
		Long: `Read messages from a pull or push consumer as they arrive, print them and
acknowledge each (unless --no-ack), until interrupted or --count
messages were read.`,
		Args: cmdutil.ExactArgs(2, "STREAM", "CONSUMER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			stream, name := args[0], args[1]
			if count < 0 {
				return cmdutil.FlagErrorf("--count must not be negative, not %d", count)
			}
			if noAck {
				ro.ack = false
			}
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			st, info, err := s.consumer(&stream, &name)
			if err != nil {
				return err
			}
			ctx, stop := context.WithCancel(cmd.Context())
			defer stop()
			var (
				mu      sync.Mutex
				seen    atomic.Int64
				failure error
			)
			handler := func(m jetstream.Msg) {
				mu.Lock()
				defer mu.Unlock()
				if ctx.Err() != nil {
					return
				}
				if err := ro.handle(ctx, f.IO.Out, m, info.Config.AckPolicy); err != nil {
					failure = err
					stop()
					return
				}
				if n := seen.Add(1); count > 0 && n >= int64(count) {
					stop()
				}
			}
			var cc jetstream.ConsumeContext
			if info.Config.DeliverSubject != "" {
				pc, err := st.PushConsumer(s.ctx, name)
				if err != nil {
					return jsutil.Err(err, "consumer", name)
				}
				cc, err = pc.Consume(handler)
				if err != nil {
					return jsutil.Err(err, "consumer", name)
				}
			} else {
				c, err := st.Consumer(s.ctx, name)
				if err != nil {
					return jsutil.Err(err, "consumer", name)
				}
				cc, err = c.Consume(handler)
				if err != nil {
					return jsutil.Err(err, "consumer", name)
				}
			}
			fmt.Fprintf(f.IO.ErrOut, "Subscribing to consumer %s > %s\n", stream, name)
			<-ctx.Done()
			cc.Stop()
			mu.Lock()
			defer mu.Unlock()
			return failure
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&ro.ack, "ack", true, "acknowledge each message")
	fl.BoolVar(&noAck, "no-ack", false, "do not acknowledge the messages")
	fl.BoolVarP(&ro.raw, "raw", "r", false, "print only the message data")
	fl.IntVar(&count, "count", 0, "stop after this many messages (0: run until interrupted)")
	return cmd
}
