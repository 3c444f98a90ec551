package streamcmd

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/pflag"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
	"github.com/sluicehq/sluice/internal/cli/msgutil"
)

// configFlags are the StreamConfig fields as flags, with natscli's
// names. Values are kept as typed in and parsed in apply, so that only
// the flags the user set change a configuration.
type configFlags struct {
	fl *pflag.FlagSet

	subjects                     []string
	description                  string
	storage, compression         string
	replicas                     int
	tags                         []string
	cluster                      string
	ack                          bool
	retention, discard           string
	discardPerSubject            bool
	firstSeq                     uint64
	maxAge, maxBytes, maxMsgSize string
	maxConsumers                 int
	maxMsgs, maxMsgsPerSubject   int64
	dupeWindow                   string
	mirror                       string
	noMirror                     bool
	sources                      []string
	allowBatch, allowFast        bool
	allowCounter, allowRollup    bool
	denyDelete, denyPurge        bool
	allowDirect, allowMirrorDir  bool
	allowMsgTTL, allowSchedules  bool
	markerTTL                    time.Duration
	transformSrc, transformDest  string
	noTransform                  bool
	metadata                     map[string]string
	repubSrc, repubDest          string
	repubHeaders, noRepub        bool
	limitInactive                time.Duration
	limitMaxPending              int
	persistMode                  string
}

// register puts the flags on fl; edit adds the --no-* removals and
// leaves out what cannot change after creation.
func (c *configFlags) register(fl *pflag.FlagSet, edit bool) {
	c.fl = fl
	fl.StringSliceVar(&c.subjects, "subjects", nil, "subjects the stream consumes, comma separated or repeated")
	fl.StringVar(&c.description, "description", "", "a description of the stream")
	if !edit {
		fl.StringVar(&c.storage, "storage", "", "storage backend: file or memory")
	}
	fl.StringVar(&c.compression, "compression", "", "compression of file storage: none or s2")
	fl.IntVar(&c.replicas, "replicas", 0, "number of replicas when clustered")
	fl.StringSliceVar(&c.tags, "tag", nil, "place the stream on servers with this tag (repeatable)")
	fl.StringVar(&c.cluster, "cluster", "", "place the stream in this cluster")
	fl.BoolVar(&c.ack, "ack", true, "acknowledge publishes (--ack=false for no acks)")
	fl.StringVar(&c.retention, "retention", "", "retention policy: limits, interest or work (workq)")
	fl.StringVar(&c.discard, "discard", "", "discard policy when full: old or new")
	fl.BoolVar(&c.discardPerSubject, "discard-per-subject", false, "apply discard new to every subject (needs --max-msgs-per-subject)")
	if !edit {
		fl.Uint64Var(&c.firstSeq, "first-sequence", 0, "first sequence number of the stream")
	}
	fl.StringVar(&c.maxAge, "max-age", "", "maximum age of messages, e.g. 1h, 2d, 1y (-1 unlimited)")
	fl.StringVar(&c.maxBytes, "max-bytes", "", "maximum total size, e.g. 1GB (-1 unlimited)")
	fl.IntVar(&c.maxConsumers, "max-consumers", -1, "maximum number of consumers (-1 unlimited)")
	fl.StringVar(&c.maxMsgSize, "max-msg-size", "", "maximum size of one message, e.g. 1MB (-1 unlimited)")
	fl.Int64Var(&c.maxMsgs, "max-msgs", 0, "maximum number of messages (-1 unlimited)")
	fl.Int64Var(&c.maxMsgsPerSubject, "max-msgs-per-subject", 0, "maximum messages kept per subject (-1 unlimited)")
	fl.StringVar(&c.dupeWindow, "dupe-window", "", "duplicate tracking window, e.g. 2m")
	fl.StringVar(&c.mirror, "mirror", "", "mirror `STREAM` (a name or a StreamSource JSON object)")
	fl.StringArrayVar(&c.sources, "source", nil, "source data from `STREAM` (a name or a StreamSource JSON object; repeatable)")
	fl.BoolVar(&c.allowBatch, "allow-batch", false, "allow atomic batch publishing")
	fl.BoolVar(&c.allowFast, "allow-fast", false, "allow fast batch publishing")
	fl.BoolVar(&c.allowCounter, "allow-counter", false, "make the stream a distributed counter")
	fl.BoolVar(&c.allowRollup, "allow-rollup", false, "allow roll-ups with the Nats-Rollup header")
	fl.BoolVar(&c.denyDelete, "deny-delete", false, "deny deleting messages through the API")
	fl.BoolVar(&c.denyPurge, "deny-purge", false, "deny purging through the API")
	fl.BoolVar(&c.allowDirect, "allow-direct", true, "allow direct get of messages")
	fl.BoolVar(&c.allowMirrorDir, "allow-mirror-direct", false, "allow direct get on mirrors")
	fl.BoolVar(&c.allowMsgTTL, "allow-msg-ttl", false, "allow per-message TTLs")
	fl.BoolVar(&c.allowSchedules, "allow-schedules", false, "allow message schedules")
	fl.DurationVar(&c.markerTTL, "subject-del-markers-ttl", 0, "how long subject delete markers persist")
	fl.StringVar(&c.transformSrc, "transform-source", "", "subject transform source")
	fl.StringVar(&c.transformDest, "transform-destination", "", "subject transform destination")
	fl.StringToStringVar(&c.metadata, "metadata", nil, "metadata as `KEY=VALUE` (repeatable)")
	fl.StringVar(&c.repubSrc, "republish-source", "", "republish messages matching this subject")
	fl.StringVar(&c.repubDest, "republish-destination", "", "republish to this subject")
	fl.BoolVar(&c.repubHeaders, "republish-headers", false, "republish headers only, no bodies")
	fl.DurationVar(&c.limitInactive, "limit-consumer-inactive", 0, "the largest consumer inactive threshold allowed")
	fl.IntVar(&c.limitMaxPending, "limit-consumer-max-pending", 0, "the largest consumer max ack pending allowed")
	fl.StringVar(&c.persistMode, "persist-mode", "", "persistence mode: default or async")
	if edit {
		fl.BoolVar(&c.noMirror, "no-mirror", false, "remove the mirror configuration")
		fl.BoolVar(&c.noTransform, "no-transform", false, "remove the subject transform")
		fl.BoolVar(&c.noRepub, "no-republish", false, "remove the republish configuration")
	}
}

