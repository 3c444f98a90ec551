package kvcmd

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
)

// keyCmd opens the bucket and checks the key for the verbs on one key.
func keyCmd(cmd *cobra.Command, f *cmdutil.Factory, bucket, key string, wild bool) (*session, jetstream.KeyValue, func(), error) {
	if err := ValidBucket(bucket); err != nil {
		return nil, nil, func() {}, err
	}
	if err := ValidKey(key, wild); err != nil {
		return nil, nil, func() {}, err
	}
	s, cancel, err := open(cmd, f)
	if err != nil {
		return nil, nil, cancel, err
	}
	kv, err := s.bucket(&bucket)
	if err != nil {
		return nil, nil, cancel, err
	}
	return s, kv, cancel, nil
}

// reportRev prints a write's new revision: the value alone, or JSON.
func reportRev(f *cmdutil.Factory, asJSON bool, bucket, key string, rev uint64) error {
	if asJSON {
		return cmdutil.WriteJSON(f.IO.Out, map[string]any{"bucket": bucket, "key": key, "revision": rev})
	}
	fmt.Fprintln(f.IO.Out, rev)
	return nil
}

func newPut(f *cmdutil.Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "put BUCKET KEY [VALUE]",
		Short: "Store a value under a key",
		Long:  `Store VALUE under KEY; without VALUE it is read from stdin. Prints the new revision.`,
		Example: `  sluice kv put CONFIG db.host db1.example.com
  sluice kv put CONFIG cert < cert.pem`,
		Args: cmdutil.RangeArgs(2, 3, "BUCKET", "KEY", "VALUE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, kv, cancel, err := keyCmd(cmd, f, args[0], args[1], false)
			defer cancel()
			if err != nil {
				return err
			}
			val, err := readValue(f, args, 2)
			if err != nil {
				return err
			}
			rev, err := kv.Put(s.ctx, args[1], val)
			if err != nil {
				return Err(err, args[0], args[1])
			}
			return reportRev(f, asJSON, args[0], args[1], rev)
		},
	}
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func newCreate(f *cmdutil.Factory) *cobra.Command {
	var (
		asJSON bool
		ttl    string
	)
	cmd := &cobra.Command{
		Use:   "create BUCKET KEY [VALUE]",
		Short: "Store a value only if the key is new or deleted",
		Long: `Store VALUE under KEY only when the key has no value (never written, or
deleted or purged last); otherwise fail with exit status 7. --ttl makes
the key expire (the bucket needs --marker-ttl).`,
		Args: cmdutil.RangeArgs(2, 3, "BUCKET", "KEY", "VALUE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts []jetstream.KVCreateOpt
			if ttl != "" {
				d, err := jsutil.ParseDuration(ttl)
				if err != nil || d < time.Second {
					return cmdutil.FlagErrorf("--ttl must be a duration of at least 1s, not %q", ttl)
				}
				opts = append(opts, jetstream.KeyTTL(d))
			}
			s, kv, cancel, err := keyCmd(cmd, f, args[0], args[1], false)
			defer cancel()
			if err != nil {
				return err
			}
			val, err := readValue(f, args, 2)
			if err != nil {
				return err
			}
			rev, err := kv.Create(s.ctx, args[1], val, opts...)
			if err != nil {
				return ttlErr(Err(err, args[0], args[1]), err)
			}
			return reportRev(f, asJSON, args[0], args[1], rev)
		},
	}
	cmd.Flags().StringVar(&ttl, "ttl", "", "expire the key after `DURATION`")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

// ttlErr explains the refusal of a TTL by a bucket without per-key TTLs.
func ttlErr(mapped, raw error) error {
	var apiErr *jetstream.APIError
	if errors.As(raw, &apiErr) && apiErr.ErrorCode == 10166 {
		return cmdutil.WithHint(cmdutil.ExitUsage, errors.New("the bucket does not allow per-key TTLs"), "enable them with 'sluice kv edit BUCKET --marker-ttl 1m'")
	}
	return mapped
}

func newUpdate(f *cmdutil.Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "update BUCKET KEY VALUE REVISION",
		Short: "Store a value only if the key is still at REVISION",
		Long:  `Compare and set: store VALUE when KEY's last revision is REVISION; otherwise fail with exit status 7 and change nothing.`,
		Args:  cmdutil.ExactArgs(4, "BUCKET", "KEY", "VALUE", "REVISION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			rev, err := parseRev(args[3])
			if err != nil {
				return err
			}
			s, kv, cancel, err := keyCmd(cmd, f, args[0], args[1], false)
			defer cancel()
			if err != nil {
				return err
			}
			nrev, err := kv.Update(s.ctx, args[1], []byte(args[2]), rev)
			if err != nil {
				return Err(err, args[0], args[1])
			}
			return reportRev(f, asJSON, args[0], args[1], nrev)
		},
	}
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func parseRev(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, cmdutil.FlagErrorf("REVISION must be a number, not %q", s)
	}
	return n, nil
}

