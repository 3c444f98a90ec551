package jetstream

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/pkg/api"
	"github.com/sluicehq/sluice/pkg/conf"
)

// Defaults, as nats-server's.
const (
	DefaultSyncInterval      = 2 * time.Minute
	DefaultRequestQueueLimit = 10000
	DefaultMaxConsumers      = 1000 // per stream, when the limits say none
	defaultDuplicateWindow   = 2 * time.Minute
)

// Config is the server's JetStream configuration: the jetstream {} block,
// the -js/-sd/--domain flags and every account's jetstream setting.
type Config struct {
	Enabled  bool
	StoreDir string
	// MaxMemory and MaxStore are the server-wide resource limits; 0 means
	// "size it from the machine" (75% of memory, 1 TB of disk).
	MaxMemory, MaxStore int64
	Domain              string
	// SyncInterval > 0 set explicitly gives nats-server's acknowledge-
	// before-fsync behaviour with a periodic flush; SyncAlways (or no
	// setting at all, sluice's default) acknowledges file-stream publishes
	// only once they are fsynced (group commit).
	SyncInterval      time.Duration
	SyncAlways        bool
	SyncSet           bool
	MaxBufferedMsgs   int
	MaxBufferedSize   int64
	RequestQueueLimit int
	UniqueTag         string
	// NotStrict relaxes API request decoding (unknown fields accepted).
	NotStrict bool
	Limits    api.JSLimitOpts
	// Encryption at rest of file streams: Key empty means none; Cipher
	// defaults to chachapoly. PrevKey opens stores written with it (key
	// rotation).
	Encryption store.Encryption
	// Accounts holds the jetstream setting of each account that has one.
	Accounts map[string]*AccountLimits
}

// AccountLimits are one account's JetStream limits: the untiered limits
// and, optionally, per-tier limits (R1, R3, ...).
type AccountLimits struct {
	api.JetStreamAccountLimits
	Tiers map[string]api.JetStreamAccountLimits
}

// Unlimited is what `jetstream: enabled` gives an account.
func Unlimited() *AccountLimits {
	return &AccountLimits{JetStreamAccountLimits: unlimited()}
}

func unlimited() api.JetStreamAccountLimits {
	return api.JetStreamAccountLimits{MaxMemory: -1, MaxStore: -1, MaxStreams: -1, MaxConsumers: -1,
		MaxAckPending: -1, MemoryMaxStreamBytes: -1, StoreMaxStreamBytes: -1}
}

// Issue is a problem found while reading configuration.
type Issue struct {
	Pos     conf.Pos
	Msg     string
	Warning bool
}

type reader struct {
	issues []Issue
	strict bool
}

func (r *reader) errorf(p conf.Pos, format string, a ...any) {
	r.issues = append(r.issues, Issue{Pos: p, Msg: fmt.Sprintf(format, a...)})
}

func (r *reader) unknown(key string, it *conf.Item, block string) {
	if it.Referenced {
		return
	}
	if r.strict {
		r.errorf(it.KeyPos, "unknown field %q in %s", key, block)
		return
	}
	r.issues = append(r.issues, Issue{Pos: it.KeyPos, Msg: fmt.Sprintf("unknown field %q in %s; ignored", key, block), Warning: true})
}

func item(v any) *conf.Item {
	if it, ok := v.(*conf.Item); ok {
		return it
	}
	return &conf.Item{Value: v}
}

func entries(m map[string]any) []struct {
	key string
	it  *conf.Item
} {
	out := make([]struct {
		key string
		it  *conf.Item
	}, 0, len(m))
	for k, v := range m {
		out = append(out, struct {
			key string
			it  *conf.Item
		}{k, item(v)})
	}
	// File order, so issues come out in the order they were written.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && before(out[j].it.KeyPos, out[j-1].it.KeyPos); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func before(a, b conf.Pos) bool {
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	return a.Col < b.Col
}

