package kvcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
)

// New builds `sluice kv` and its verbs.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kv",
		Short: "Manage key-value buckets and their keys",
		Long: `Create, inspect and remove key-value buckets, and put, get, watch and
delete their keys. A bucket is a JetStream stream named KV_<bucket>; the
verbs and flags are natscli's ('nats kv') and work against sluice and
nats-server alike.

Commands that remove data ask first on a terminal; elsewhere they need
--force.`,
	}
	cmdutil.MakeGroup(cmd)
	cmd.AddCommand(
		newAdd(f), newEdit(f), newInfo(f), newLs(f), newKeys(f), newRm(f), newCompact(f),
		newPut(f), newGet(f), newCreate(f), newUpdate(f), newDel(f), newPurge(f),
		newHistory(f), newRevert(f), newWatch(f),
	)
	return cmd
}

// session holds the JetStream client and a context bounding the work.
type session struct {
	f   *cmdutil.Factory
	js  jetstream.JetStream
	ctx context.Context
}

func open(cmd *cobra.Command, f *cmdutil.Factory) (*session, context.CancelFunc, error) {
	js, err := jsutil.New(f)
	if err != nil {
		return nil, func() {}, err
	}
	ctx, cancel := jsutil.Ctx(cmd.Context(), f)
	return &session{f: f, js: js, ctx: ctx}, cancel, nil
}

// openLong is open without the --timeout bound, for watch.
func openLong(cmd *cobra.Command, f *cmdutil.Factory) (*session, error) {
	js, err := jsutil.New(f)
	if err != nil {
		return nil, err
	}
	return &session{f: f, js: js, ctx: cmd.Context()}, nil
}

// bucket opens a bucket by name, picking one on a terminal when empty.
func (s *session) bucket(name *string) (jetstream.KeyValue, error) {
	if *name == "" {
		if err := s.pick(name); err != nil {
			return nil, err
		}
	}
	if err := ValidBucket(*name); err != nil {
		return nil, err
	}
	kv, err := s.js.KeyValue(s.ctx, *name)
	if err != nil {
		return nil, Err(err, *name, "")
	}
	return kv, nil
}

func (s *session) pick(name *string) error {
	p := s.f.Prompt()
	if p == nil {
		return cmdutil.FlagErrorf("missing BUCKET argument")
	}
	names, err := s.names()
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return cmdutil.WithHint(cmdutil.ExitNotFound, errors.New("there are no key-value buckets"), "create one with 'sluice kv add'")
	}
	i, err := p.Select("Select a Bucket", names, "")
	if err != nil {
		return err
	}
	*name = names[i]
	return nil
}

