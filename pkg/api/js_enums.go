package api

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// enumJSON marshals a small enum by the names in names (index = value).
func enumMarshal(v int, names []string) ([]byte, error) {
	if v < 0 || v >= len(names) {
		return nil, fmt.Errorf("can not marshal %v", v)
	}
	return []byte(strconv.Quote(names[v])), nil
}

func enumUnmarshal(data []byte, names []string) (int, error) {
	for i, n := range names {
		if string(data) == strconv.Quote(n) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("can not unmarshal %q", data)
}

// RetentionPolicy says when a stream may drop messages.
type RetentionPolicy int

// Retention policies.
const (
	LimitsPolicy RetentionPolicy = iota
	InterestPolicy
	WorkQueuePolicy
)

var retentionNames = []string{"limits", "interest", "workqueue"}

func (p RetentionPolicy) String() string { return retentionNames[p] }

// MarshalJSON writes the policy by name.
func (p RetentionPolicy) MarshalJSON() ([]byte, error) { return enumMarshal(int(p), retentionNames) }

// UnmarshalJSON reads the policy by name.
func (p *RetentionPolicy) UnmarshalJSON(b []byte) error {
	v, err := enumUnmarshal(b, retentionNames)
	*p = RetentionPolicy(v)
	return err
}

// DiscardPolicy says what a full stream does with a new message.
type DiscardPolicy int

// Discard policies.
const (
	DiscardOld DiscardPolicy = iota
	DiscardNew
)

var discardNames = []string{"old", "new"}

// MarshalJSON writes the policy by name.
func (p DiscardPolicy) MarshalJSON() ([]byte, error) { return enumMarshal(int(p), discardNames) }

// UnmarshalJSON reads the policy by name (either case, as the reference).
func (p *DiscardPolicy) UnmarshalJSON(b []byte) error {
	v, err := enumUnmarshal([]byte(strings.ToLower(string(b))), discardNames)
	*p = DiscardPolicy(v)
	return err
}

// StorageType is where a stream keeps its messages.
type StorageType int

// Storage types (values as the reference's, file first).
const (
	FileStorage StorageType = iota
	MemoryStorage
)

var storageNames = []string{"file", "memory"}

func (t StorageType) String() string { return storageNames[t] }

// MarshalJSON writes the type by name.
func (t StorageType) MarshalJSON() ([]byte, error) { return enumMarshal(int(t), storageNames) }

// UnmarshalJSON reads the type by name.
func (t *StorageType) UnmarshalJSON(b []byte) error {
	v, err := enumUnmarshal(b, storageNames)
	*t = StorageType(v)
	return err
}

// Compression is a stream's on-disk compression.
type Compression int

// Compression algorithms.
const (
	NoCompression Compression = iota
	S2Compression
)

var compressionNames = []string{"none", "s2"}

// MarshalJSON writes the algorithm by name.
func (c Compression) MarshalJSON() ([]byte, error) { return enumMarshal(int(c), compressionNames) }

// UnmarshalJSON reads the algorithm by name.
func (c *Compression) UnmarshalJSON(b []byte) error {
	v, err := enumUnmarshal(b, compressionNames)
	if err != nil {
		return errors.New("unknown compression algorithm")
	}
	*c = Compression(v)
	return nil
}

// PersistMode chooses acknowledge-after-fsync (default for sluice) or
// acknowledge-before-fsync (async).
type PersistMode int

// Persist modes.
const (
	DefaultPersistMode PersistMode = iota
	AsyncPersistMode
)

var persistNames = []string{"default", "async"}

// MarshalJSON writes the mode by name.
func (m PersistMode) MarshalJSON() ([]byte, error) { return enumMarshal(int(m), persistNames) }

// UnmarshalJSON reads the mode by name; empty is default.
func (m *PersistMode) UnmarshalJSON(b []byte) error {
	if string(b) == `""` {
		*m = DefaultPersistMode
		return nil
	}
	v, err := enumUnmarshal(b, persistNames)
	*m = PersistMode(v)
	return err
}