// ParseServer reads the top-level jetstream value (true/false,
// "enabled"/"disabled" or a block) into c. With strict, unknown keys are
// errors.
func (c *Config) ParseServer(it *conf.Item, strict bool) []Issue {
	r := &reader{strict: strict}
	switch v := it.Value.(type) {
	case bool:
		c.Enabled = v
	case string:
		switch strings.ToLower(v) {
		case "enabled", "enable":
			c.Enabled = true
		case "disabled", "disable":
			c.Enabled = false
		default:
			r.errorf(it.Pos, "Expected 'enabled' or 'disabled' for string value, got '%s'", v)
		}
	case map[string]any:
		c.Enabled = true
		for _, e := range entries(v) {
			c.serverKey(r, e.key, e.it)
		}
	default:
		r.errorf(it.Pos, "Expected map, bool or string to define JetStream, got %T", it.Value)
	}
	return r.issues
}

func (c *Config) serverKey(r *reader, key string, it *conf.Item) {
	str := func() (string, bool) {
		s, ok := it.Value.(string)
		if !ok {
			r.errorf(it.Pos, "'%s' must be a string", key)
		}
		return s, ok
	}
	num := func() (int64, bool) {
		n, ok := it.Value.(int64)
		if !ok {
			r.errorf(it.Pos, "'%s' must be a whole number", key)
		}
		return n, ok
	}
	switch strings.ToLower(key) {
	case "strict":
		if b, ok := it.Value.(bool); ok {
			c.NotStrict = !b
		} else {
			r.errorf(it.Pos, "Expected 'true' or 'false' for bool value, got '%v'", it.Value)
		}
	case "store", "store_dir", "storedir":
		if s, ok := str(); ok {
			if c.StoreDir != "" && c.StoreDir != s {
				r.errorf(it.Pos, "Duplicate 'store_dir' configuration")
				return
			}
			c.StoreDir = s
		}
	case "sync", "sync_interval":
		if s, ok := it.Value.(string); ok && strings.EqualFold(s, "always") {
			c.SyncAlways, c.SyncSet = true, true
			return
		}
		d, err := parseDuration(it.Value)
		if err != nil || d <= 0 {
			r.errorf(it.Pos, "'%s' must be \"always\" or a positive duration such as \"1s\", not %v", key, it.Value)
			return
		}
		c.SyncInterval, c.SyncSet = d, true
	case "max_memory_store", "max_mem_store", "max_mem":
		if n, err := storageSize(it.Value); err != nil {
			r.errorf(it.Pos, "max_mem_store %v", err)
		} else {
			c.MaxMemory = n
		}
	case "max_file_store", "max_file":
		if n, err := storageSize(it.Value); err != nil {
			r.errorf(it.Pos, "max_file_store %v", err)
		} else {
			c.MaxStore = n
		}
	case "domain":
		if s, ok := str(); ok {
			c.Domain = s
		}
	case "enable", "enabled":
		if b, ok := it.Value.(bool); ok {
			c.Enabled = b
		} else {
			r.errorf(it.Pos, "'%s' must be true or false", key)
		}
	case "unique_tag":
		if s, ok := str(); ok {
			c.UniqueTag = strings.ToLower(strings.TrimSpace(s))
		}
	case "max_buffered_msgs":
		if n, ok := num(); ok {
			c.MaxBufferedMsgs = int(n)
		}
	case "max_buffered_size":
		if n, err := storageSize(it.Value); err != nil {
			r.errorf(it.Pos, "max_buffered_size %v", err)
		} else {
			c.MaxBufferedSize = n
		}
	case "request_queue_limit":
		if n, ok := num(); ok {
			if n <= 0 {
				r.errorf(it.Pos, "'%s' must be positive", key)
				return
			}
			c.RequestQueueLimit = int(n)
		}
	case "limits":
		c.parseLimits(r, it)
	case "key", "ek", "encryption_key":
		if s, ok := str(); ok {
			c.Encryption.Key = s
		}
	case "prev_key", "prev_ek", "prev_encryption_key":
		if s, ok := str(); ok {
			c.Encryption.PrevKey = s
		}
	case "cipher":
		if s, ok := str(); ok {
			switch strings.ToLower(s) {
			case "chacha", "chachapoly":
				c.Encryption.Cipher = store.ChaChaPoly
			case "aes":
				c.Encryption.Cipher = store.AES
			default:
				r.errorf(it.Pos, "Unknown cipher type: %q", s)
			}
		}
	case "tpm":
		r.issues = append(r.issues, Issue{Pos: it.KeyPos, Warning: true,
			Msg: "'jetstream.tpm': keys from a TPM are not supported; ignored (set jetstream.key)"})
	case "extension_hint", "max_outstanding_catchup", "info_queue_limit", "meta_compact", "meta_compact_size",
		"meta_compact_sync", "max_concurrent_io", "max_catchup":
		r.issues = append(r.issues, Issue{Pos: it.KeyPos, Msg: fmt.Sprintf("'jetstream.%s' has no effect in sluice; ignored", key), Warning: true})
	default:
		r.unknown(key, it, "jetstream")
	}
}

