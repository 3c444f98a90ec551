package benchcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
)

func newJSConsumer(f *cmdutil.Factory, kind, use, short string) *cobra.Command {
	o := &JSOptions{Common: Common{f: f}, kind: kind, Replicas: 1}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `. The stream must hold the messages already
(publish first with 'sluice bench js pub'). With the durable consumer
(consume, fetch) the clients share --msgs; ordered consumers each read
--msgs. A client that gets no message for --timeout gives up.`,
		Args: cmdutil.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error { return runJSConsumer(cmd.Context(), o) },
	}
	jsCommon(cmd, o, "number of messages to consume")
	if kind == kindJSOrdered {
		fl := cmd.Flags()
		fl.IntVar(&o.Batch, "batch", 500, "messages buffered in the client")
		fl.StringSliceVar(&o.Filter, "filter", nil, "consume only these `SUBJECTS`")
		fl.BoolVar(&o.Purge, "purge", false, "purge the stream before running")
	} else {
		consumerFlags(cmd, o)
	}
	return cmd
}

// idleWait ends a reader that has had nothing for --timeout.
func (o *JSOptions) idleWait(ctx context.Context, done func() int64, finished <-chan struct{}) error {
	last, lastAt := done(), time.Now()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-finished:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if n := done(); n != last {
				last, lastAt = n, time.Now()
			} else if time.Since(lastAt) > o.f.Timeout() {
				return &cmdutil.Error{Code: cmdutil.ExitTimeout, Err: fmt.Errorf("stopped after %s messages: none came for %s; does stream %s hold --msgs %s?",
					cmdutil.Comma(n), o.f.Timeout(), o.Stream, cmdutil.Comma(o.Msgs))}
			}
		}
	}
}