func newGet(f *cmdutil.Factory) *cobra.Command {
	var (
		asJSON, raw bool
		revision    uint64
	)
	cmd := &cobra.Command{
		Use:   "get BUCKET KEY",
		Short: "Show a key's value",
		Long:  `Show KEY's latest value, or the one at --revision; --raw prints the value alone.`,
		Args:  cmdutil.ExactArgs(2, "BUCKET", "KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, kv, cancel, err := keyCmd(cmd, f, args[0], args[1], false)
			defer cancel()
			if err != nil {
				return err
			}
			var e jetstream.KeyValueEntry
			if revision > 0 {
				e, err = kv.GetRevision(s.ctx, args[1], revision)
			} else {
				e, err = kv.Get(s.ctx, args[1])
			}
			if err != nil {
				if revision > 0 && errors.Is(err, jetstream.ErrKeyNotFound) {
					return cmdutil.NotFound("revision", fmt.Sprintf("%s@%d", args[1], revision), fmt.Sprintf("see 'sluice kv history %s %s'", args[0], args[1]))
				}
				return Err(err, args[0], args[1])
			}
			switch {
			case asJSON:
				return cmdutil.WriteJSON(f.IO.Out, toJSON(e))
			case raw:
				_, err := f.IO.Out.Write(e.Value())
				return err
			}
			fmt.Fprintf(f.IO.Out, "%s > %s revision: %d created @ %s\n\n", e.Bucket(), e.Key(), e.Revision(), e.Created().Local().Format(time.RFC1123))
			showValue(f, e.Value())
			return nil
		},
	}
	cmd.Flags().Uint64Var(&revision, "revision", 0, "show the value at `REVISION`")
	cmd.Flags().BoolVar(&raw, "raw", false, "print only the value, byte for byte")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

// showValue prints a value for a person: text as is, binary as a note.
func showValue(f *cmdutil.Factory, v []byte) {
	if !utf8.Valid(v) {
		fmt.Fprintf(f.IO.Out, "<%d bytes of binary data; use --raw>\n", len(v))
		return
	}
	fmt.Fprintln(f.IO.Out, string(v))
}

func newDel(f *cmdutil.Factory) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "del BUCKET [KEY]",
		Short: "Delete a key (keeping its history), or a whole bucket",
		Long: `Delete KEY: a delete marker is written and the history kept. Without
KEY the whole bucket is removed, as 'sluice kv rm' does.`,
		Args: cmdutil.RangeArgs(1, 2, "BUCKET", "KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				return removeBucket(cmd, f, args[0], force)
			}
			s, kv, cancel, err := keyCmd(cmd, f, args[0], args[1], false)
			defer cancel()
			if err != nil {
				return err
			}
			if err := f.ConfirmDestructive(force, fmt.Sprintf("Really delete key %s > %s", args[0], args[1])); err != nil {
				return err
			}
			if err := kv.Delete(s.ctx, args[1]); err != nil {
				return Err(err, args[0], args[1])
			}
			fmt.Fprintf(f.IO.ErrOut, "Deleted key %s > %s\n", args[0], args[1])
			return nil
		},
	}
	addForce(cmd, &force, "delete")
	return cmd
}

