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

// CopyConsumerState returns a deep copy of st.
func CopyConsumerState(st *ConsumerState) *ConsumerState {
	if st == nil {
		return &ConsumerState{}
	}
	c := &ConsumerState{Delivered: st.Delivered, AckFloor: st.AckFloor}
	if len(st.Pending) > 0 {
		c.Pending = make(map[uint64]*Pending, len(st.Pending))
		for k, v := range st.Pending {
			p := *v
			c.Pending[k] = &p
		}
	}
	if len(st.Redelivered) > 0 {
		c.Redelivered = make(map[uint64]uint64, len(st.Redelivered))
		for k, v := range st.Redelivered {
			c.Redelivered[k] = v
		}
	}
	return c
}
