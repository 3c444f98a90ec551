package store

import (
	"errors"
	"time"
)

// StorageType is where a stream keeps its messages.
type StorageType int

// Storage types. Their JSON names ("file", "memory") live in pkg/api.
const (
	FileStorage StorageType = iota
	MemoryStorage
)

func (t StorageType) String() string {
	switch t {
	case FileStorage:
		return "file"
	case MemoryStorage:
		return "memory"
	}
	return "unknown"
}

// DiscardPolicy says what happens when a limit is reached.
type DiscardPolicy int

// Discard policies.
const (
	DiscardOld DiscardPolicy = iota // remove the oldest messages to make room
	DiscardNew                      // refuse the new message
)

// Compression of stored records (file stores; memory stores ignore it).
type Compression int

// Compression algorithms.
const (
	NoCompression Compression = iota
	S2Compression
)

// Config is what a store needs of a stream's configuration. Zero or negative
// limits mean unlimited.
type Config struct {
	Name     string
	Storage  StorageType
	Subjects []string

	MaxMsgs       int64
	MaxBytes      int64
	MaxAge        time.Duration
	MaxMsgsPer    int64 // per subject
	MaxMsgSize    int32
	Discard       DiscardPolicy
	DiscardNewPer bool // with DiscardNew, MaxMsgsPer refuses too

	FirstSeq               uint64 // first sequence of a new, empty store
	AllowMsgTTL            bool
	SubjectDeleteMarkerTTL time.Duration
	Compression            Compression

	// Encryption at rest (file stores); nil stores plaintext.
	Encryption *Encryption

	// SyncAlways: Sync really fsyncs (the default for file streams, set by
	// the stream). When false the filestore fsyncs in the background every
	// SyncInterval (default 2 minutes, as nats-server) and Sync only writes.
	SyncAlways   bool
	SyncInterval time.Duration

	// Clock stamps stored messages (unix nanoseconds); time.Now when nil.
	// A stream's ingest loop reads the time once for a run of messages:
	// a clock reading costs 150-250 ns on some VMs, more than storing.
	Clock func() int64
}

// Cipher is the AEAD that seals records at rest.
type Cipher byte

// Ciphers (jetstream { cipher: chachapoly|aes }).
const (
	ChaChaPoly Cipher = 1
	AES        Cipher = 2
)

func (c Cipher) String() string {
	switch c {
	case ChaChaPoly:
		return "chachapoly"
	case AES:
		return "aes"
	}
	return "unknown"
}

// Encryption is the server's key for encryption at rest. PrevKey, when
// set, opens stores written with it, which are then re-keyed to Key.
type Encryption struct {
	Cipher  Cipher
	Key     string
	PrevKey string
}

// String keeps the keys out of logs.
func (e *Encryption) String() string {
	if e == nil {
		return "none"
	}
	return e.Cipher.String() + " (keys redacted)"
}

// Msg is one stored message. Time is the store time in unix nanoseconds.
// A loaded message's Header and Data never change afterwards, neither by
// the store nor by its readers: the memory store hands out its own
// buffers, and the server queues large payloads to clients without a copy.
type Msg struct {
	Subject string
	Header  []byte
	Data    []byte
	Seq     uint64
	Time    int64
}

// Batch is a run of messages read together (LoadRange of the stores'
// engine), their bytes kept in Buf where the store copies them: a batch
// used again reuses both slices.
type Batch struct {
	Msgs []Msg
	Buf  []byte
}

// Size is the number of bytes the message counts for against MaxBytes and
// in State().Bytes, the same formula for every store: subject, header and
// data plus 16 bytes of overhead.
func Size(subj string, hdr, data []byte) uint64 {
	return uint64(len(subj) + len(hdr) + len(data) + 16)
}

// TTL values for Store: 0 means the message has no TTL of its own (MaxAge
// applies), TTLNever means it never expires, even with MaxAge set; a
// positive value is seconds after which it expires, whatever MaxAge says.
const TTLNever int64 = -1