func (c *Config) parseLimits(r *reader, it *conf.Item) {
	m, ok := it.Value.(map[string]any)
	if !ok {
		r.errorf(it.Pos, "Expected a map to define JetStreamLimits, got %T", it.Value)
		return
	}
	c.Limits = api.JSLimitOpts{}
	for _, e := range entries(m) {
		n, isNum := e.it.Value.(int64)
		needNum := func() bool {
			if !isNum {
				r.errorf(e.it.Pos, "'%s' must be a whole number", e.key)
			}
			return isNum
		}
		switch strings.ToLower(e.key) {
		case "max_ack_pending":
			if needNum() {
				c.Limits.MaxAckPending = int(n)
			}
		case "max_ha_assets":
			if needNum() {
				c.Limits.MaxHAAssets = int(n)
			}
		case "max_request_batch":
			if needNum() {
				c.Limits.MaxRequestBatch = int(n)
			}
		case "default_max_consumers":
			if needNum() {
				c.Limits.DefaultMaxConsumers = int(n)
			}
		case "duplicate_window":
			d, err := parseDuration(e.it.Value)
			if err != nil {
				r.errorf(e.it.Pos, "'duplicate_window': %v", err)
			}
			c.Limits.Duplicates = d
		case "batch":
			bm, ok := e.it.Value.(map[string]any)
			if !ok {
				r.errorf(e.it.Pos, "Expected a map to define batch limits, got %T", e.it.Value)
				continue
			}
			for _, b := range entries(bm) {
				switch strings.ToLower(b.key) {
				case "max_inflight_per_stream":
					c.Limits.MaxBatchInflightPerStream = intOf(r, b.key, b.it)
				case "max_inflight_total":
					c.Limits.MaxBatchInflightTotal = intOf(r, b.key, b.it)
				case "max_msgs":
					c.Limits.MaxBatchSize = intOf(r, b.key, b.it)
				case "timeout":
					d, err := parseDuration(b.it.Value)
					if err != nil {
						r.errorf(b.it.Pos, "'timeout': %v", err)
					}
					c.Limits.MaxBatchTimeout = d
				default:
					r.unknown(b.key, b.it, "jetstream.limits.batch")
				}
			}
		default:
			r.unknown(e.key, e.it, "jetstream.limits")
		}
	}
}

func intOf(r *reader, key string, it *conf.Item) int {
	n, ok := it.Value.(int64)
	if !ok {
		r.errorf(it.Pos, "'%s' must be a whole number", key)
	}
	return int(n)
}

// ParseAccount reads an account's jetstream value: true/false,
// "enabled"/"disabled", or a block of limits (with optional tiers {}).
// It returns nil for a disabled account.
func ParseAccount(it *conf.Item, account string, strict bool) (*AccountLimits, []Issue) {
	r := &reader{strict: strict}
	switch v := it.Value.(type) {
	case bool:
		if v {
			return Unlimited(), nil
		}
		return nil, nil
	case string:
		switch strings.ToLower(v) {
		case "enabled", "enable":
			return Unlimited(), nil
		case "disabled", "disable":
			return nil, nil
		}
		r.errorf(it.Pos, "Expected 'enabled' or 'disabled' for string value, got '%s'", v)
		return nil, r.issues
	case map[string]any:
		al := &AccountLimits{JetStreamAccountLimits: unlimited()}
		block := "account " + account + " jetstream"
		for _, e := range entries(v) {
			if strings.EqualFold(e.key, "tiers") {
				tm, ok := e.it.Value.(map[string]any)
				if !ok {
					r.errorf(e.it.Pos, "'tiers' must be a block {...}")
					continue
				}
				al.Tiers = map[string]api.JetStreamAccountLimits{}
				for _, t := range entries(tm) {
					lim := unlimited()
					if m, ok := t.it.Value.(map[string]any); ok {
						for _, f := range entries(m) {
							accountLimit(r, &lim, f.key, f.it, block+" tier "+t.key)
						}
					} else {
						r.errorf(t.it.Pos, "tier %q must be a block {...}", t.key)
					}
					al.Tiers[t.key] = lim
				}
				continue
			}
			accountLimit(r, &al.JetStreamAccountLimits, e.key, e.it, block)
		}
		return al, r.issues
	}
	r.errorf(it.Pos, "Expected map, bool or string to define JetStream, got %T", it.Value)
	return nil, r.issues
}