func newPurge(f *cmdutil.Factory) *cobra.Command {
	var (
		force bool
		ttl   string
	)
	cmd := &cobra.Command{
		Use:   "purge BUCKET KEY",
		Short: "Delete a key and its whole history",
		Long: `Remove every value of KEY and leave a purge marker; --ttl makes the
marker itself expire (the bucket needs --marker-ttl).`,
		Args: cmdutil.ExactArgs(2, "BUCKET", "KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts []jetstream.KVDeleteOpt
			if ttl != "" {
				d, err := jsutil.ParseDuration(ttl)
				if err != nil || d < time.Second {
					return cmdutil.FlagErrorf("--ttl must be a duration of at least 1s, not %q", ttl)
				}
				opts = append(opts, jetstream.PurgeTTL(d))
			}
			s, kv, cancel, err := keyCmd(cmd, f, args[0], args[1], false)
			defer cancel()
			if err != nil {
				return err
			}
			if err := f.ConfirmDestructive(force, fmt.Sprintf("Really purge key %s > %s and its history", args[0], args[1])); err != nil {
				return err
			}
			if err := kv.Purge(s.ctx, args[1], opts...); err != nil {
				return ttlErr(Err(err, args[0], args[1]), err)
			}
			fmt.Fprintf(f.IO.ErrOut, "Purged key %s > %s\n", args[0], args[1])
			return nil
		},
	}
	addForce(cmd, &force, "purge")
	cmd.Flags().StringVar(&ttl, "ttl", "", "expire the purge marker after `DURATION`")
	return cmd
}

