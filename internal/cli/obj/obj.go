package objcmd

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
)

// New builds `sluice obj` and its verbs.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "obj",
		Aliases: []string{"object"},
		Short:   "Manage object store buckets and their files",
		Long: `Create, inspect, seal and remove object store buckets, and put, get,
list, watch and delete the files in them. A bucket is a JetStream stream
named OBJ_<bucket>; files are stored in chunks with a SHA-256 digest that
get verifies. The verbs and flags are natscli's ('nats object') and work
against sluice and nats-server alike.

Commands that remove or replace data ask first on a terminal; elsewhere
they need --force.`,
	}
	cmdutil.MakeGroup(cmd)
	cmd.AddCommand(newAdd(f), newEdit(f), newInfo(f), newStatus(f), newLs(f), newRm(f), newSeal(f),
		newPut(f), newGet(f), newDel(f), newWatch(f))
	return cmd
}

type session struct {
	f   *cmdutil.Factory
	js  jetstream.JetStream
	ctx context.Context
}

// open bounds the work by --timeout; long is for transfers and watches,
// bounded only by the command's own context.
func open(cmd *cobra.Command, f *cmdutil.Factory, long bool) (*session, context.CancelFunc, error) {
	js, err := jsutil.New(f)
	if err != nil {
		return nil, func() {}, err
	}
	if long {
		ctx, cancel := context.WithCancel(cmd.Context())
		return &session{f: f, js: js, ctx: ctx}, cancel, nil
	}
	ctx, cancel := jsutil.Ctx(cmd.Context(), f)
	return &session{f: f, js: js, ctx: ctx}, cancel, nil
}

var bucketRe = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// ValidBucket checks a bucket name before anything is sent.
func ValidBucket(name string) error {
	if !bucketRe.MatchString(name) {
		return cmdutil.FlagErrorf("%q is not a valid bucket name: use letters, digits, '-' and '_'", name)
	}
	return nil
}

// openStore is open followed by store: most commands act on one bucket.
func openStore(cmd *cobra.Command, f *cmdutil.Factory, long bool, name string) (*session, jetstream.ObjectStore, context.CancelFunc, error) {
	s, cancel, err := open(cmd, f, long)
	if err != nil {
		return nil, nil, cancel, err
	}
	o, err := s.store(name)
	if err != nil {
		return nil, nil, cancel, err
	}
	return s, o, cancel, nil
}

func (s *session) store(name string) (jetstream.ObjectStore, error) {
	if err := ValidBucket(name); err != nil {
		return nil, err
	}
	o, err := s.js.ObjectStore(s.ctx, name)
	if err != nil {
		return nil, Err(err, name, "")
	}
	return o, nil
}

func (s *session) names() ([]string, error) {
	l := s.js.ObjectStoreNames(s.ctx)
	var names []string
	for n := range l.Name() {
		names = append(names, n)
	}
	if err := l.Error(); err != nil {
		return nil, Err(err, "", "")
	}
	sort.Strings(names)
	return names, nil
}

// Err turns an object store error into one with a distinct exit code.
func Err(err error, bucket, object string) error {
	if err == nil {
		return nil
	}
	var apiErr *jetstream.APIError
	errors.As(err, &apiErr)
	switch {
	case errors.Is(err, jetstream.ErrBucketNotFound), errors.Is(err, jetstream.ErrStreamNotFound):
		return cmdutil.NotFound("bucket", bucket, "list buckets with 'sluice obj ls'")
	case errors.Is(err, jetstream.ErrObjectNotFound):
		return cmdutil.NotFound("object", object, fmt.Sprintf("list objects with 'sluice obj ls %s'", bucket))
	case errors.Is(err, jetstream.ErrNoObjectsFound):
		return &cmdutil.Error{Code: cmdutil.ExitNotFound, Err: fmt.Errorf("bucket %s has no objects", bucket)}
	case errors.Is(err, jetstream.ErrDigestMismatch), errors.Is(err, jetstream.ErrInvalidDigestFormat), errors.Is(err, jetstream.ErrBadObjectMeta):
		return cmdutil.WithHint(cmdutil.ExitCorrupt, fmt.Errorf("object %q is corrupt: %v", object, err), "nothing was written; put the object again")
	case errors.Is(err, jetstream.ErrBucketExists), errors.Is(err, jetstream.ErrStreamNameAlreadyInUse):
		return cmdutil.WithHint(cmdutil.ExitConflict, fmt.Errorf("bucket %s exists with another configuration", bucket), "change it with 'sluice obj edit'")
	case errors.Is(err, jetstream.ErrObjectAlreadyExists):
		return &cmdutil.Error{Code: cmdutil.ExitConflict, Err: fmt.Errorf("object %q already exists", object)}
	case errors.Is(err, jetstream.ErrUpdateMetaDeleted):
		return cmdutil.NotFound("object", object, "it was deleted")
	case errors.Is(err, jetstream.ErrLinkNotAllowed):
		return cmdutil.FlagErrorf("a link cannot point to another link or a deleted object")
	case errors.Is(err, jetstream.ErrInvalidStoreName):
		return cmdutil.FlagErrorf("%q is not a valid bucket name", bucket)
	case apiErr != nil && apiErr.ErrorCode == 10054:
		return cmdutil.WithHint(cmdutil.ExitTooLarge, errors.New("a chunk is larger than the bucket allows"), "use a smaller --chunk-size")
	case apiErr != nil && (apiErr.ErrorCode == 10047 || apiErr.ErrorCode == 10028 || apiErr.ErrorCode == 10027):
		return cmdutil.WithHint(cmdutil.ExitTooLarge, fmt.Errorf("bucket %s is full: %s", bucket, apiErr.Description), "raise --max-bucket-size with 'sluice obj edit'")
	case apiErr != nil && apiErr.ErrorCode == 10109:
		return &cmdutil.Error{Code: cmdutil.ExitConflict, Err: fmt.Errorf("bucket %s is sealed: nothing can change", bucket)}
	}
	return jsutil.Err(err, "bucket", bucket)
}