func runJSConsumer(ctx context.Context, o *JSOptions) error {
	if err := o.checkJS(); err != nil {
		return err
	}
	o.Subject = o.Stream
	if err := o.check(false, 1); err != nil {
		return err
	}
	var ack jetstream.AckPolicy
	switch o.Acks {
	case "explicit", "":
		ack = jetstream.AckExplicitPolicy
	case "none":
		ack = jetstream.AckNonePolicy
	case "all":
		ack = jetstream.AckAllPolicy
	default:
		return cmdutil.FlagErrorf("--acks must be explicit, none or all, not %q", o.Acks)
	}
	if o.kind != kindJSOrdered {
		if err := jsutil.ValidName("--consumer", o.Consumer); err != nil {
			return err
		}
	}
	st, err := o.prepareStream(ctx, nil)
	if err != nil {
		return err
	}
	var each []int64
	if o.kind == kindJSOrdered {
		each = make([]int64, o.Clients)
		for i := range each {
			each[i] = o.Msgs
		}
	} else {
		o.Clients = int(min(int64(o.Clients), o.Msgs))
		each = shares(o.Msgs, o.Clients)
		cctx, cancel := jsutil.Ctx(ctx, o.f)
		_, err := st.Consumer(cctx, o.Consumer)
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			cfg := jetstream.ConsumerConfig{Durable: o.Consumer, AckPolicy: ack, MaxAckPending: o.Batch * o.Clients,
				DeliverPolicy: jetstream.DeliverAllPolicy, InactiveThreshold: time.Hour}
			if len(o.Filter) == 1 {
				cfg.FilterSubject = o.Filter[0]
			} else {
				cfg.FilterSubjects = o.Filter
			}
			_, err = st.CreateConsumer(cctx, cfg)
			if err == nil {
				// Ours to remove, so that the next run starts afresh.
				defer func() {
					dctx, dcancel := jsutil.Ctx(context.Background(), o.f)
					st.DeleteConsumer(dctx, o.Consumer)
					dcancel()
				}()
			}
		}
		cancel()
		if err != nil {
			return jsutil.Err(err, "consumer", o.Consumer)
		}
	}
	o.Size = ""
	o.banner(o.kind, map[string]string{"stream": o.Stream, "batch": strconv.Itoa(o.Batch)})
	// The clients of a durable consumer share it, and one may be handed
	// more than its share while another waits: they count against one
	// total, and a client hands back (naks) what comes past it.
	var total, handled atomic.Int64
	allDone := make(chan struct{})
	shared := o.kind != kindJSOrdered
	samples, err := o.runClients(ctx, each, nil, func(ctx context.Context, c *client, ready func()) (*Sample, error) {
		js, err := jsutil.ForConn(o.f, c.nc)
		if err != nil {
			return nil, err
		}
		cctx, cancel := jsutil.Ctx(ctx, o.f)
		var cons jetstream.Consumer
		if o.kind == kindJSOrdered {
			cons, err = js.OrderedConsumer(cctx, o.Stream, jetstream.OrderedConsumerConfig{FilterSubjects: o.Filter})
		} else {
			cons, err = js.Consumer(cctx, o.Stream, o.Consumer)
		}
		cancel()
		if err != nil {
			return nil, jsutil.Err(err, "consumer", o.Consumer)
		}
		fmt.Fprintf(o.f.IO.ErrOut, "[%d] Starting %s, expecting %s messages\n", c.n, jsLabel(o.kind), cmdutil.Comma(c.msgs))
		ready()
		var bytes atomic.Int64
		var failed atomic.Pointer[error]
		finished := make(chan struct{})
		start := time.Now()
		if shared {
			finished = allDone
		}
		handle := func(m jetstream.Msg) bool {
			if shared {
				if total.Add(1) > o.Msgs {
					if ack != jetstream.AckNonePolicy {
						m.Nak()
					}
					return false
				}
			} else if c.done.Load() >= c.msgs {
				return false
			}
			bytes.Add(int64(len(m.Data())))
			if ack != jetstream.AckNonePolicy && o.kind != kindJSOrdered {
				var err error
				if o.DoubleAck {
					actx, acancel := jsutil.Ctx(ctx, o.f)
					err = m.DoubleAck(actx)
					acancel()
				} else {
					err = m.Ack()
				}
				if err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
			n := c.done.Add(1)
			switch {
			case shared:
				// Counted after c.done, so every client's share is in
				// when the last one closes allDone (once).
				if handled.Add(1) == o.Msgs {
					close(allDone)
					return false
				}
			case n == c.msgs:
				close(finished)
				return false
			}
			return true
		}
		if o.kind == kindJSFetch {
			go func() {
				for total.Load() < o.Msgs && ctx.Err() == nil {
					want := int(max(1, min(int64(o.Batch), o.Msgs-total.Load())))
					batch, err := cons.Fetch(want, jetstream.FetchMaxWait(time.Second))
					if err != nil {
						failed.CompareAndSwap(nil, &err)
						return
					}
					for m := range batch.Messages() {
						if !handle(m) {
							break
						}
					}
				}
			}()
		} else {
			cc, err := cons.Consume(func(m jetstream.Msg) { handle(m) }, jetstream.PullMaxMessages(o.Batch))
			if err != nil {
				return nil, jsutil.Err(err, "consumer", o.Consumer)
			}
			defer cc.Stop()
		}
		progress := func() int64 { return c.done.Load() }
		if shared {
			progress = total.Load
		}
		if err := o.idleWait(ctx, progress, finished); err != nil {
			return nil, err
		}
		if p := failed.Load(); p != nil {
			return nil, fmt.Errorf("acknowledging: %w", *p)
		}
		return c.sample(c.done.Load(), bytes.Load(), start, time.Now(), nil), nil
	})
	if err != nil {
		return err
	}
	return o.report(NewResult(o.kind, o.Stream, samples))
}

func newJSGet(f *cmdutil.Factory, kind, use, short string) *cobra.Command {
	o := &JSOptions{Common: Common{f: f}, kind: kind, Replicas: 1, Batch: 1}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + ` from --stream, the clients sharing --msgs and each
reading its own range of sequences from the first. Sync gets use the
direct get API when the stream allows it.`,
		Args: cmdutil.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error { return runJSGet(cmd.Context(), o) },
	}
	jsCommon(cmd, o, "number of messages to get, shared among the clients")
	if kind == kindJSGetBatch {
		cmd.Flags().IntVar(&o.Batch, "batch", 500, "messages per direct get request")
		cmd.Flags().StringVar(&o.GetFilter, "filter", ">", "get only messages on `SUBJECT`")
	}
	return cmd
}

// directBatch is the body of a batched direct get request.
type directBatch struct {
	Seq     uint64 `json:"seq"`
	Batch   int    `json:"batch"`
	NextFor string `json:"next_by_subj,omitempty"`
}