func newHistory(f *cmdutil.Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "history BUCKET KEY",
		Short: "Show every kept value of a key",
		Args:  cmdutil.ExactArgs(2, "BUCKET", "KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, kv, cancel, err := keyCmd(cmd, f, args[0], args[1], true)
			defer cancel()
			if err != nil {
				return err
			}
			h, err := kv.History(s.ctx, args[1])
			if err != nil {
				return Err(err, args[0], args[1])
			}
			if asJSON {
				out := make([]entryJSON, 0, len(h))
				for _, e := range h {
					out = append(out, toJSON(e))
				}
				return cmdutil.WriteJSON(f.IO.Out, out)
			}
			t := cmdutil.NewTable(f.IO, fmt.Sprintf("History for %s > %s", args[0], args[1]))
			t.AddHeader("Key", "Revision", "Op", "Created", "Length", "Value")
			for _, e := range h {
				v := string(e.Value())
				if !utf8.Valid(e.Value()) {
					v = "<binary>"
				} else if len(v) > 40 {
					v = v[:37] + "..."
				}
				t.AddRow(e.Key(), e.Revision(), opName(e.Operation()), e.Created().Local().Format("2006-01-02 15:04:05"), len(e.Value()), v)
			}
			t.AlignRight(1, 4)
			t.Render()
			return nil
		},
	}
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func newRevert(f *cmdutil.Factory) *cobra.Command {
	var (
		force, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "revert BUCKET KEY REVISION",
		Short: "Store an earlier value of a key again",
		Args:  cmdutil.ExactArgs(3, "BUCKET", "KEY", "REVISION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			rev, err := parseRev(args[2])
			if err != nil {
				return err
			}
			s, kv, cancel, err := keyCmd(cmd, f, args[0], args[1], false)
			defer cancel()
			if err != nil {
				return err
			}
			e, err := kv.GetRevision(s.ctx, args[1], rev)
			if err != nil {
				if errors.Is(err, jetstream.ErrKeyNotFound) {
					return cmdutil.NotFound("revision", fmt.Sprintf("%s@%d", args[1], rev), fmt.Sprintf("see 'sluice kv history %s %s'", args[0], args[1]))
				}
				return Err(err, args[0], args[1])
			}
			if e.Operation() != jetstream.KeyValuePut {
				return cmdutil.FlagErrorf("revision %d of %s is a %s, not a value", rev, args[1], opName(e.Operation()))
			}
			if err := f.ConfirmDestructive(force, fmt.Sprintf("Really revert %s > %s to revision %d", args[0], args[1], rev)); err != nil {
				return err
			}
			nrev, err := kv.Put(s.ctx, args[1], e.Value())
			if err != nil {
				return Err(err, args[0], args[1])
			}
			return reportRev(f, asJSON, args[0], args[1], nrev)
		},
	}
	addForce(cmd, &force, "revert")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func newKeys(f *cmdutil.Factory) *cobra.Command {
	var asJSON, verbose bool
	cmd := &cobra.Command{
		Use:   "keys BUCKET [FILTER...]",
		Short: "List the keys of a bucket",
		Long:  `List the keys that have a value, those matching the FILTERs (wildcards allowed) when given.`,
		Args:  cmdutil.RangeArgs(1, -1, "BUCKET", "FILTER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return listKeys(cmd, f, args[0], "", asJSON, verbose, args[1:]...)
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "show each key's revision, operation and time")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func listKeys(cmd *cobra.Command, f *cmdutil.Factory, bucket, filter string, asJSON, verbose bool, more ...string) error {
	filters := more
	if filter != "" {
		filters = append([]string{filter}, more...)
	}
	for _, fl := range filters {
		if err := ValidKey(fl, true); err != nil {
			return err
		}
	}
	if err := ValidBucket(bucket); err != nil {
		return err
	}
	s, cancel, err := open(cmd, f)
	defer cancel()
	if err != nil {
		return err
	}
	kv, err := s.bucket(&bucket)
	if err != nil {
		return err
	}
	if verbose {
		return listVerbose(s, kv, filters, asJSON)
	}
	var l jetstream.KeyLister
	if len(filters) > 0 {
		l, err = kv.ListKeysFiltered(s.ctx, filters...)
	} else {
		l, err = kv.ListKeys(s.ctx)
	}
	if err != nil {
		return Err(err, bucket, "")
	}
	defer l.Stop()
	keys := []string{}
	for k := range l.Keys() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if asJSON {
		return cmdutil.WriteJSON(f.IO.Out, keys)
	}
	if len(keys) == 0 {
		fmt.Fprintf(f.IO.ErrOut, "No keys found in bucket %s\n", bucket)
		return nil
	}
	for _, k := range keys {
		fmt.Fprintln(f.IO.Out, k)
	}
	return nil
}

// listVerbose shows the latest entry of each key, from one watcher.
func listVerbose(s *session, kv jetstream.KeyValue, filters []string, asJSON bool) error {
	w, err := kv.WatchFiltered(s.ctx, filters, jetstream.IgnoreDeletes())
	if err != nil {
		return Err(err, kv.Bucket(), "")
	}
	defer w.Stop()
	var entries []entryJSON
	for e := range w.Updates() {
		if e == nil {
			break
		}
		entries = append(entries, toJSON(e))
	}
	if asJSON {
		return cmdutil.WriteJSON(s.f.IO.Out, append([]entryJSON{}, entries...))
	}
	t := cmdutil.NewTable(s.f.IO, "Keys of "+kv.Bucket())
	t.AddHeader("Key", "Revision", "Created", "Length")
	for _, e := range entries {
		n := len(e.ValueB64)
		if e.Value != nil {
			n = len(*e.Value)
		}
		t.AddRow(e.Key, e.Revision, e.Created.Local().Format("2006-01-02 15:04:05"), n)
	}
	t.AlignRight(1, 3)
	t.Render()
	return nil
}
