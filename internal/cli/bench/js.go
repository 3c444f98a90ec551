package benchcmd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
	"github.com/sluicehq/sluice/internal/cli/msgutil"
)

// Kinds of JetStream benchmark, labelled as nats bench labels them.
const (
	kindJSPubSync   = "js-pub-sync"
	kindJSPubAsync  = "js-pub-async"
	kindJSPubAtomic = "js-pub-atomic"
	kindJSConsume   = "js-consume"
	kindJSFetch     = "js-fetch"
	kindJSOrdered   = "js-ordered"
	kindJSGetSync   = "js-get-sync"
	kindJSGetBatch  = "js-get-batch"
	kindKVPut       = "kv-put"
	kindKVGet       = "kv-get"
)

var jsLabels = map[string]string{
	kindJSPubSync: "JetStream synchronous publisher", kindJSPubAsync: "JetStream asynchronous publisher",
	kindJSPubAtomic: "JetStream atomic batch publisher", kindJSConsume: "JetStream durable consumer (callback)",
	kindJSFetch: "JetStream durable consumer (fetch)", kindJSOrdered: "JetStream ordered ephemeral consumer",
	kindJSGetSync: "JetStream synchronous getter", kindJSGetBatch: "JetStream batched direct getter",
	kindKVPut: "JetStream KV putter", kindKVGet: "JetStream KV getter",
}

func jsLabel(kind string) string {
	if l, ok := jsLabels[kind]; ok {
		return l
	}
	return kind
}

// Names nats bench uses by default, so runs of both tools share them.
const (
	defaultStream   = "benchstream"
	defaultConsumer = "nats-bench"
	defaultBucket   = "benchbucket"
)

// JSOptions are the inputs of `bench js` and `bench kv` verbs.
type JSOptions struct {
	Common
	Stream string
	Sleep  time.Duration
	Batch  int

	// Publishers and KV putters.
	Create       bool
	Storage      string
	Replicas     int
	MaxBytes     string
	Dedup        bool
	DedupWindow  time.Duration
	Purge        bool
	PersistAsync bool
	History      uint8
	Randomize    int

	// Consumers and getters.
	Consumer  string
	Acks      string
	DoubleAck bool
	Filter    []string
	GetFilter string

	// Publishers.
	MultiSubject    bool
	MultiSubjectMax int
	Headers         []string

	kind     string
	maxBytes int64
	hdr      nats.Header
}

func jsCommon(cmd *cobra.Command, o *JSOptions, msgsUsage string) {
	addCommon(cmd, &o.Common, 100000, msgsUsage, "payload `SIZE` of each message, e.g. 16, 128B, 4KB")
	fl := cmd.Flags()
	fl.StringVar(&o.Stream, "stream", defaultStream, "the stream to use (or create, with --create)")
	fl.DurationVar(&o.Sleep, "sleep", 0, "pause this long between operations")
}

func pubFlags(cmd *cobra.Command, o *JSOptions) {
	fl := cmd.Flags()
	fl.BoolVar(&o.Create, "create", false, "create or update the stream first")
	fl.StringVar(&o.Storage, "storage", "file", "storage of a created stream: memory or file")
	fl.IntVar(&o.Replicas, "replicas", 1, "replicas of a created stream")
	fl.StringVar(&o.MaxBytes, "maxbytes", "1GB", "maximum size of a created stream")
	fl.BoolVar(&o.Dedup, "dedup", false, "set a message id on each message (de-duplication)")
	fl.DurationVar(&o.DedupWindow, "dedupwindow", 2*time.Minute, "de-duplication window of a created stream")
	fl.BoolVar(&o.Purge, "purge", false, "purge the stream before running")
	fl.BoolVar(&o.PersistAsync, "persistasync", false, "create the stream with asynchronous persistence (R1 only)")
	fl.BoolVar(&o.MultiSubject, "multisubject", false, "publish each message on SUBJECT.<number>")
	fl.IntVar(&o.MultiSubjectMax, "multisubjectmax", 100000, "with --multisubject, at most this many subjects (0: no limit)")
	fl.StringArrayVarP(&o.Headers, "header", "H", nil, "add a header to every message, as `Key:Value` (repeatable)")
}

