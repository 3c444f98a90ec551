package checkcmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

type jetStreamOptions struct {
	*Common
	memWarn, memCrit          int
	storeWarn, storeCrit      int
	streamsWarn, streamsCrit  int
	consumersWarn, consumCrit int
	replicas                  bool
	replicaSeenCrit           time.Duration
	replicaLagCrit            uint64
	apiPrefix                 string
}

func newJetStream(c *Common) *cobra.Command {
	o := &jetStreamOptions{Common: c}
	cmd := &cobra.Command{
		Use:     "jetstream",
		Aliases: []string{"js"},
		Short:   "Check the JetStream usage of the account against its limits",
		Long: `Check the JetStream account of the connected user: memory, file storage,
streams and consumers in use, in percent of the account's limits, and,
with --replicas, that every replicated stream has a leader and healthy,
current replicas.

JetStream that is not enabled, for the server or the account, is
CRITICAL. A threshold of -1 turns its check off.`,
		Args: cmdutil.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.validate(); err != nil {
				return err
			}
			s, err := c.f.Settings()
			if err != nil {
				return err
			}
			o.apiPrefix = apiPrefix(s.Context.JSAPIPrefix, s.Context.JSDomain)
			return c.finish(o.run())
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&o.memWarn, "mem-warn", 75, "warn at this memory use, in percent of the limit")
	fl.IntVar(&o.memCrit, "mem-critical", 90, "critical at this memory use, in percent of the limit")
	fl.IntVar(&o.storeWarn, "store-warn", 75, "warn at this file storage use, in percent of the limit")
	fl.IntVar(&o.storeCrit, "store-critical", 90, "critical at this file storage use, in percent of the limit")
	fl.IntVar(&o.streamsWarn, "streams-warn", -1, "warn at this many streams, in percent of the limit")
	fl.IntVar(&o.streamsCrit, "streams-critical", -1, "critical at this many streams, in percent of the limit")
	fl.IntVar(&o.consumersWarn, "consumers-warn", -1, "warn at this many consumers, in percent of the limit")
	fl.IntVar(&o.consumCrit, "consumers-critical", -1, "critical at this many consumers, in percent of the limit")
	fl.BoolVar(&o.replicas, "replicas", true, "check that replicated streams are healthy")
	fl.DurationVar(&o.replicaSeenCrit, "replica-seen-critical", 5*time.Second, "critical when a replica was last seen longer ago")
	fl.Uint64Var(&o.replicaLagCrit, "replica-lag-critical", 200, "critical when a replica is more operations behind")
	return cmd
}

// apiPrefix is the JetStream API subject prefix for the settings.
func apiPrefix(prefix, domain string) string {
	switch {
	case prefix != "":
		return strings.TrimSuffix(prefix, ".")
	case domain != "":
		return "$JS." + domain + ".API"
	}
	return "$JS.API"
}