func (c *configFlags) set(name string) bool {
	f := c.fl.Lookup(name)
	return f != nil && f.Changed
}

// anySet reports whether any configuration flag was given.
func (c *configFlags) anySet() bool {
	found := false
	c.fl.Visit(func(f *pflag.Flag) {
		switch f.Name {
		case "config", "force", "json", "dry-run", "defaults", "output":
		default:
			found = true
		}
	})
	return found
}

// defaultConfig is what a stream gets for what the user leaves out:
// natscli's answers to its prompts when --defaults is given.
func defaultConfig(name string) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name: name, Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardOld,
		MaxConsumers: -1, MaxMsgs: -1, MaxBytes: -1, MaxMsgsPerSubject: -1, MaxMsgSize: -1,
		Storage: jetstream.FileStorage, Replicas: 1, Duplicates: 2 * time.Minute,
		AllowDirect: true, Compression: jetstream.NoCompression,
	}
}

// loadConfig reads a StreamConfig in natscli's JSON (what 'nats stream
// add --output' or 'stream info --json' .config holds) over cfg.
func loadConfig(path string, cfg *jetstream.StreamConfig) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return cmdutil.FlagErrorf("--config: %v", err)
	}
	// Accept a whole 'stream info --json' too.
	var probe struct {
		Config *json.RawMessage `json:"config"`
	}
	if json.Unmarshal(b, &probe) == nil && probe.Config != nil {
		b = *probe.Config
	}
	if err := json.Unmarshal(b, cfg); err != nil {
		return cmdutil.FlagErrorf("--config %s is not a stream configuration: %v", path, err)
	}
	// The server owns the _nats.* metadata; a saved copy is stale.
	for k := range cfg.Metadata {
		if strings.HasPrefix(k, "_nats.") {
			delete(cfg.Metadata, k)
		}
	}
	return nil
}

func parseSource(flag, v string) (*jetstream.StreamSource, error) {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "{") {
		var s jetstream.StreamSource
		if err := json.Unmarshal([]byte(v), &s); err != nil {
			return nil, cmdutil.FlagErrorf("%s: not a StreamSource JSON object: %v", flag, err)
		}
		if err := jsutil.ValidName(flag, s.Name); err != nil {
			return nil, err
		}
		return &s, nil
	}
	if err := jsutil.ValidName(flag, v); err != nil {
		return nil, err
	}
	return &jetstream.StreamSource{Name: v}, nil
}

