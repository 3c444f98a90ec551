package benchcmd

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
)

func newKV(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kv",
		Short: "Measure key-value put and get performance",
		Long: `Measure JetStream key-value buckets as nats bench does: 'put' writes
--msgs values of --size bytes to keys 0, 1, 2... of --bucket (default
benchbucket, created when missing); 'get' reads them back. --randomize N
uses random keys below N instead.`,
		Example: `  sluice bench kv put --msgs 10000 --storage memory
  sluice bench kv get --msgs 10000 --clients 4`,
	}
	cmdutil.MakeGroup(cmd)
	cmd.AddCommand(newKVVerb(f, kindKVPut, "put", "Put values in a bucket"), newKVVerb(f, kindKVGet, "get", "Get values from a bucket"))
	return cmd
}

func newKVVerb(f *cmdutil.Factory, kind, use, short string) *cobra.Command {
	o := &JSOptions{Common: Common{f: f}, kind: kind, Replicas: 1, Batch: 1}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cmdutil.ExactArgs(0),
		RunE:  func(cmd *cobra.Command, args []string) error { return runKV(cmd.Context(), o) },
	}
	addCommon(cmd, &o.Common, 100000, "number of operations, shared among the clients", "value `SIZE`, e.g. 16, 128B, 4KB")
	fl := cmd.Flags()
	fl.StringVar(&o.Stream, "bucket", defaultBucket, "the bucket to use")
	fl.DurationVar(&o.Sleep, "sleep", 0, "pause this long after each operation")
	fl.IntVar(&o.Randomize, "randomize", 0, "use random keys below `N` (0: sequential keys)")
	if kind == kindKVPut {
		fl.StringVar(&o.Storage, "storage", "file", "storage of a created bucket: memory or file")
		fl.IntVar(&o.Replicas, "replicas", 1, "replicas of a created bucket")
		fl.StringVar(&o.MaxBytes, "maxbytes", "1GB", "maximum size of a created bucket")
		fl.Uint8Var(&o.History, "history", 1, "history depth of a created bucket")
		fl.BoolVar(&o.Purge, "purge", false, "purge the bucket before running")
	}
	return cmd
}

func runKV(ctx context.Context, o *JSOptions) error {
	if err := o.checkJS(); err != nil {
		return err
	}
	o.Subject = o.Stream
	if err := o.check(false, 1); err != nil {
		return err
	}
	if o.kind == kindKVPut && (o.History < 1 || o.History > 64) {
		return cmdutil.FlagErrorf("--history must be from 1 to 64, not %d", o.History)
	}
	js, err := jsutil.New(o.f)
	if err != nil {
		return err
	}
	sctx, cancel := jsutil.Ctx(ctx, o.f)
	if o.kind == kindKVPut {
		_, err = js.CreateOrUpdateKeyValue(sctx, jetstream.KeyValueConfig{Bucket: o.Stream, History: o.History,
			MaxBytes: o.maxBytes, Storage: storageType(o.Storage), Replicas: o.Replicas})
		if err == nil && o.Purge {
			var st jetstream.Stream
			if st, err = js.Stream(sctx, "KV_"+o.Stream); err == nil {
				err = st.Purge(sctx)
			}
		}
	} else {
		_, err = js.KeyValue(sctx, o.Stream)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			err = cmdutil.NotFound("bucket", o.Stream, "fill it first with 'sluice bench kv put'")
		}
	}
	cancel()
	if err != nil {
		return jsutil.Err(err, "", "")
	}
	o.Clients = int(min(int64(o.Clients), o.Msgs))
	shares := shares(o.Msgs, o.Clients)
	offsets := make([]int64, len(shares))
	for i := 1; i < len(shares); i++ {
		offsets[i] = offsets[i-1] + shares[i-1]
	}
	if o.kind == kindKVGet {
		o.Size = ""
	}
	o.banner(o.kind, map[string]string{"bucket": o.Stream, "randomize": strconv.Itoa(o.Randomize)})
	value := make([]byte, o.size)
	samples, err := o.runClients(ctx, shares, nil, func(ctx context.Context, c *client, ready func()) (*Sample, error) {
		cjs, err := jsutil.ForConn(o.f, c.nc)
		if err != nil {
			return nil, err
		}
		kv, err := cjs.KeyValue(ctx, o.Stream)
		if err != nil {
			return nil, jsutil.Err(err, "", "")
		}
		verb := "publishing"
		if o.kind == kindKVGet {
			verb = "trying to get"
		}
		fmt.Fprintf(o.f.IO.ErrOut, "[%d] Starting %s, %s %s messages\n", c.n, jsLabel(o.kind), verb, cmdutil.Comma(c.msgs))
		ready()
		lat := make([]time.Duration, 0, c.msgs)
		var bytes, missing int64
		start := time.Now()
		for i := int64(0); i < c.msgs; i++ {
			key := offsets[c.n-1] + i
			if o.Randomize > 0 {
				key = int64(rand.IntN(o.Randomize))
			}
			k := strconv.FormatInt(key, 10)
			t0 := time.Now()
			octx, cancel := jsutil.Ctx(ctx, o.f)
			if o.kind == kindKVPut {
				_, err = kv.Put(octx, k, value)
				bytes += int64(len(value))
			} else {
				var e jetstream.KeyValueEntry
				e, err = kv.Get(octx, k)
				if errors.Is(err, jetstream.ErrKeyNotFound) && o.Randomize > 0 {
					missing, err = missing+1, nil
				} else if err == nil {
					bytes += int64(len(e.Value()))
				}
			}
			cancel()
			if errors.Is(err, jetstream.ErrKeyNotFound) {
				return nil, cmdutil.NotFound("key", k, "fill the bucket first with 'sluice bench kv put --msgs "+strconv.FormatInt(o.Msgs, 10)+"'")
			}
			if err != nil {
				return nil, jsutil.Err(err, "", "")
			}
			lat = append(lat, time.Since(t0))
			c.done.Add(1)
			if o.Sleep > 0 {
				if err := pause(ctx, o.Sleep); err != nil {
					return nil, err
				}
			} else if i&255 == 255 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
		if missing > 0 {
			fmt.Fprintf(o.f.IO.ErrOut, "[%d] %s of the random keys were not in the bucket\n", c.n, cmdutil.Comma(missing))
		}
		return c.sample(c.msgs, bytes, start, time.Now(), lat), nil
	})
	if err != nil {
		return err
	}
	return o.report(NewResult(o.kind, o.Stream, samples))
}