func accountLimit(r *reader, l *api.JetStreamAccountLimits, key string, it *conf.Item, block string) {
	size := func() (int64, bool) {
		n, err := storageSize(it.Value)
		if err != nil {
			r.errorf(it.Pos, "Expected a parseable size for %q, got %v", key, it.Value)
			return 0, false
		}
		return n, true
	}
	switch strings.ToLower(key) {
	case "max_memory", "max_mem", "mem", "memory":
		if n, ok := size(); ok {
			l.MaxMemory = n
		}
	case "max_store", "max_file", "max_disk", "store", "disk":
		if n, ok := size(); ok {
			l.MaxStore = n
		}
	case "max_streams", "streams":
		if n, ok := size(); ok {
			l.MaxStreams = int(n)
		}
	case "max_consumers", "consumers":
		if n, ok := size(); ok {
			l.MaxConsumers = int(n)
		}
	case "max_ack_pending":
		if n, ok := size(); ok {
			l.MaxAckPending = int(n)
		}
	case "mem_max_stream_bytes", "memory_max_stream_bytes":
		if n, ok := size(); ok {
			l.MemoryMaxStreamBytes = n
		}
	case "disk_max_stream_bytes", "store_max_stream_bytes":
		if n, ok := size(); ok {
			l.StoreMaxStreamBytes = n
		}
	case "max_bytes_required", "max_stream_bytes", "max_bytes":
		if b, ok := it.Value.(bool); ok {
			l.MaxBytesRequired = b
		} else {
			r.errorf(it.Pos, "Expected a parseable bool for %q, got %v", key, it.Value)
		}
	case "cluster_traffic":
		// Only meaningful with clustering; accepted for compatibility.
	default:
		r.unknown(key, it, block)
	}
}

// storageSize reads a size: a number (the config parser already applied
// any unit) or a string with a K/M/G/T suffix (powers of 1024).
func storageSize(v any) (int64, error) {
	switch n := v.(type) {
	case int64:
		return n, nil
	case string:
		if n == "" {
			return 0, nil
		}
		mult := map[byte]uint{'K': 10, 'M': 20, 'G': 30, 'T': 40}[n[len(n)-1]]
		if mult == 0 {
			return 0, fmt.Errorf("sizes defined as strings must end in K, M, G, T")
		}
		x, err := strconv.ParseInt(n[:len(n)-1], 10, 64)
		if err != nil {
			return 0, err
		}
		return x << mult, nil
	}
	return 0, fmt.Errorf("must be int64 or string")
}

func parseDuration(v any) (time.Duration, error) {
	switch d := v.(type) {
	case string:
		return time.ParseDuration(d)
	case int64:
		return time.Duration(d) * time.Second, nil
	}
	return 0, fmt.Errorf("invalid duration %v", v)
}

// resolved fills in the defaults nats-server applies at start.
func (c Config) resolved() Config {
	// The same layout as nats-server: <store_dir>/jetstream/<account>/...
	if c.StoreDir == "" {
		c.StoreDir = filepath.Join(os.TempDir(), "nats")
	}
	c.StoreDir = filepath.Join(c.StoreDir, "jetstream")
	if c.RequestQueueLimit == 0 {
		c.RequestQueueLimit = DefaultRequestQueueLimit
	}
	if !c.SyncSet {
		c.SyncAlways = true // sluice default: ack after fsync
	}
	if c.SyncInterval == 0 {
		c.SyncInterval = DefaultSyncInterval
	}
	return c
}