func consumerFlags(cmd *cobra.Command, o *JSOptions) {
	fl := cmd.Flags()
	fl.StringVar(&o.Consumer, "consumer", defaultConsumer, "the durable consumer to use (created when missing)")
	fl.IntVar(&o.Batch, "batch", 500, "messages buffered in the client per pull")
	fl.StringVar(&o.Acks, "acks", "explicit", "acknowledgment mode: explicit, none or all")
	fl.BoolVar(&o.DoubleAck, "doubleack", false, "wait for the server to confirm each acknowledgment")
	fl.StringSliceVar(&o.Filter, "filter", nil, "consume only these `SUBJECTS`")
	fl.BoolVar(&o.Purge, "purge", false, "purge the stream before running")
}

func newJS(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "js",
		Short: "Measure JetStream publish, consume and get performance",
		Long: `Measure JetStream with nats bench's verbs and figures: publishing
(synchronous, asynchronous with a window of --batch, atomic batches),
consuming through a durable consumer (callback or fetch) or ordered
consumers, and getting messages (one by one or batched direct gets).

Publishers use --stream (default benchstream); --create makes it, with
SUBJECT as its subject. Consumers and getters read what is stored there,
so publish first.`,
		Example: `  sluice bench js pub async bench.js --create --storage memory --msgs 100000
  sluice bench js consume --msgs 100000 --clients 2
  sluice bench js get batch --msgs 100000`,
	}
	cmdutil.MakeGroup(cmd)
	pub := &cobra.Command{Use: "pub", Short: "Publish JetStream messages"}
	cmdutil.MakeGroup(pub)
	pub.AddCommand(
		newJSPub(f, kindJSPubSync, "sync", "Publish synchronously, waiting for each acknowledgment"),
		newJSPub(f, kindJSPubAsync, "async", "Publish asynchronously, --batch acknowledgments outstanding at most"),
		newJSPub(f, kindJSPubAtomic, "atomic", "Publish in atomic batches of --batch messages"),
	)
	get := &cobra.Command{Use: "get", Short: "Retrieve stored messages"}
	cmdutil.MakeGroup(get)
	get.AddCommand(newJSGet(f, kindJSGetSync, "sync", "Get messages one by one"),
		newJSGet(f, kindJSGetBatch, "batch", "Get messages with batched direct gets"))
	cmd.AddCommand(pub, newJSConsumer(f, kindJSConsume, "consume", "Consume through a durable pull consumer with a callback"),
		newJSConsumer(f, kindJSFetch, "fetch", "Consume through a durable pull consumer with fetch"),
		newJSConsumer(f, kindJSOrdered, "ordered", "Consume through ordered ephemeral consumers, one per client"), get)
	return cmd
}

// checkJS validates what every JetStream verb shares.
func (o *JSOptions) checkJS() error {
	if err := jsutil.ValidName("--stream", o.Stream); err != nil {
		return err
	}
	if o.Sleep < 0 {
		return cmdutil.FlagErrorf("--sleep must not be negative")
	}
	if o.Batch < 1 {
		return cmdutil.FlagErrorf("--batch must be at least 1, not %d", o.Batch)
	}
	if o.Storage != "" && o.Storage != "file" && o.Storage != "memory" {
		return cmdutil.FlagErrorf("--storage must be memory or file, not %q", o.Storage)
	}
	if o.Replicas < 1 || o.Replicas > 5 {
		return cmdutil.FlagErrorf("--replicas must be from 1 to 5, not %d", o.Replicas)
	}
	if o.MaxBytes != "" {
		n, err := jsutil.ParseSize(o.MaxBytes)
		if err != nil {
			return cmdutil.FlagErrorf("--maxbytes: %v", err)
		}
		o.maxBytes = n
	}
	if o.Randomize < 0 {
		return cmdutil.FlagErrorf("--randomize must not be negative")
	}
	return nil
}