func runJSGet(ctx context.Context, o *JSOptions) error {
	if err := o.checkJS(); err != nil {
		return err
	}
	o.Subject = o.Stream
	if err := o.check(false, 1); err != nil {
		return err
	}
	st, err := o.prepareStream(ctx, nil)
	if err != nil {
		return err
	}
	info := st.CachedInfo()
	if info.State.Msgs < uint64(o.Msgs) {
		return cmdutil.FlagErrorf("--msgs %d is more than the %d messages stream %s holds", o.Msgs, info.State.Msgs, o.Stream)
	}
	if o.kind == kindJSGetBatch && !info.Config.AllowDirect {
		return fmt.Errorf("stream %s does not allow direct gets; enable them with 'sluice stream edit %s --allow-direct'", o.Stream, o.Stream)
	}
	first := info.State.FirstSeq
	o.Clients = int(min(int64(o.Clients), o.Msgs))
	shares := shares(o.Msgs, o.Clients)
	offsets := make([]uint64, len(shares))
	for i := 1; i < len(shares); i++ {
		offsets[i] = offsets[i-1] + uint64(shares[i-1])
	}
	o.Size = ""
	o.banner(o.kind, map[string]string{"stream": o.Stream, "batch": strconv.Itoa(o.Batch)})
	prefix := jsutil.APIPrefix(o.f)
	samples, err := o.runClients(ctx, shares, nil, func(ctx context.Context, c *client, ready func()) (*Sample, error) {
		js, err := jsutil.ForConn(o.f, c.nc)
		if err != nil {
			return nil, err
		}
		cst, err := js.Stream(ctx, o.Stream)
		if err != nil {
			return nil, jsutil.Err(err, "stream", o.Stream)
		}
		fmt.Fprintf(o.f.IO.ErrOut, "[%d] Starting %s, trying to get %s messages\n", c.n, jsLabel(o.kind), cmdutil.Comma(c.msgs))
		ready()
		var bytes int64
		var lat []time.Duration
		seq := first + offsets[c.n-1]
		start := time.Now()
		for c.done.Load() < c.msgs {
			t0 := time.Now()
			if o.kind == kindJSGetSync {
				gctx, cancel := jsutil.Ctx(ctx, o.f)
				m, err := cst.GetMsg(gctx, seq)
				cancel()
				if errors.Is(err, jetstream.ErrMsgNotFound) {
					seq++ // a deleted message: take the next
					continue
				}
				if err != nil {
					return nil, jsutil.Err(err, "stream", o.Stream)
				}
				bytes += int64(len(m.Data))
				seq = m.Sequence + 1
				c.done.Add(1)
			} else {
				want := int(min(int64(o.Batch), c.msgs-c.done.Load()))
				n, b, next, err := o.directGet(ctx, c.nc, prefix, directBatch{Seq: seq, Batch: want, NextFor: o.GetFilter})
				if err != nil {
					return nil, err
				}
				if n == 0 {
					return nil, fmt.Errorf("stream %s has no more messages after sequence %d", o.Stream, seq)
				}
				bytes += b
				seq = next
				c.done.Add(int64(n))
			}
			lat = append(lat, time.Since(t0))
			if o.Sleep > 0 {
				if err := pause(ctx, o.Sleep); err != nil {
					return nil, err
				}
			} else if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
		return c.sample(c.done.Load(), bytes, start, time.Now(), lat), nil
	})
	if err != nil {
		return err
	}
	return o.report(NewResult(o.kind, o.Stream, samples))
}

// directGet sends one batched direct get and reads the messages up to
// the end-of-batch status. It returns their count and bytes and the
// sequence to ask for next.
func (o *JSOptions) directGet(ctx context.Context, nc *nats.Conn, prefix string, req directBatch) (int, int64, uint64, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return 0, 0, 0, err
	}
	inbox := nc.NewRespInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return 0, 0, 0, err
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest(prefix+".DIRECT.GET."+o.Stream, inbox, body); err != nil {
		return 0, 0, 0, err
	}
	n, bytes, next := 0, int64(0), req.Seq
	for {
		wctx, cancel := jsutil.Ctx(ctx, o.f)
		m, err := sub.NextMsgWithContext(wctx)
		cancel()
		if err != nil {
			return 0, 0, 0, jsutil.Err(err, "stream", o.Stream)
		}
		if status := m.Header.Get("Status"); status != "" {
			switch status {
			case "204": // end of batch
				return n, bytes, next, nil
			case "404":
				return n, bytes, next, nil
			case "503":
				return 0, 0, 0, errors.Join(nats.ErrNoResponders, fmt.Errorf("no direct get responders for stream %s", o.Stream))
			}
			return 0, 0, 0, fmt.Errorf("direct get failed: %s %s", status, m.Header.Get("Description"))
		}
		n++
		bytes += int64(len(m.Data))
		if s, err := strconv.ParseUint(m.Header.Get("Nats-Sequence"), 10, 64); err == nil {
			next = s + 1
		}
	}
}
