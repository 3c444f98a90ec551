package jetstream

import (
	njwt "github.com/nats-io/jwt/v2"

	"github.com/sluicehq/sluice/pkg/api"
)

// LimitsFromJWT is the JetStream setting of an account JWT, read as
// nats-server reads it: nil when the JWT does not enable JetStream; the
// account-level limits when memory or disk storage is set there, else
// one set of limits per tier. Stream and ack-pending limits of zero or
// less mean no limit; max_streams and max_consumers keep the JWT's value
// (-1, no limit, unless set).
func LimitsFromJWT(enabled bool, l njwt.JetStreamLimits, tiers njwt.JetStreamTieredLimits) *AccountLimits {
	if !enabled {
		return nil
	}
	open := func(v int64) int64 {
		if v > 0 {
			return v
		}
		return -1
	}
	conv := func(l njwt.JetStreamLimits) (out AccountLimits) {
		out.JetStreamAccountLimits = unlimited()
		out.MaxMemory, out.MaxStore = l.MemoryStorage, l.DiskStorage
		out.MaxStreams, out.MaxConsumers = int(l.Streams), int(l.Consumer)
		out.MemoryMaxStreamBytes, out.StoreMaxStreamBytes = open(l.MemoryMaxStreamBytes), open(l.DiskMaxStreamBytes)
		out.MaxBytesRequired = l.MaxBytesRequired
		out.MaxAckPending = int(open(l.MaxAckPending))
		return out
	}
	if l.DiskStorage != 0 || l.MemoryStorage != 0 {
		out := conv(l)
		return &out
	}
	out := &AccountLimits{JetStreamAccountLimits: unlimited(), Tiers: map[string]api.JetStreamAccountLimits{}}
	for name, tl := range tiers {
		out.Tiers[name] = conv(tl).JetStreamAccountLimits
	}
	return out
}