func storageType(s string) jetstream.StorageType {
	if s == "memory" {
		return jetstream.MemoryStorage
	}
	return jetstream.FileStorage
}

// prepareStream creates, checks and purges the stream as asked.
func (o *JSOptions) prepareStream(ctx context.Context, subjects []string) (jetstream.Stream, error) {
	js, err := jsutil.New(o.f)
	if err != nil {
		return nil, err
	}
	ctx, cancel := jsutil.Ctx(ctx, o.f)
	defer cancel()
	var st jetstream.Stream
	if o.Create {
		cfg := jetstream.StreamConfig{Name: o.Stream, Subjects: subjects, Storage: storageType(o.Storage),
			Replicas: o.Replicas, MaxBytes: o.maxBytes, Duplicates: o.DedupWindow, AllowDirect: true,
			AllowAtomicPublish: o.kind == kindJSPubAtomic, MaxMsgs: -1, MaxAge: 0, MaxMsgsPerSubject: -1}
		if o.PersistAsync {
			cfg.PersistMode = jetstream.AsyncPersistMode
		}
		st, err = js.CreateOrUpdateStream(ctx, cfg)
	} else {
		st, err = js.Stream(ctx, o.Stream)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			hint := "publish first with 'sluice bench js pub ... --create'"
			if o.kind == kindJSPubSync || o.kind == kindJSPubAsync || o.kind == kindJSPubAtomic {
				hint = "create it with --create"
			}
			return nil, cmdutil.NotFound("stream", o.Stream, hint)
		}
	}
	if err != nil {
		return nil, jsutil.Err(err, "stream", o.Stream)
	}
	if o.Purge {
		if err := st.Purge(ctx); err != nil {
			return nil, jsutil.Err(err, "stream", o.Stream)
		}
	}
	return st, nil
}

func newJSPub(f *cmdutil.Factory, kind, use, short string) *cobra.Command {
	o := &JSOptions{Common: Common{f: f}, kind: kind}
	cmd := &cobra.Command{
		Use:   use + " SUBJECT",
		Short: short,
		Args:  cmdutil.RangeArgs(0, 1, "SUBJECT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.Subject = args[0]
			}
			return runJSPub(cmd.Context(), o)
		},
	}
	jsCommon(cmd, o, "number of messages to publish, shared among the clients")
	pubFlags(cmd, o)
	if kind != kindJSPubSync {
		cmd.Flags().IntVar(&o.Batch, "batch", 500, "messages per window (async) or per atomic batch")
	} else {
		o.Batch = 1
	}
	return cmd
}

func runJSPub(ctx context.Context, o *JSOptions) error {
	if err := o.check(false, 1); err != nil {
		return err
	}
	if err := o.checkJS(); err != nil {
		return err
	}
	if o.MultiSubjectMax < 0 {
		return cmdutil.FlagErrorf("--multisubjectmax must not be negative")
	}
	hdrs, err := msgutil.ParseHeaders(o.Headers, false)
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	o.hdr, _ = hdrs.Build(0)
	subjects := []string{o.Subject}
	if o.MultiSubject {
		subjects = []string{o.Subject + ".*"}
	}
	if _, err := o.prepareStream(ctx, subjects); err != nil {
		return err
	}
	o.Clients = int(min(int64(o.Clients), o.Msgs))
	o.banner(o.kind, map[string]string{"stream": o.Stream, "batch": strconv.Itoa(o.Batch), "sleep": o.Sleep.String()})
	payload := make([]byte, o.size)
	shares := shares(o.Msgs, o.Clients)
	offsets := make([]int64, len(shares))
	for i := 1; i < len(shares); i++ {
		offsets[i] = offsets[i-1] + shares[i-1]
	}
	runID := msgutil.NewID()
	samples, err := o.runClients(ctx, shares, nil, func(ctx context.Context, c *client, ready func()) (*Sample, error) {
		if err := checkPayload(c.nc, o.size); err != nil {
			return nil, err
		}
		opts := []jetstream.JetStreamOpt{}
		if o.kind == kindJSPubAsync {
			opts = append(opts, jetstream.WithPublishAsyncMaxPending(o.Batch))
		}
		js, err := jsutil.ForConn(o.f, c.nc, opts...)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(o.f.IO.ErrOut, "[%d] Starting %s, publishing %s messages\n", c.n, jsLabel(o.kind), cmdutil.Comma(c.msgs))
		ready()
		start := time.Now()
		lat, err := o.publish(ctx, c, js, payload, runID, offsets[c.n-1])
		if err != nil {
			return nil, err
		}
		return c.sample(c.msgs, c.msgs*int64(o.size), start, time.Now(), lat), nil
	})
	if err != nil {
		return err
	}
	return o.report(NewResult(o.kind, o.Subject, samples))
}