// apiError is the error of a JetStream API response.
type apiError struct {
	Code        int    `json:"code"`
	ErrCode     int    `json:"err_code"`
	Description string `json:"description"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (code %d, err_code %d)", e.Description, e.Code, e.ErrCode)
}

// accountInfo is the part of $JS.API.INFO the check reads.
type accountInfo struct {
	Memory    uint64    `json:"memory"`
	Store     uint64    `json:"storage"`
	Streams   int       `json:"streams"`
	Consumers int       `json:"consumers"`
	Limits    jsLimits  `json:"limits"`
	Error     *apiError `json:"error,omitempty"`
}

type jsLimits struct {
	MaxMemory    int64 `json:"max_memory"`
	MaxStore     int64 `json:"max_storage"`
	MaxStreams   int   `json:"max_streams"`
	MaxConsumers int   `json:"max_consumers"`
}

// jsRequest asks the JetStream API and decodes the answer into v, which
// must have an Error field the API fills on failure.
func (o *jetStreamOptions) jsRequest(nc *nats.Conn, api string, body any, v any) error {
	var data []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		data = b
	}
	subj := o.apiPrefix + "." + api
	m, err := nc.Request(subj, data, o.f.Timeout())
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return fmt.Errorf("JetStream is not enabled: nobody answers %s", subj)
	case err != nil:
		return fmt.Errorf("%s: %w", subj, err)
	}
	if err := json.Unmarshal(m.Data, v); err != nil {
		return fmt.Errorf("cannot decode the answer of %s: %w", subj, err)
	}
	return nil
}

func (o *jetStreamOptions) run() *Result {
	r := newResult("jetstream", "JetStream")
	nc, err := o.f.Conn()
	if err != nil {
		r.critf("connection failed: %v", err)
		return r
	}
	var info accountInfo
	if err := o.jsRequest(nc, "INFO", nil, &info); err != nil {
		r.critf("JetStream not available: %v", err)
		return r
	}
	if info.Error != nil {
		r.critf("JetStream not available: %v", info.Error)
		return r
	}
	usage(r, "memory", "B", o.memWarn, o.memCrit, info.Limits.MaxMemory, info.Memory)
	usage(r, "storage", "B", o.storeWarn, o.storeCrit, info.Limits.MaxStore, info.Store)
	usage(r, "streams", "", o.streamsWarn, o.streamsCrit, int64(info.Limits.MaxStreams), uint64(info.Streams))
	usage(r, "consumers", "", o.consumersWarn, o.consumCrit, int64(info.Limits.MaxConsumers), uint64(info.Consumers))
	if o.replicas {
		o.checkReplicas(r, nc)
	}
	return r
}

// usage judges current use against limit (0 or less: none) in
// percent; warn and crit of -1 are off.
func usage(r *Result, item, unit string, warn, crit int, limit int64, current uint64) {
	pct := 0
	if limit > 0 {
		pct = int(float64(current) / float64(limit) * 100)
	}
	r.perf(PerfItem{Name: item, Value: float64(current), Unit: unit, Help: "JetStream " + item + " in use"})
	r.perf(PerfItem{Name: item + "_pct", Value: float64(pct), Unit: "%", Warn: float64(max(warn, 0)), Crit: float64(max(crit, 0)),
		Help: "JetStream " + item + " in use, in percent of the limit"})
	switch {
	case warn < -1 || crit < -1:
		r.unknownf("%s: thresholds are percentages, or -1 for none", item)
	case warn != -1 && crit != -1 && warn >= crit:
		r.unknownf("%s: the warning threshold %d%% is not below the critical one %d%%", item, warn, crit)
	case pct > 100:
		r.critf("%s: %d%% is over the account limit", item, pct)
	case crit != -1 && pct > crit:
		r.critf("%d%% %s", pct, item)
	case warn != -1 && pct > warn:
		r.warnf("%d%% %s", pct, item)
	}
}

// streamList is one page of $JS.API.STREAM.LIST.
type streamList struct {
	Total   int          `json:"total"`
	Offset  int          `json:"offset"`
	Limit   int          `json:"limit"`
	Streams []streamInfo `json:"streams"`
	Error   *apiError    `json:"error,omitempty"`
}

type streamInfo struct {
	Config struct {
		Name     string `json:"name"`
		Replicas int    `json:"num_replicas"`
	} `json:"config"`
	Cluster *struct {
		Leader   string `json:"leader"`
		Replicas []struct {
			Name    string        `json:"name"`
			Current bool          `json:"current"`
			Offline bool          `json:"offline"`
			Active  time.Duration `json:"active"`
			Lag     uint64        `json:"lag"`
		} `json:"replicas"`
	} `json:"cluster"`
}

// checkReplicas sorts the account's streams into healthy and unhealthy
// by the state of their replicas.
func (o *jetStreamOptions) checkReplicas(r *Result, nc *nats.Conn) {
	var streams []streamInfo
	for offset := 0; ; {
		var page streamList
		if err := o.jsRequest(nc, "STREAM.LIST", map[string]int{"offset": offset}, &page); err != nil {
			r.critf("cannot list streams: %v", err)
			return
		}
		if page.Error != nil {
			r.critf("cannot list streams: %v", page.Error)
			return
		}
		streams = append(streams, page.Streams...)
		offset += len(page.Streams)
		if len(page.Streams) == 0 || offset >= page.Total {
			break
		}
	}
	var ok, noLeader, missing, lagged, unseen, failed int
	for _, s := range streams {
		if s.Config.Replicas <= 1 {
			ok++
			continue
		}
		switch {
		case s.Cluster == nil:
			failed++
			continue
		case s.Cluster.Leader == "":
			noLeader++
			continue
		case len(s.Cluster.Replicas) != s.Config.Replicas-1:
			missing++
			continue
		}
		healthy := true
		for _, p := range s.Cluster.Replicas {
			switch {
			case p.Offline:
				failed++
			case o.replicaSeenCrit > 0 && p.Active > o.replicaSeenCrit:
				unseen++
			case o.replicaLagCrit > 0 && p.Lag > o.replicaLagCrit:
				lagged++
			default:
				continue
			}
			healthy = false
		}
		if healthy {
			ok++
		}
	}
	r.perf(
		PerfItem{Name: "replicas_ok", Value: float64(ok), Help: "streams with healthy replicas"},
		PerfItem{Name: "replicas_no_leader", Value: float64(noLeader), Help: "streams without a leader"},
		PerfItem{Name: "replicas_missing_replicas", Value: float64(missing), Help: "streams with fewer replicas than configured"},
		PerfItem{Name: "replicas_lagged", Value: float64(lagged), Crit: float64(o.replicaLagCrit), Help: "replicas too far behind"},
		PerfItem{Name: "replicas_not_seen", Value: float64(unseen), Crit: o.replicaSeenCrit.Seconds(), Unit: "s", Help: "replicas not seen recently"},
		PerfItem{Name: "replicas_fail", Value: float64(failed), Help: "offline replicas or streams without cluster state"},
	)
	if bad := noLeader + missing + lagged + unseen + failed; bad > 0 {
		r.critf("%d unhealthy streams", bad)
	}
}