func (s *session) names() ([]string, error) {
	l := s.js.KeyValueStoreNames(s.ctx)
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

var (
	bucketRe = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
	keyRe    = regexp.MustCompile(`^[-/_=\.a-zA-Z0-9]+$`)
	filterRe = regexp.MustCompile(`^[-/_=\.a-zA-Z0-9*]*[>]?$`)
)

// ValidBucket checks a bucket name before anything is sent.
func ValidBucket(name string) error {
	if !bucketRe.MatchString(name) {
		return cmdutil.FlagErrorf("%q is not a valid bucket name: use letters, digits, '-' and '_'", name)
	}
	return nil
}

// ValidKey checks a key; wild allows the wildcards of watch filters.
func ValidKey(key string, wild bool) error {
	re := keyRe
	if wild {
		re = filterRe
	}
	if key == "" || !re.MatchString(key) || strings.HasPrefix(key, ".") || strings.HasSuffix(key, ".") || strings.Contains(key, "..") {
		what := "key"
		if wild {
			what = "key filter"
		}
		return cmdutil.FlagErrorf("%q is not a valid %s: use letters, digits and '-/_=.', no leading, trailing or double '.'", key, what)
	}
	return nil
}

// Err turns a KV client error into one with a distinct exit code and a
// hint; bucket and key say what was asked for.
func Err(err error, bucket, key string) error {
	if err == nil {
		return nil
	}
	var apiErr *jetstream.APIError
	errors.As(err, &apiErr)
	switch {
	case errors.Is(err, jetstream.ErrBucketNotFound), errors.Is(err, jetstream.ErrStreamNotFound):
		return cmdutil.NotFound("bucket", bucket, "list buckets with 'sluice kv ls'")
	case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
		return cmdutil.NotFound("key", key, fmt.Sprintf("list keys with 'sluice kv keys %s'", bucket))
	case errors.Is(err, jetstream.ErrNoKeysFound):
		return &cmdutil.Error{Code: cmdutil.ExitNotFound, Err: fmt.Errorf("bucket %s has no keys", bucket)}
	case errors.Is(err, jetstream.ErrKeyExists):
		return cmdutil.WithHint(cmdutil.ExitConflict, fmt.Errorf("key %q already exists", key), "use 'sluice kv put' or 'sluice kv update'")
	case errors.Is(err, jetstream.ErrKeyRevisionMismatch), apiErr != nil && (apiErr.ErrorCode == 10071 || apiErr.ErrorCode == 10164):
		return cmdutil.WithHint(cmdutil.ExitConflict, fmt.Errorf("key %q changed: wrong last revision", key), "read the current revision with 'sluice kv get %s %s'", bucket, key)
	case errors.Is(err, jetstream.ErrBucketExists), errors.Is(err, jetstream.ErrStreamNameAlreadyInUse):
		return cmdutil.WithHint(cmdutil.ExitConflict, fmt.Errorf("bucket %s exists with another configuration", bucket), "change it with 'sluice kv edit'")
	case errors.Is(err, jetstream.ErrInvalidKey):
		return cmdutil.FlagErrorf("%q is not a valid key", key)
	case errors.Is(err, jetstream.ErrInvalidBucketName):
		return cmdutil.FlagErrorf("%q is not a valid bucket name", bucket)
	case errors.Is(err, jetstream.ErrHistoryTooLarge):
		return cmdutil.FlagErrorf("--history must be at most 64")
	case apiErr != nil && apiErr.ErrorCode == 10054:
		return cmdutil.WithHint(cmdutil.ExitTooLarge, errors.New("value is larger than the bucket's maximum value size"), "see 'sluice kv info %s'", bucket)
	case apiErr != nil && (apiErr.ErrorCode == 10047 || apiErr.ErrorCode == 10028 || apiErr.ErrorCode == 10027):
		return cmdutil.WithHint(cmdutil.ExitTooLarge, fmt.Errorf("bucket %s is full: %s", bucket, apiErr.Description), "raise --max-bucket-size with 'sluice kv edit'")
	case apiErr != nil && apiErr.ErrorCode == 10109:
		return &cmdutil.Error{Code: cmdutil.ExitConflict, Err: fmt.Errorf("bucket %s is sealed: nothing can change", bucket)}
	}
	return jsutil.Err(err, "bucket", bucket)
}

// readValue is the value argument, or stdin when it is absent.
func readValue(f *cmdutil.Factory, args []string, i int) ([]byte, error) {
	if len(args) > i {
		return []byte(args[i]), nil
	}
	if f.IO.IsStdinTTY() {
		if p := f.Prompt(); p != nil {
			v, err := p.Input("Value", "")
			return []byte(v), err
		}
	}
	b, err := io.ReadAll(f.IO.In)
	if err != nil {
		return nil, fmt.Errorf("reading the value from stdin: %w", err)
	}
	return b, nil
}

// entryJSON is an entry for --json: the value as text when it is UTF-8,
// else as base64 in value_b64.
type entryJSON struct {
	Bucket    string    `json:"bucket"`
	Key       string    `json:"key"`
	Value     *string   `json:"value,omitempty"`
	ValueB64  []byte    `json:"value_b64,omitempty"`
	Revision  uint64    `json:"revision"`
	Created   time.Time `json:"created"`
	Delta     uint64    `json:"delta,omitempty"`
	Operation string    `json:"operation"`
}

func toJSON(e jetstream.KeyValueEntry) entryJSON {
	j := entryJSON{Bucket: e.Bucket(), Key: e.Key(), Revision: e.Revision(), Created: e.Created(), Delta: e.Delta(), Operation: opName(e.Operation())}
	if utf8.Valid(e.Value()) {
		v := string(e.Value())
		j.Value = &v
	} else {
		j.ValueB64 = e.Value()
	}
	return j
}

func opName(op jetstream.KeyValueOp) string {
	switch op {
	case jetstream.KeyValueDelete:
		return "DEL"
	case jetstream.KeyValuePurge:
		return "PURGE"
	}
	return "PUT"
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