// splitSubjects splits subjects given with commas or spaces.
func splitSubjects(in []string) []string {
	var out []string
	for _, s := range in {
		for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
			out = append(out, p)
		}
	}
	return out
}

// apply sets on cfg every field whose flag was given, checking each value.
func (c *configFlags) apply(cfg *jetstream.StreamConfig) error {
	var err error
	if c.set("subjects") {
		cfg.Subjects = splitSubjects(c.subjects)
		for _, s := range cfg.Subjects {
			if err := msgutil.ValidateSubject(s, true); err != nil {
				return cmdutil.FlagErrorf("--subjects: %v", err)
			}
		}
	}
	if c.set("description") {
		cfg.Description = c.description
	}
	if c.set("storage") {
		switch strings.ToLower(c.storage) {
		case "file", "f":
			cfg.Storage = jetstream.FileStorage
		case "memory", "m", "mem":
			cfg.Storage = jetstream.MemoryStorage
		default:
			return cmdutil.FlagErrorf("--storage must be file or memory, not %q", c.storage)
		}
	}
	if c.set("compression") {
		switch strings.ToLower(c.compression) {
		case "none":
			cfg.Compression = jetstream.NoCompression
		case "s2":
			cfg.Compression = jetstream.S2Compression
		default:
			return cmdutil.FlagErrorf("--compression must be none or s2, not %q", c.compression)
		}
	}
	if c.set("replicas") {
		if c.replicas < 1 || c.replicas > 5 {
			return cmdutil.FlagErrorf("--replicas must be from 1 to 5, not %d", c.replicas)
		}
		cfg.Replicas = c.replicas
	}
	if c.set("tag") || c.set("cluster") {
		if cfg.Placement == nil {
			cfg.Placement = &jetstream.Placement{}
		}
		if c.set("tag") {
			cfg.Placement.Tags = c.tags
		}
		if c.set("cluster") {
			cfg.Placement.Cluster = c.cluster
		}
	}
	if c.set("ack") {
		cfg.NoAck = !c.ack
	}
	if c.set("retention") {
		switch strings.ToLower(c.retention) {
		case "limits", "limit":
			cfg.Retention = jetstream.LimitsPolicy
		case "interest":
			cfg.Retention = jetstream.InterestPolicy
		case "work", "workq", "work queue", "workqueue":
			cfg.Retention = jetstream.WorkQueuePolicy
		default:
			return cmdutil.FlagErrorf("--retention must be limits, interest or work, not %q", c.retention)
		}
	}
	if c.set("discard") {
		switch strings.ToLower(c.discard) {
		case "old":
			cfg.Discard = jetstream.DiscardOld
		case "new":
			cfg.Discard = jetstream.DiscardNew
		default:
			return cmdutil.FlagErrorf("--discard must be old or new, not %q", c.discard)
		}
	}
	if c.set("discard-per-subject") {
		cfg.DiscardNewPerSubject = c.discardPerSubject
		if c.discardPerSubject {
			cfg.Discard = jetstream.DiscardNew
		}
	}
	if c.set("first-sequence") {
		cfg.FirstSeq = c.firstSeq
	}
	if c.set("max-age") {
		if cfg.MaxAge, err = jsutil.ParseDuration(c.maxAge); err != nil {
			return cmdutil.FlagErrorf("--max-age: %v", err)
		}
	}
	if c.set("max-bytes") {
		if cfg.MaxBytes, err = jsutil.ParseSize(c.maxBytes); err != nil {
			return cmdutil.FlagErrorf("--max-bytes: %v", err)
		}
	}
	if c.set("max-consumers") {
		if c.maxConsumers < -1 {
			return cmdutil.FlagErrorf("--max-consumers must be -1 (unlimited) or more, not %d", c.maxConsumers)
		}
		cfg.MaxConsumers = c.maxConsumers
	}
	if c.set("max-msg-size") {
		n, err := jsutil.ParseSize(c.maxMsgSize)
		if err != nil {
			return cmdutil.FlagErrorf("--max-msg-size: %v", err)
		}
		if n > math.MaxInt32 {
			return cmdutil.FlagErrorf("--max-msg-size %s is too large; at most %s", c.maxMsgSize, cmdutil.IBytes(math.MaxInt32))
		}
		cfg.MaxMsgSize = int32(n)
	}
	if c.set("max-msgs") {
		if c.maxMsgs < -1 {
			return cmdutil.FlagErrorf("--max-msgs must be -1 (unlimited) or more, not %d", c.maxMsgs)
		}
		cfg.MaxMsgs = nonZero(c.maxMsgs)
	}
	if c.set("max-msgs-per-subject") {
		if c.maxMsgsPerSubject < -1 {
			return cmdutil.FlagErrorf("--max-msgs-per-subject must be -1 (unlimited) or more, not %d", c.maxMsgsPerSubject)
		}
		cfg.MaxMsgsPerSubject = nonZero(c.maxMsgsPerSubject)
	}
	if c.set("dupe-window") {
		if cfg.Duplicates, err = jsutil.ParseDuration(c.dupeWindow); err != nil {
			return cmdutil.FlagErrorf("--dupe-window: %v", err)
		}
	}
	if c.set("mirror") {
		if cfg.Mirror, err = parseSource("--mirror", c.mirror); err != nil {
			return err
		}
	}
	if c.noMirror {
		cfg.Mirror = nil
	}
	if c.set("source") {
		cfg.Sources = nil
		for _, s := range c.sources {
			src, err := parseSource("--source", s)
			if err != nil {
				return err
			}
			cfg.Sources = append(cfg.Sources, src)
		}
	}
	bools := []struct {
		flag string
		dst  *bool
		val  bool
	}{
		{"allow-batch", &cfg.AllowAtomicPublish, c.allowBatch},
		{"allow-fast", &cfg.AllowBatchPublish, c.allowFast},
		{"allow-counter", &cfg.AllowMsgCounter, c.allowCounter},
		{"allow-rollup", &cfg.AllowRollup, c.allowRollup},
		{"deny-delete", &cfg.DenyDelete, c.denyDelete},
		{"deny-purge", &cfg.DenyPurge, c.denyPurge},
		{"allow-direct", &cfg.AllowDirect, c.allowDirect},
		{"allow-mirror-direct", &cfg.MirrorDirect, c.allowMirrorDir},
		{"allow-msg-ttl", &cfg.AllowMsgTTL, c.allowMsgTTL},
		{"allow-schedules", &cfg.AllowMsgSchedules, c.allowSchedules},
	}
	for _, b := range bools {
		if c.set(b.flag) {
			*b.dst = b.val
		}
	}
	if c.set("subject-del-markers-ttl") {
		if c.markerTTL < 0 {
			return cmdutil.FlagErrorf("--subject-del-markers-ttl must not be negative")
		}
		cfg.SubjectDeleteMarkerTTL = c.markerTTL
	}
	if c.set("transform-source") || c.set("transform-destination") {
		if c.transformDest == "" {
			return cmdutil.FlagErrorf("--transform-source needs --transform-destination")
		}
		cfg.SubjectTransform = &jetstream.SubjectTransformConfig{Source: c.transformSrc, Destination: c.transformDest}
	}
	if c.noTransform {
		cfg.SubjectTransform = nil
	}
	if c.set("metadata") {
		cfg.Metadata = c.metadata
	}
	if c.set("republish-source") || c.set("republish-destination") || c.set("republish-headers") {
		if c.repubSrc == "" || c.repubDest == "" {
			return cmdutil.FlagErrorf("--republish-source and --republish-destination go together")
		}
		cfg.RePublish = &jetstream.RePublish{Source: c.repubSrc, Destination: c.repubDest, HeadersOnly: c.repubHeaders}
	}
	if c.noRepub {
		cfg.RePublish = nil
	}
	if c.set("limit-consumer-inactive") {
		if c.limitInactive < 0 {
			return cmdutil.FlagErrorf("--limit-consumer-inactive must not be negative")
		}
		cfg.ConsumerLimits.InactiveThreshold = c.limitInactive
	}
	if c.set("limit-consumer-max-pending") {
		if c.limitMaxPending < 0 {
			return cmdutil.FlagErrorf("--limit-consumer-max-pending must not be negative")
		}
		cfg.ConsumerLimits.MaxAckPending = c.limitMaxPending
	}
	if c.set("persist-mode") {
		switch c.persistMode {
		case "default":
			cfg.PersistMode = jetstream.DefaultPersistMode
		case "async":
			cfg.PersistMode = jetstream.AsyncPersistMode
		default:
			return cmdutil.FlagErrorf("--persist-mode must be default or async, not %q", c.persistMode)
		}
	}
	if cfg.Mirror != nil && len(cfg.Subjects) > 0 {
		return cmdutil.FlagErrorf("a mirror cannot have --subjects")
	}
	return nil
}