func argOr(args []string, i int) string {
	if len(args) > i {
		return args[i]
	}
	return ""
}

func addForce(cmd *cobra.Command, force *bool, what string) {
	cmd.Flags().BoolVarP(force, "force", "f", false, what+" without asking")
}

// bucketFlags are the settings of add and edit, natscli's names.
type bucketFlags struct {
	cmd                       *cobra.Command
	ttl, maxBucket, desc, sto string
	replicas                  int
	compress                  bool
	metadata                  map[string]string
	tags                      []string
	cluster                   string
}

func (b *bucketFlags) register(cmd *cobra.Command) {
	b.cmd = cmd
	fl := cmd.Flags()
	fl.StringVar(&b.ttl, "ttl", "", "how long to keep objects (`DURATION`)")
	fl.IntVar(&b.replicas, "replicas", 1, "how many replicas of the data to keep")
	fl.StringVar(&b.maxBucket, "max-bucket-size", "", "largest size of the bucket (`BYTES`)")
	fl.StringVar(&b.desc, "description", "", "a description for the bucket")
	fl.StringVar(&b.sto, "storage", "file", "storage backend: file or memory")
	fl.StringToStringVar(&b.metadata, "metadata", nil, "metadata as `KEY=VALUE` (repeatable)")
	fl.BoolVar(&b.compress, "compress", false, "compress the bucket's data (s2)")
	fl.StringSliceVar(&b.tags, "tags", nil, "place the bucket on servers with these tags")
	fl.StringVar(&b.cluster, "cluster", "", "place the bucket in `CLUSTER`")
}

func (b *bucketFlags) apply(cfg *jetstream.ObjectStoreConfig) error {
	set := b.cmd.Flags().Changed
	if set("ttl") {
		d, err := jsutil.ParseDuration(b.ttl)
		if err != nil {
			return cmdutil.FlagErrorf("--ttl: %v", err)
		}
		cfg.TTL = d
	}
	if set("replicas") {
		if b.replicas < 1 || b.replicas > 5 {
			return cmdutil.FlagErrorf("--replicas must be between 1 and 5, not %d", b.replicas)
		}
		cfg.Replicas = b.replicas
	}
	if set("max-bucket-size") {
		n, err := jsutil.ParseSize(b.maxBucket)
		if err != nil {
			return cmdutil.FlagErrorf("--max-bucket-size: %q is not a size such as 1GB or -1", b.maxBucket)
		}
		cfg.MaxBytes = n
	}
	if set("description") {
		cfg.Description = b.desc
	}
	if set("storage") {
		switch strings.ToLower(b.sto) {
		case "file", "f":
			cfg.Storage = jetstream.FileStorage
		case "memory", "mem", "m":
			cfg.Storage = jetstream.MemoryStorage
		default:
			return cmdutil.FlagErrorf("--storage must be file or memory, not %q", b.sto)
		}
	}
	if set("metadata") {
		cfg.Metadata = b.metadata
	}
	if set("compress") {
		cfg.Compression = b.compress
	}
	if set("tags") || set("cluster") {
		cfg.Placement = &jetstream.Placement{Cluster: b.cluster, Tags: b.tags}
	}
	return nil
}

