package jetstream

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/sluicehq/sluice/pkg/api"
)

// ConfigInfo is the configuration /jsz and /varz show.
func (js *JetStream) ConfigInfo() api.JetStreamConfig {
	c := js.cfg
	out := api.JetStreamConfig{MaxMemory: js.maxMemory(), MaxStore: js.maxStore(), StoreDir: c.StoreDir,
		SyncInterval: c.SyncInterval, SyncAlways: c.SyncAlways, Domain: c.Domain, CompressOK: true,
		UniqueTag: c.UniqueTag, Strict: !c.NotStrict}
	return out
}

// Stats adds up the usage of every account.
func (js *JetStream) Stats() api.JetStreamStats {
	st := api.JetStreamStats{API: js.apiStats()}
	for _, a := range js.accountList() {
		mem, store, _, _ := a.usage()
		st.Memory += mem
		st.Store += store
		st.ReservedMemory += uint64(a.reserved(api.MemoryStorage))
		st.ReservedStore += uint64(a.reserved(api.FileStorage))
		st.Accounts++
	}
	return st
}

// reserved is the sum of max_bytes of the account's streams of a kind.
func (a *jsAccount) reserved(kind api.StorageType) int64 {
	var n int64
	for _, s := range a.streams() {
		if c := s.config(); c.Storage == kind && c.MaxBytes > 0 {
			n += c.MaxBytes
		}
	}
	return n
}

// Jsz is the /jsz report.
func (js *JetStream) Jsz(o *api.JSzOptions, serverID string) *api.JSInfo {
	if o == nil {
		o = &api.JSzOptions{}
	}
	if o.Consumer && !o.Streams { // consumers hook: consumers=1 implies streams, as in nats-server
		c := *o
		c.Streams = true
		o = &c
	}
	info := &api.JSInfo{ID: serverID, Now: time.Now().UTC(), Config: js.ConfigInfo(), JetStreamStats: js.Stats()}
	lim := js.cfg.Limits
	info.Limits = &lim
	for _, a := range js.accountList() {
		if o.Account != "" && a.name != o.Account {
			continue
		}
		d := js.accountDetail(a, o)
		for _, sd := range a.streams() {
			st := sd.st.State()
			info.Streams++
			info.Messages += st.Msgs
			info.Bytes += st.Bytes
			info.Consumers += st.Consumers
		}
		if o.Accounts || o.Account != "" || o.Streams {
			info.AccountDetails = append(info.AccountDetails, d)
		}
	}
	info.Total = len(info.AccountDetails)
	if o.Offset > 0 || o.Limit > 0 {
		off := min(o.Offset, len(info.AccountDetails))
		end := len(info.AccountDetails)
		if o.Limit > 0 {
			end = min(off+o.Limit, end)
		}
		info.AccountDetails = info.AccountDetails[off:end]
	}
	return info
}

func (js *JetStream) accountDetail(a *jsAccount, o *api.JSzOptions) *api.AccountDetail {
	mem, store, _, _ := a.usage()
	d := &api.AccountDetail{Name: a.name, ID: a.name, JetStreamStats: api.JetStreamStats{
		Memory: mem, Store: store, ReservedMemory: uint64(a.reserved(api.MemoryStorage)),
		ReservedStore: uint64(a.reserved(api.FileStorage)),
		API:           api.JetStreamAPIStats{Level: APILevel, Total: a.apiTotal.Load(), Errors: a.apiErrors.Load()},
	}}
	if !o.Streams {
		return d
	}
	for _, s := range a.streams() {
		sd := api.StreamDetail{Name: s.name, Created: s.created.UTC()}
		if o.Config {
			sd.Config, _ = json.Marshal(s.config())
		}
		sd.State, _ = json.Marshal(s.state(false))
		sd.Cluster, _ = json.Marshal(api.ClusterInfo{Leader: js.b.ServerName()})
		if o.Consumer {
			sd.Consumer = s.consumerDetails(o.Config) // consumers hook: see consumers.go
		}
		d.Streams = append(d.Streams, sd)
	}
	return d
}

// AccountJsz is one account's report ($SYS.REQ.ACCOUNT.<acc>.JSZ).
func (js *JetStream) AccountJsz(account string, o *api.JSzOptions) (*api.AccountDetail, error) {
	a := js.account(account)
	if a == nil {
		return nil, errors.New("account not jetstream enabled")
	}
	if o == nil {
		o = &api.JSzOptions{}
	}
	return js.accountDetail(a, o), nil
}

// Healthy reports a problem with a stream (or the account), for
// /healthz?account=&stream=.
func (js *JetStream) Healthy(account, stream string) error {
	a := js.account(account)
	if a == nil {
		return errors.New("JetStream account not found")
	}
	if stream != "" && a.lookup(stream) == nil {
		return errors.New("stream not found")
	}
	return nil
}
