package jetstream

import (
	"strconv"

	"github.com/sluicehq/sluice/pkg/api"
)

// Metadata keys the server manages in stream configs.
const (
	metaReqLevel = "_nats.req.level"
	metaVersion  = "_nats.ver"
	metaLevel    = "_nats.level"
	// serverVersion is the nats-server version JetStream claims in
	// _nats.ver (the one whose API sluice implements).
	serverVersion = "2.15.2"
)

// requiredLevel is the API level a stream config needs.
func requiredLevel(cfg *api.StreamConfig) int {
	lvl := 0
	if cfg.AllowMsgTTL || cfg.SubjectDeleteMarkerTTL > 0 {
		lvl = 1
	}
	if cfg.AllowMsgCounter || cfg.AllowAtomicPublish || cfg.AllowMsgSchedules || cfg.PersistMode == api.AsyncPersistMode {
		lvl = 2
	}
	if cfg.AllowBatchPublish {
		lvl = 4
	}
	return lvl
}

// setStaticMetadata keeps the required level in the stored config and
// drops the dynamic keys a client may have echoed back.
func setStaticMetadata(cfg *api.StreamConfig) {
	m := make(map[string]string, len(cfg.Metadata)+1)
	for k, v := range cfg.Metadata {
		if k != metaVersion && k != metaLevel {
			m[k] = v
		}
	}
	m[metaReqLevel] = strconv.Itoa(requiredLevel(cfg))
	cfg.Metadata = m
}

// withVersionMetadata is a copy of m with the server's version keys.
func withVersionMetadata(m map[string]string, _ int) map[string]string {
	out := make(map[string]string, len(m)+2)
	for k, v := range m {
		out[k] = v
	}
	out[metaVersion] = serverVersion
	out[metaLevel] = strconv.Itoa(APILevel)
	return out
}