func newAdd(f *cmdutil.Factory) *cobra.Command {
	var (
		b      bucketFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:     "add [BUCKET]",
		Short:   "Create an object store bucket",
		Example: `  sluice obj add FILES --max-bucket-size 10GB --ttl 30d`,
		Args:    cmdutil.RangeArgs(0, 1, "BUCKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := argOr(args, 0)
			if name == "" {
				p := f.Prompt()
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
			cfg := jetstream.ObjectStoreConfig{Bucket: name}
			if err := b.apply(&cfg); err != nil {
				return err
			}
			s, cancel, err := open(cmd, f, false)
			defer cancel()
			if err != nil {
				return err
			}
			o, err := s.js.CreateObjectStore(s.ctx, cfg)
			if err != nil {
				return Err(err, name, "")
			}
			return showStatus(s, o, asJSON)
		},
	}
	b.register(cmd)
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func newEdit(f *cmdutil.Factory) *cobra.Command {
	var (
		b      bucketFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "edit BUCKET",
		Short: "Change an object store bucket's settings",
		Args:  cmdutil.ExactArgs(1, "BUCKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, o, cancel, err := openStore(cmd, f, false, args[0])
			defer cancel()
			if err != nil {
				return err
			}
			st, err := o.Status(s.ctx)
			if err != nil {
				return Err(err, args[0], "")
			}
			c := st.(*jetstream.ObjectBucketStatus).StreamInfo().Config
			cfg := jetstream.ObjectStoreConfig{Bucket: args[0], Description: c.Description, TTL: c.MaxAge, MaxBytes: c.MaxBytes,
				Storage: c.Storage, Replicas: c.Replicas, Placement: c.Placement, Compression: c.Compression == jetstream.S2Compression, Metadata: c.Metadata}
			if err := b.apply(&cfg); err != nil {
				return err
			}
			o, err = s.js.UpdateObjectStore(s.ctx, cfg)
			if err != nil {
				return Err(err, args[0], "")
			}
			return showStatus(s, o, asJSON)
		},
	}
	b.register(cmd)
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func showStatus(s *session, o jetstream.ObjectStore, asJSON bool) error {
	st, err := o.Status(s.ctx)
	if err != nil {
		return Err(err, "", "")
	}
	si := st.(*jetstream.ObjectBucketStatus).StreamInfo()
	if asJSON {
		return cmdutil.WriteJSON(s.f.IO.Out, si)
	}
	c := si.Config
	k := cmdutil.NewKV(fmt.Sprintf("Information for Object Store Bucket %s created %s", st.Bucket(), si.Created.Local().Format(time.RFC3339)))
	k.Add("Bucket Name", st.Bucket())
	k.AddIf("Description", st.Description())
	k.Add("Replicas", st.Replicas())
	k.Add("TTL", jsutil.HumanDuration(st.TTL()))
	k.Add("Sealed", st.Sealed())
	k.Add("Size", cmdutil.IBytes(st.Size()))
	k.Add("Maximum Bucket Size", jsutil.SizeLimit(c.MaxBytes))
	k.Add("Compressed", st.IsCompressed())
	k.Add("Backing Store Kind", st.BackingStore())
	k.Add("JetStream Stream", c.Name)
	k.Add("Storage", c.Storage.String())
	for mk, mv := range st.Metadata() {
		if !strings.HasPrefix(mk, "_nats.") {
			k.Add("Metadata "+mk, mv)
		}
	}
	k.Write(s.f.IO.Out)
	return nil
}

func newStatus(f *cmdutil.Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status BUCKET",
		Short: "Show an object store bucket's settings and state",
		Args:  cmdutil.ExactArgs(1, "BUCKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, o, cancel, err := openStore(cmd, f, false, args[0])
			defer cancel()
			if err != nil {
				return err
			}
			return showStatus(s, o, asJSON)
		},
	}
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func newRm(f *cmdutil.Factory) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rm BUCKET",
		Short: "Remove an object store bucket and all its objects",
		Args:  cmdutil.ExactArgs(1, "BUCKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return removeBucket(cmd, f, args[0], force)
		},
	}
	addForce(cmd, &force, "remove")
	return cmd
}

func removeBucket(cmd *cobra.Command, f *cmdutil.Factory, name string, force bool) error {
	s, cancel, err := open(cmd, f, false)
	defer cancel()
	if err != nil {
		return err
	}
	if _, err := s.store(name); err != nil {
		return err
	}
	if err := f.ConfirmDestructive(force, fmt.Sprintf("Really delete object store bucket %s and all its objects", name)); err != nil {
		return err
	}
	if err := s.js.DeleteObjectStore(s.ctx, name); err != nil {
		return Err(err, name, "")
	}
	fmt.Fprintf(f.IO.ErrOut, "Deleted bucket %s\n", name)
	return nil
}

func newSeal(f *cmdutil.Factory) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "seal BUCKET",
		Short: "Seal a bucket: no more puts or deletes, for good",
		Args:  cmdutil.ExactArgs(1, "BUCKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, o, cancel, err := openStore(cmd, f, false, args[0])
			defer cancel()
			if err != nil {
				return err
			}
			if err := f.ConfirmDestructive(force, fmt.Sprintf("Really seal bucket %s? This cannot be undone", args[0])); err != nil {
				return err
			}
			if err := o.Seal(s.ctx); err != nil {
				return Err(err, args[0], "")
			}
			fmt.Fprintf(f.IO.ErrOut, "Sealed bucket %s\n", args[0])
			return nil
		},
	}
	addForce(cmd, &force, "seal")
	return cmd
}
