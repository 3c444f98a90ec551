package kvcmd

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
)

// bucketFlags are the bucket settings of add and edit, natscli's names.
type bucketFlags struct {
	fl                     *pflag.FlagSet
	description, storage   string
	history                int64
	ttl, markerTTL         string
	replicas               int
	maxValue, maxBucket    string
	compress, repubHeaders bool
	metadata               map[string]string
	repubSrc, repubDest    string
	mirror, mirrorDomain   string
	sources, tags          []string
	cluster                string
}

func (b *bucketFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	b.fl = fl
	fl.StringVar(&b.description, "description", "", "a description for the bucket")
	fl.Int64Var(&b.history, "history", 1, "how many values to keep per key (1-64)")
	fl.StringVar(&b.storage, "storage", "file", "storage backend: file or memory")
	fl.StringVar(&b.ttl, "ttl", "", "how long to keep values (`DURATION`, e.g. 1h or 2d)")
	fl.StringVar(&b.markerTTL, "marker-ttl", "", "enable per-key TTLs and limit markers kept for `DURATION`")
	fl.IntVar(&b.replicas, "replicas", 1, "how many replicas of the data to keep")
	fl.StringVar(&b.maxValue, "max-value-size", "", "largest value allowed (`BYTES`, e.g. 1MB)")
	fl.StringVar(&b.maxBucket, "max-bucket-size", "", "largest size of the bucket (`BYTES`)")
	fl.BoolVar(&b.compress, "compress", false, "compress the bucket's data (s2)")
	fl.StringToStringVar(&b.metadata, "metadata", nil, "metadata as `KEY=VALUE` (repeatable)")
	fl.StringVar(&b.repubSrc, "republish-source", "", "republish values of keys matching `SRC`")
	fl.StringVar(&b.repubDest, "republish-destination", "", "republish to `DEST`")
	fl.BoolVar(&b.repubHeaders, "republish-headers", false, "republish headers only, no values")
	fl.StringVar(&b.mirror, "mirror", "", "make the bucket a mirror of `BUCKET`")
	fl.StringVar(&b.mirrorDomain, "mirror-domain", "", "find the mirrored bucket in `DOMAIN`")
	fl.StringSliceVar(&b.sources, "source", nil, "source values from `BUCKET` (repeatable)")
	fl.StringSliceVar(&b.tags, "tags", nil, "place the bucket on servers with these tags")
	fl.StringVar(&b.cluster, "cluster", "", "place the bucket in `CLUSTER`")
}

func (b *bucketFlags) set(name string) bool { return b.fl.Changed(name) }

// anySet reports whether any bucket setting was given.
func (b *bucketFlags) anySet() bool {
	n := false
	b.fl.Visit(func(f *pflag.Flag) {
		switch f.Name {
		case "json", "defaults", "force":
		default:
			n = true
		}
	})
	return n
}

// apply writes the given settings over cfg.
func (b *bucketFlags) apply(cfg *jetstream.KeyValueConfig) error {
	if b.set("description") {
		cfg.Description = b.description
	}
	if b.set("history") || cfg.History == 0 {
		if b.history < 1 || b.history > 64 {
			return cmdutil.FlagErrorf("--history must be between 1 and 64, not %d", b.history)
		}
		cfg.History = uint8(b.history)
	}
	if b.set("storage") || cfg.Storage == 0 && b.storage != "file" {
		st, err := parseStorage(b.storage)
		if err != nil {
			return err
		}
		cfg.Storage = st
	}
	for _, d := range []struct {
		name, v string
		to      *time.Duration
	}{{"ttl", b.ttl, &cfg.TTL}, {"marker-ttl", b.markerTTL, &cfg.LimitMarkerTTL}} {
		if !b.set(d.name) {
			continue
		}
		v, err := jsutil.ParseDuration(d.v)
		if err != nil {
			return cmdutil.FlagErrorf("--%s: %v", d.name, err)
		}
		*d.to = v
	}
	if b.set("marker-ttl") && cfg.LimitMarkerTTL > 0 && cfg.LimitMarkerTTL < time.Second {
		return cmdutil.FlagErrorf("--marker-ttl must be at least 1s")
	}
	if b.set("replicas") {
		if b.replicas < 1 || b.replicas > 5 {
			return cmdutil.FlagErrorf("--replicas must be between 1 and 5, not %d", b.replicas)
		}
		cfg.Replicas = b.replicas
	}
	if b.set("max-value-size") {
		n, err := jsutil.ParseSize(b.maxValue)
		if err != nil || n > 1<<31-1 {
			return cmdutil.FlagErrorf("--max-value-size: %q is not a size such as 1MB or -1", b.maxValue)
		}
		cfg.MaxValueSize = int32(n)
	}
	if b.set("max-bucket-size") {
		n, err := jsutil.ParseSize(b.maxBucket)
		if err != nil {
			return cmdutil.FlagErrorf("--max-bucket-size: %q is not a size such as 1GB or -1", b.maxBucket)
		}
		cfg.MaxBytes = n
	}
	if b.set("compress") {
		cfg.Compression = b.compress
	}
	if b.set("metadata") {
		cfg.Metadata = b.metadata
	}
	if b.set("republish-source") || b.set("republish-destination") {
		if b.repubDest == "" {
			return cmdutil.FlagErrorf("--republish-destination is required with --republish-source")
		}
		src := b.repubSrc
		if src == "" {
			src = ">"
		}
		cfg.RePublish = &jetstream.RePublish{Source: src, Destination: b.repubDest, HeadersOnly: b.repubHeaders}
	}
	if b.set("mirror") {
		if err := ValidBucket(b.mirror); err != nil {
			return err
		}
		cfg.Mirror = &jetstream.StreamSource{Name: b.mirror, Domain: b.mirrorDomain}
	}
	for _, s := range b.sources {
		if err := ValidBucket(s); err != nil {
			return err
		}
		cfg.Sources = append(cfg.Sources, &jetstream.StreamSource{Name: s})
	}
	if b.set("tags") || b.set("cluster") {
		cfg.Placement = &jetstream.Placement{Cluster: b.cluster, Tags: b.tags}
	}
	return nil
}

