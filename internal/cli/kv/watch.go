package kvcmd

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func newWatch(f *cmdutil.Factory) *cobra.Command {
	var (
		asJSON, history, updates, deletes bool
		revision                          uint64
	)
	cmd := &cobra.Command{
		Use:   "watch BUCKET [KEY]",
		Short: "Show a bucket's changes as they happen",
		Long: `Show the latest value of each key matching KEY (wildcards allowed, all
keys by default), then every change until interrupted. --history shows
all kept values first, --updates only new changes, --revision starts at
a revision; --deletes=false hides deletes and purges.`,
		Args: cmdutil.RangeArgs(1, 2, "BUCKET", "KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			bucket, key := args[0], argOr(args, 1)
			if key == "" {
				key = ">"
			}
			if err := ValidBucket(bucket); err != nil {
				return err
			}
			if err := ValidKey(key, true); err != nil {
				return err
			}
			s, err := openLong(cmd, f)
			if err != nil {
				return err
			}
			kv, err := s.js.KeyValue(s.ctx, bucket)
			if err != nil {
				return Err(err, bucket, "")
			}
			var opts []jetstream.WatchOpt
			if history {
				opts = append(opts, jetstream.IncludeHistory())
			}
			if updates {
				opts = append(opts, jetstream.UpdatesOnly())
			}
			if !deletes {
				opts = append(opts, jetstream.IgnoreDeletes())
			}
			if revision > 0 {
				opts = append(opts, jetstream.ResumeFromRevision(revision))
			}
			w, err := kv.Watch(s.ctx, key, opts...)
			if err != nil {
				return Err(err, bucket, key)
			}
			defer w.Stop()
			lines := cmdutil.NewJSONLines(f.IO.Out)
			for {
				select {
				case <-s.ctx.Done():
					return nil
				case e, ok := <-w.Updates():
					if !ok {
						return nil
					}
					if e == nil {
						if !asJSON {
							fmt.Fprintln(f.IO.ErrOut, "Watching for changes")
						}
						continue
					}
					if asJSON {
						if err := lines.Write(toJSON(e)); err != nil {
							return err
						}
						continue
					}
					stamp := e.Created().Local().Format(time.DateTime)
					if e.Operation() == jetstream.KeyValuePut {
						fmt.Fprintf(f.IO.Out, "[%s] %s %s > %s: %s\n", stamp, opName(e.Operation()), e.Bucket(), e.Key(), printable(e.Value()))
					} else {
						fmt.Fprintf(f.IO.Out, "[%s] %s %s > %s\n", stamp, opName(e.Operation()), e.Bucket(), e.Key())
					}
				}
			}
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&history, "history", false, "show all kept values first")
	fl.BoolVar(&updates, "updates", false, "show only changes made from now on")
	fl.BoolVar(&deletes, "deletes", true, "show deletes and purges")
	fl.Uint64Var(&revision, "revision", 0, "start at `REVISION`")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func printable(v []byte) string {
	for _, c := range v {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return fmt.Sprintf("<%d bytes of binary data>", len(v))
		}
	}
	return string(v)
}
