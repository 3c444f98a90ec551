package store

// SequencePair is a consumer sequence with its stream sequence.
type SequencePair struct {
	Consumer uint64 `json:"consumer_seq"`
	Stream   uint64 `json:"stream_seq"`
}

// Pending is one delivered, not yet acknowledged message.
type Pending struct {
	Sequence  uint64 `json:"sequence"` // consumer sequence of the last delivery
	Timestamp int64  `json:"ts"`       // unix ns of the last delivery
}

// ConsumerState is what a consumer needs to resume after a restart.
type ConsumerState struct {
	Delivered   SequencePair        `json:"delivered"`
	AckFloor    SequencePair        `json:"ack_floor"`
	Pending     map[uint64]*Pending `json:"pending,omitempty"`     // by stream sequence
	Redelivered map[uint64]uint64   `json:"redelivered,omitempty"` // stream sequence -> delivery count - 1
}

// ConsumerStore persists the state of one consumer.
type ConsumerStore interface {
	// Update replaces the stored state (the store keeps a copy).
	Update(state *ConsumerState) error
	// State returns a copy of the stored state (zero state when new).
	State() (*ConsumerState, error)
	// Sync makes the last Update durable (no-op for memory).
	Sync() error
	Stop() error
	// Delete stops and removes the state.
	Delete() error
}