// PurgeOpts selects what Purge removes. With none set it removes everything.
// Subject restricts it to messages matching a filter (wildcards allowed);
// Seq removes only messages below that sequence; Keep keeps that many of the
// newest matching messages. Seq and Keep together are refused.
type PurgeOpts struct {
	Subject string
	Seq     uint64
	Keep    uint64
}

// SimpleState summarises the messages matching a filter.
type SimpleState struct {
	Msgs  uint64 `json:"messages"`
	First uint64 `json:"first_seq"`
	Last  uint64 `json:"last_seq"`
}

// LostData is what recovery or a read found corrupt and dropped.
type LostData struct {
	Msgs  []uint64 `json:"msgs"`  // sequences lost, when they could be read
	Bytes uint64   `json:"bytes"` // bytes of records dropped
}

// State is the state of a whole store.
type State struct {
	Msgs        uint64
	Bytes       uint64
	FirstSeq    uint64
	FirstTime   time.Time // zero when empty
	LastSeq     uint64
	LastTime    time.Time
	NumSubjects int
	NumDeleted  int       // sequences between first and last with no message
	Deleted     []uint64  // only from StateWithDeleted
	Lost        *LostData // nil when nothing was lost
	Consumers   int
}

// RemoveReason says why the store removed a message on its own.
type RemoveReason int

// Reasons for a removal reported to a RemoveCallback.
const (
	RemoveLimit           RemoveReason = iota // max_msgs, max_bytes or discard old
	RemoveLimitPerSubject                     // max_msgs_per_subject
	RemoveMaxAge                              // max_age
	RemoveTTL                                 // the message's own TTL
)

func (r RemoveReason) String() string {
	switch r {
	case RemoveLimit:
		return "limit"
	case RemoveLimitPerSubject:
		return "limit-per-subject"
	case RemoveMaxAge:
		return "max-age"
	case RemoveTTL:
		return "ttl"
	}
	return "unknown"
}

// RemoveCallback learns of a message the store removed on its own. size is
// what the message counted in State().Bytes.
type RemoveCallback func(seq uint64, subj string, size uint64, reason RemoveReason)

// LostCallback learns of data found corrupt and dropped (at recovery or on
// a read), so the stream can log it and publish an advisory.
type LostCallback func(lost LostData)

// Logger is what a store logs through (internal/logger satisfies it).
type Logger interface {
	Noticef(format string, v ...any)
	Warnf(format string, v ...any)
	Errorf(format string, v ...any)
	Debugf(format string, v ...any)
}

// NopLogger discards everything.
type NopLogger struct{}

func (NopLogger) Noticef(string, ...any) {}
func (NopLogger) Warnf(string, ...any)   {}
func (NopLogger) Errorf(string, ...any)  {}
func (NopLogger) Debugf(string, ...any)  {}

