package monitor

import (
	"encoding/json"

	"github.com/sluicehq/sluice/pkg/api"
)

// writeJetStreamMetrics renders /jsz as prometheus-nats-exporter's -jsz
// series (jetstream_server_*, jetstream_stream_*), when JetStream is on.
func (h *Handler) writeJetStreamMetrics(p *promWriter, id string) {
	jz, err := h.src.Jsz(&api.JSzOptions{Accounts: true, Streams: true})
	if err != nil || jz.Disabled {
		return
	}
	sn := func(s string) string { return "jetstream_server_" + s }
	p.one(sn("total_streams"), "Streams", false, float64(jz.Streams), "server_id", id)
	p.one(sn("total_consumers"), "Consumers", false, float64(jz.Consumers), "server_id", id)
	p.one(sn("total_messages"), "Messages stored", false, float64(jz.Messages), "server_id", id)
	p.one(sn("total_message_bytes"), "Bytes stored", false, float64(jz.Bytes), "server_id", id)
	p.one(sn("max_memory"), "Memory storage limit, bytes", false, float64(jz.Config.MaxMemory), "server_id", id)
	p.one(sn("max_storage"), "File storage limit, bytes", false, float64(jz.Config.MaxStore), "server_id", id)
	p.one(sn("memory"), "Memory storage used, bytes", false, float64(jz.Memory), "server_id", id)
	p.one(sn("storage"), "File storage used, bytes", false, float64(jz.Store), "server_id", id)
	p.one(sn("accounts"), "JetStream-enabled accounts", false, float64(jz.JetStreamStats.Accounts), "server_id", id)
	p.one(sn("api_requests"), "JetStream API requests", true, float64(jz.API.Total), "server_id", id)
	p.one(sn("api_errors"), "JetStream API requests answered with an error", true, float64(jz.API.Errors), "server_id", id)
	type streamState struct {
		Msgs      uint64 `json:"messages"`
		Bytes     uint64 `json:"bytes"`
		FirstSeq  uint64 `json:"first_seq"`
		LastSeq   uint64 `json:"last_seq"`
		Consumers int    `json:"consumer_count"`
	}
	metrics := []struct {
		name, help string
		v          func(s *streamState) float64
	}{
		{"total_messages", "Messages in the stream", func(s *streamState) float64 { return float64(s.Msgs) }},
		{"total_bytes", "Bytes in the stream", func(s *streamState) float64 { return float64(s.Bytes) }},
		{"first_seq", "First sequence of the stream", func(s *streamState) float64 { return float64(s.FirstSeq) }},
		{"last_seq", "Last sequence of the stream", func(s *streamState) float64 { return float64(s.LastSeq) }},
		{"consumer_count", "Consumers of the stream", func(s *streamState) float64 { return float64(s.Consumers) }},
	}
	for _, m := range metrics {
		name := "jetstream_stream_" + m.name
		first := true
		for _, a := range jz.AccountDetails {
			for _, sd := range a.Streams {
				var st streamState
				if json.Unmarshal(sd.State, &st) != nil {
					continue
				}
				if first {
					p.header(name, "gauge", m.help)
					first = false
				}
				p.sample(name, m.v(&st), "server_id", id, "account", a.Name, "stream_name", sd.Name)
			}
		}
	}
}