func parseStorage(s string) (jetstream.StorageType, error) {
	switch strings.ToLower(s) {
	case "file", "f":
		return jetstream.FileStorage, nil
	case "memory", "mem", "m":
		return jetstream.MemoryStorage, nil
	}
	return 0, cmdutil.FlagErrorf("--storage must be file or memory, not %q", s)
}

func newAdd(f *cmdutil.Factory) *cobra.Command {
	var (
		b                bucketFlags
		asJSON, defaults bool
	)
	cmd := &cobra.Command{
		Use:     "add [BUCKET]",
		Aliases: []string{"new"},
		Short:   "Create a key-value bucket",
		Long: `Create a key-value bucket. On a terminal the missing bucket name is asked
for, and without any setting flags the history, TTL and storage too
(--defaults accepts the defaults instead).`,
		Example: `  sluice kv add CONFIG --history 5 --ttl 1d
  sluice kv add CACHE --storage memory --max-value-size 1MB --marker-ttl 1m`,
		Args: cmdutil.RangeArgs(0, 1, "BUCKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := argOr(args, 0)
			p := f.Prompt()
			if name == "" {
				if p == nil {
					return cmdutil.FlagErrorf("missing BUCKET argument")
				}
				if err := jsutil.AskUntilValid(p, f.IO.ErrOut, "Bucket Name", "", func(v string) error {
					name = v
					return ValidBucket(v)
				}); err != nil {
					return err
				}
			}
			if err := ValidBucket(name); err != nil {
				return err
			}
			if p != nil && !defaults && !b.anySet() {
				if err := ask(f, p, &b); err != nil {
					return err
				}
			}
			cfg := jetstream.KeyValueConfig{Bucket: name}
			if err := b.apply(&cfg); err != nil {
				return err
			}
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			kv, err := s.js.CreateKeyValue(s.ctx, cfg)
			if err != nil {
				return Err(err, name, "")
			}
			return showStatus(s, kv, asJSON)
		},
	}
	b.register(cmd)
	cmd.Flags().BoolVar(&defaults, "defaults", false, "accept the defaults instead of asking")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

// ask fills the common settings from prompts.
func ask(f *cmdutil.Factory, p cmdutil.Prompter, b *bucketFlags) error {
	steps := []struct {
		q, def, name string
		check        func(string) error
	}{
		{"History Per Key", "1", "history", func(v string) error {
			if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 64 {
				return fmt.Errorf("history must be a number from 1 to 64, not %q", v)
			}
			return nil
		}},
		{"Values TTL (e.g. 1h, empty for none)", "", "ttl", func(v string) error { _, err := jsutil.ParseDuration(v); return err }},
		{"Storage (file or memory)", "file", "storage", func(v string) error { _, err := parseStorage(v); return err }},
	}
	for _, st := range steps {
		err := jsutil.AskUntilValid(p, f.IO.ErrOut, st.q, st.def, func(v string) error {
			if st.check != nil {
				if err := st.check(v); err != nil {
					return err
				}
			}
			if v == "" {
				return nil
			}
			return b.fl.Set(st.name, v)
		})
		if err != nil {
			return err
		}
	}
	if b.history < 1 || b.history > 64 {
		return cmdutil.FlagErrorf("history must be between 1 and 64")
	}
	return nil
}

func newEdit(f *cmdutil.Factory) *cobra.Command {
	var (
		b      bucketFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "edit BUCKET",
		Short: "Change a key-value bucket's settings",
		Long:  `Change the settings given as flags; the others stay as they are.`,
		Args:  cmdutil.ExactArgs(1, "BUCKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			kv, err := s.bucket(&name)
			if err != nil {
				return err
			}
			st, err := kv.Status(s.ctx)
			if err != nil {
				return Err(err, name, "")
			}
			cfg := configOf(st)
			if err := b.apply(&cfg); err != nil {
				return err
			}
			kv, err = s.js.UpdateKeyValue(s.ctx, cfg)
			if err != nil {
				return Err(err, name, "")
			}
			return showStatus(s, kv, asJSON)
		},
	}
	b.register(cmd)
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

// configOf rebuilds a bucket's config from its stream.
func configOf(st jetstream.KeyValueStatus) jetstream.KeyValueConfig {
	si := st.(*jetstream.KeyValueBucketStatus).StreamInfo()
	c := si.Config
	cfg := jetstream.KeyValueConfig{
		Bucket: st.Bucket(), Description: c.Description, MaxValueSize: c.MaxMsgSize, History: uint8(c.MaxMsgsPerSubject),
		TTL: c.MaxAge, MaxBytes: c.MaxBytes, Storage: c.Storage, Replicas: c.Replicas, Placement: c.Placement,
		RePublish: c.RePublish, Mirror: c.Mirror, Sources: c.Sources, Compression: c.Compression == jetstream.S2Compression,
		Metadata: c.Metadata, LimitMarkerTTL: c.SubjectDeleteMarkerTTL,
	}
	return cfg
}

func showStatus(s *session, kv jetstream.KeyValue, asJSON bool) error {
	st, err := kv.Status(s.ctx)
	if err != nil {
		return Err(err, kv.Bucket(), "")
	}
	si := st.(*jetstream.KeyValueBucketStatus).StreamInfo()
	if asJSON {
		return cmdutil.WriteJSON(s.f.IO.Out, si)
	}
	c := si.Config
	k := cmdutil.NewKV(fmt.Sprintf("Information for Key-Value Store Bucket %s created %s", st.Bucket(), si.Created.Local().Format(time.RFC3339)))
	k.Add("Bucket Name", st.Bucket())
	k.AddIf("Description", c.Description)
	k.Add("History Kept", st.History())
	k.Add("Values Stored", cmdutil.Comma(int64(st.Values())))
	k.Add("Compressed", st.IsCompressed())
	k.Add("Backing Store Kind", st.BackingStore())
	k.Add("Bucket Size", cmdutil.IBytes(st.Bytes()))
	k.Add("Maximum Bucket Size", jsutil.SizeLimit(c.MaxBytes))
	k.Add("Maximum Value Size", jsutil.SizeLimit(int64(c.MaxMsgSize)))
	k.Add("Maximum Age", jsutil.HumanDuration(c.MaxAge))
	if c.SubjectDeleteMarkerTTL > 0 {
		k.Add("Per-Key TTL Supported", true)
		k.Add("Limit Marker TTL", jsutil.HumanDuration(c.SubjectDeleteMarkerTTL))
	}
	k.Add("JetStream Stream", si.Config.Name)
	k.Add("Storage", c.Storage.String())
	if c.Replicas > 1 {
		k.Add("Replicas", c.Replicas)
	}
	if c.RePublish != nil {
		k.Add("Republishing", c.RePublish.Source+" to "+c.RePublish.Destination)
	}
	if c.Mirror != nil {
		k.Add("Mirror", c.Mirror.Name)
	}
	for _, src := range c.Sources {
		k.Add("Source", src.Name)
	}
	for mk, mv := range c.Metadata {
		if !strings.HasPrefix(mk, "_nats.") {
			k.Add("Metadata "+mk, mv)
		}
	}
	k.Write(s.f.IO.Out)
	return nil
}

func newInfo(f *cmdutil.Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "info [BUCKET]",
		Aliases: []string{"status", "view"},
		Short:   "Show a key-value bucket's settings and state",
		Args:    cmdutil.RangeArgs(0, 1, "BUCKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := argOr(args, 0)
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			kv, err := s.bucket(&name)
			if err != nil {
				return err
			}
			return showStatus(s, kv, asJSON)
		},
	}
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func newLs(f *cmdutil.Factory) *cobra.Command {
	var asJSON, namesOnly, verbose bool
	cmd := &cobra.Command{
		Use:     "ls [BUCKET] [FILTER]",
		Aliases: []string{"list"},
		Short:   "List the buckets, or the keys of a bucket",
		Long: `Without BUCKET, list the key-value buckets (--names for names only);
with BUCKET, list its keys, those matching FILTER when given.`,
		Args: cmdutil.RangeArgs(0, 2, "BUCKET", "FILTER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return listKeys(cmd, f, args[0], argOr(args, 1), asJSON, verbose)
			}
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			if namesOnly {
				names, err := s.names()
				if err != nil {
					return err
				}
				if asJSON {
					return cmdutil.WriteJSON(f.IO.Out, append([]string{}, names...))
				}
				for _, n := range names {
					fmt.Fprintln(f.IO.Out, n)
				}
				return nil
			}
			l := s.js.KeyValueStores(s.ctx)
			var infos []*jetstream.StreamInfo
			for st := range l.Status() {
				infos = append(infos, st.(*jetstream.KeyValueBucketStatus).StreamInfo())
			}
			if err := l.Error(); err != nil {
				return Err(err, "", "")
			}
			for i := 1; i < len(infos); i++ {
				for j := i; j > 0 && infos[j].Config.Name < infos[j-1].Config.Name; j-- {
					infos[j], infos[j-1] = infos[j-1], infos[j]
				}
			}
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, append([]*jetstream.StreamInfo{}, infos...))
			}
			if len(infos) == 0 {
				fmt.Fprintln(f.IO.ErrOut, "No Key-Value buckets found")
				return nil
			}
			t := cmdutil.NewTable(f.IO, "Key-Value Buckets")
			t.AddHeader("Bucket", "Description", "Created", "Size", "Values", "Last Update")
			for _, si := range infos {
				t.AddRow(strings.TrimPrefix(si.Config.Name, "KV_"), si.Config.Description, si.Created.Local().Format("2006-01-02 15:04:05"),
					cmdutil.IBytes(si.State.Bytes), cmdutil.Comma(int64(si.State.Msgs)), jsutil.Since(si.State.LastTime))
			}
			t.AlignRight(3, 4)
			t.Render()
			return nil
		},
	}
	cmd.Flags().BoolVarP(&namesOnly, "names", "n", false, "show only the bucket names")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "show each key's revision, operation and time")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func newRm(f *cmdutil.Factory) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rm BUCKET",
		Short: "Remove a key-value bucket and all its keys",
		Args:  cmdutil.ExactArgs(1, "BUCKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return removeBucket(cmd, f, args[0], force)
		},
	}
	addForce(cmd, &force, "remove")
	return cmd
}