// publish sends c's share and returns the latency of each operation:
// a publish (sync), a window (async) or a batch (atomic).
func (o *JSOptions) publish(ctx context.Context, c *client, js jetstream.JetStream, payload []byte, runID string, offset int64) ([]time.Duration, error) {
	var lat []time.Duration
	timeout := o.f.Timeout()
	newMsg := func(i int64) *nats.Msg {
		m := &nats.Msg{Subject: o.Subject, Data: payload, Header: nats.Header{}}
		for k, v := range o.hdr {
			m.Header[k] = v
		}
		if o.MultiSubject {
			n := offset + i
			if o.MultiSubjectMax > 0 {
				n %= int64(o.MultiSubjectMax)
			}
			m.Subject = o.Subject + "." + strconv.FormatInt(n, 10)
		}
		if o.Dedup {
			m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s-%d-%d", runID, c.n, i))
		}
		return m
	}
	for i := int64(0); i < c.msgs; {
		n := min(int64(o.Batch), c.msgs-i)
		t0 := time.Now()
		switch o.kind {
		case kindJSPubSync:
			pctx, cancel := context.WithTimeout(ctx, timeout)
			_, err := js.PublishMsg(pctx, newMsg(i))
			cancel()
			if err != nil {
				return nil, fmt.Errorf("publish %d: %w", i+1, jsutil.Err(err, "stream", o.Stream))
			}
		case kindJSPubAsync:
			futures := make([]jetstream.PubAckFuture, 0, n)
			for j := int64(0); j < n; j++ {
				fut, err := js.PublishMsgAsync(newMsg(i + j))
				if err != nil {
					return nil, fmt.Errorf("publish %d: %w", i+j+1, err)
				}
				futures = append(futures, fut)
			}
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(timeout):
				return nil, &cmdutil.Error{Code: cmdutil.ExitTimeout, Err: fmt.Errorf("acknowledgments did not arrive within %s (%d pending)", timeout, js.PublishAsyncPending())}
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			for _, fut := range futures {
				select {
				case err := <-fut.Err():
					return nil, fmt.Errorf("an asynchronous publish failed: %w", jsutil.Err(err, "stream", o.Stream))
				default:
				}
			}
		case kindJSPubAtomic:
			batchID := msgutil.NewID()
			for j := int64(1); j <= n; j++ {
				m := newMsg(i + j - 1)
				m.Header.Set("Nats-Batch-Id", batchID)
				m.Header.Set("Nats-Batch-Sequence", strconv.FormatInt(j, 10))
				if j < n {
					if err := c.nc.PublishMsg(m); err != nil {
						return nil, fmt.Errorf("publish %d: %w", i+j, err)
					}
					continue
				}
				m.Header.Set("Nats-Batch-Commit", "1")
				pctx, cancel := context.WithTimeout(ctx, timeout)
				_, err := js.PublishMsg(pctx, m)
				cancel()
				if err != nil {
					return nil, fmt.Errorf("commit of a batch of %d: %w", n, jsutil.Err(err, "stream", o.Stream))
				}
			}
		}
		lat = append(lat, time.Since(t0))
		i += n
		c.done.Store(i)
		if o.Sleep > 0 {
			if err := pause(ctx, o.Sleep); err != nil {
				return nil, err
			}
		} else if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return lat, nil
}