// Store is the storage of one stream. See the package doc for the
// concurrency contract.
type Store interface {
	// Store appends a message and returns its sequence and time (unix ns).
	// ttl is in seconds (see TTLNever). Limits are enforced here: with
	// DiscardNew a full store refuses with ErrMaxMsgs, ErrMaxBytes or
	// ErrMaxMsgsPerSubject; with DiscardOld the oldest messages go.
	Store(subj string, hdr, data []byte, ttl int64) (seq uint64, ts int64, err error)
	// StoreRaw stores a message with a given sequence and time (restore,
	// mirrors). seq must be above the last sequence; the gap becomes
	// deleted sequences.
	StoreRaw(subj string, hdr, data []byte, seq uint64, ts int64, ttl int64) error
	// SkipMsg consumes sequence seq (which must be last+1) without a
	// message. SkipMsgs consumes n sequences from seq.
	SkipMsg(seq uint64) error
	SkipMsgs(seq, n uint64) error
	// Sync makes every change whose call returned before Sync began
	// durable. Memory stores return nil at once. After a failed fsync the
	// store refuses writes (ErrWrite) until it is reopened: the data may
	// not be on disk, and retrying fsync would not say so.
	Sync() error

	// Load returns the message at seq: ErrNotFound below the first or
	// above the last sequence, ErrDeleted for a removed one in between.
	Load(seq uint64) (*Msg, error)
	// LoadNext returns the first message at or after start whose subject
	// matches filter ("" or ">" match all); ErrNotFound if none.
	LoadNext(filter string, start uint64) (*Msg, error)
	// LoadLast returns the newest message matching filter.
	LoadLast(filter string) (*Msg, error)
	// LoadPrevious returns the newest message at or before start matching
	// filter.
	LoadPrevious(filter string, start uint64) (*Msg, error)

	// Remove deletes one message; false if it was not there.
	Remove(seq uint64) (bool, error)
	// Erase overwrites the message's stored bytes, then removes it.
	Erase(seq uint64) (bool, error)
	// Purge removes messages (see PurgeOpts) and returns how many.
	Purge(opts PurgeOpts) (uint64, error)
	// Compact removes every message below seq; the first sequence becomes
	// seq (even above the last one, which then becomes seq-1).
	Compact(seq uint64) (uint64, error)
	// Truncate removes every message above seq; the last sequence becomes
	// seq. seq 0 empties the store keeping nothing.
	Truncate(seq uint64) error

	State() State
	// StateWithDeleted is State with the Deleted list filled in.
	StateWithDeleted() State
	// FilteredState counts messages at or after start matching filter.
	FilteredState(filter string, start uint64) SimpleState
	// SubjectsState gives per subject matching filter its count and first
	// and last sequences. SubjectsTotals gives only the counts.
	SubjectsState(filter string) map[string]SimpleState
	SubjectsTotals(filter string) map[string]uint64
	// NumPending counts messages at or after start matching filter; with
	// lastPerSubject, only the newest of each subject counts. validThrough
	// is the last sequence the answer covers.
	NumPending(start uint64, filter string, lastPerSubject bool) (total, validThrough uint64)

	// UpdateConfig applies new limits at once (lower limits remove
	// messages as they would on Store with DiscardOld).
	UpdateConfig(cfg Config) error
	RegisterRemoveCallback(cb RemoveCallback)
	RegisterLostCallback(cb LostCallback)

	// ConsumerStore opens (creating if needed) the persisted state of one
	// consumer of this stream.
	ConsumerStore(name string) (ConsumerStore, error)

	Type() StorageType
	// Delete stops the store and removes everything it stored.
	Delete() error
	// Stop flushes, syncs and closes. Later calls return ErrStoreClosed.
	Stop() error
}

// Sentinel errors. The jetstream package maps them to API error codes;
// wrapped errors (ErrWrite with the cause) match with errors.Is.
var (
	ErrNotFound          = errors.New("no message found")
	ErrDeleted           = errors.New("message deleted")
	ErrMaxMsgs           = errors.New("maximum messages exceeded")
	ErrMaxBytes          = errors.New("maximum bytes exceeded")
	ErrMaxMsgsPerSubject = errors.New("maximum messages per subject exceeded")
	ErrMsgTooBig         = errors.New("message size exceeds maximum allowed")
	ErrStoreClosed       = errors.New("store is closed")
	ErrWrite             = errors.New("store write failed")
	ErrSequenceMismatch  = errors.New("sequence mismatch")
	ErrBadSubject        = errors.New("invalid subject")
	ErrBadFilter         = errors.New("invalid filter subject")
	ErrPurgeArgs         = errors.New("purge with both seq and keep is not supported")
	ErrCorrupt           = errors.New("stored record is corrupt")
	ErrBadConfig         = errors.New("invalid store config")
	ErrConsumerNotFound  = errors.New("consumer state not found")
	ErrEncryption        = errors.New("cannot open encrypted store")
)