func removeBucket(cmd *cobra.Command, f *cmdutil.Factory, name string, force bool) error {
	s, cancel, err := open(cmd, f)
	defer cancel()
	if err != nil {
		return err
	}
	if _, err := s.bucket(&name); err != nil {
		return err
	}
	if err := f.ConfirmDestructive(force, fmt.Sprintf("Really delete bucket %s and all its keys", name)); err != nil {
		return err
	}
	if err := s.js.DeleteKeyValue(s.ctx, name); err != nil {
		return Err(err, name, "")
	}
	fmt.Fprintf(f.IO.ErrOut, "Deleted bucket %s\n", name)
	return nil
}

func newCompact(f *cmdutil.Factory) *cobra.Command {
	var force bool
	var older string
	cmd := &cobra.Command{
		Use:   "compact BUCKET",
		Short: "Reclaim the space of deleted and purged keys",
		Long: `Remove the delete and purge markers of a bucket with the history before
them; markers newer than --older-than (30m by default, as nats.go) keep
one marker so that watchers still see the deletion.`,
		Args: cmdutil.ExactArgs(1, "BUCKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			var opts []jetstream.KVPurgeOpt
			if older != "" {
				d, err := jsutil.ParseDuration(older)
				if err != nil {
					return cmdutil.FlagErrorf("--older-than: %v", err)
				}
				if d == 0 {
					d = -1
				}
				opts = append(opts, jetstream.DeleteMarkersOlderThan(d))
			}
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			kv, err := s.bucket(&name)
			if err != nil {
				return err
			}
			if err := f.ConfirmDestructive(force, fmt.Sprintf("Really purge the deleted keys of bucket %s", name)); err != nil {
				return err
			}
			if err := kv.PurgeDeletes(s.ctx, opts...); err != nil {
				return Err(err, name, "")
			}
			fmt.Fprintf(f.IO.ErrOut, "Compacted bucket %s\n", name)
			return nil
		},
	}
	addForce(cmd, &force, "compact")
	cmd.Flags().StringVar(&older, "older-than", "", "remove every marker older than `DURATION` (0: all markers)")
	return cmd
}