// nonZero maps the 0 natscli treats as "unset" to -1 (unlimited).
func nonZero(n int64) int64 {
	if n == 0 {
		return -1
	}
	return n
}

// ask prompts for the fields no flag set, as natscli does on a terminal.
func (c *configFlags) ask(p cmdutil.Prompter, w io.Writer, cfg *jetstream.StreamConfig) error {
	input := func(flag, q, def string, parse func(string) error) error {
		if c.set(flag) {
			return nil
		}
		return jsutil.AskUntilValid(p, w, q, def, parse)
	}
	if cfg.Mirror == nil && len(cfg.Sources) == 0 && !c.set("subjects") {
		if err := input("subjects", "Subjects", cfg.Name, func(v string) error {
			subs := splitSubjects([]string{v})
			for _, s := range subs {
				if err := msgutil.ValidateSubject(s, true); err != nil {
					return err
				}
			}
			cfg.Subjects = subs
			return nil
		}); err != nil {
			return err
		}
	}
	if !c.set("storage") {
		i, err := p.Select("Storage", []string{"file", "memory"}, "file")
		if err != nil {
			return err
		}
		cfg.Storage = jetstream.StorageType(i)
	}
	if err := input("replicas", "Replication", "1", func(v string) error {
		_, err := fmt.Sscan(v, &cfg.Replicas)
		return err
	}); err != nil {
		return err
	}
	if !c.set("retention") {
		i, err := p.Select("Retention Policy", []string{"Limits", "Interest", "Work Queue"}, "Limits")
		if err != nil {
			return err
		}
		cfg.Retention = jetstream.RetentionPolicy(i)
	}
	if !c.set("discard") {
		i, err := p.Select("Discard Policy", []string{"Old", "New"}, "Old")
		if err != nil {
			return err
		}
		cfg.Discard = jetstream.DiscardPolicy(i)
	}
	steps := []struct {
		flag, q, def string
		parse        func(string) error
	}{
		{"max-msgs", "Stream Messages Limit", "-1", func(v string) (err error) {
			_, err = fmt.Sscan(v, &cfg.MaxMsgs)
			cfg.MaxMsgs = nonZero(cfg.MaxMsgs)
			return
		}},
		{"max-msgs-per-subject", "Per Subject Messages Limit", "-1", func(v string) (err error) {
			_, err = fmt.Sscan(v, &cfg.MaxMsgsPerSubject)
			cfg.MaxMsgsPerSubject = nonZero(cfg.MaxMsgsPerSubject)
			return
		}},
		{"max-bytes", "Total Stream Size", "-1", func(v string) (err error) {
			cfg.MaxBytes, err = jsutil.ParseSize(v)
			return
		}},
		{"max-age", "Message TTL", "-1", func(v string) (err error) {
			cfg.MaxAge, err = jsutil.ParseDuration(v)
			return
		}},
		{"max-msg-size", "Max Message Size", "-1", func(v string) error {
			n, err := jsutil.ParseSize(v)
			cfg.MaxMsgSize = int32(min(n, math.MaxInt32))
			return err
		}},
		{"dupe-window", "Duplicate tracking time window", "2m0s", func(v string) (err error) {
			cfg.Duplicates, err = jsutil.ParseDuration(v)
			return
		}},
	}
	for _, s := range steps {
		if err := input(s.flag, s.q, s.def, s.parse); err != nil {
			return err
		}
	}
	confirms := []struct {
		flag, q string
		def     bool
		set     func(bool)
	}{
		{"allow-rollup", "Allow message Roll-ups", false, func(b bool) { cfg.AllowRollup = b }},
		{"deny-delete", "Allow message deletion", true, func(b bool) { cfg.DenyDelete = !b }},
		{"deny-purge", "Allow purging subjects or the entire stream", true, func(b bool) { cfg.DenyPurge = !b }},
	}
	for _, q := range confirms {
		if c.set(q.flag) {
			continue
		}
		b, err := p.Confirm(q.q, q.def)
		if err != nil {
			return err
		}
		q.set(b)
	}
	return nil
}
