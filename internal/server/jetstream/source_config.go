package jetstream

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/pkg/api"
)

// hashDigits is the alphabet of nats-server's short hashes (external
// source names in Nats-Stream-Source, account hashes).
const hashDigits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// shortHash is the 8-character name hash nats-server uses: the first
// bytes of SHA-256 mapped onto 62 digits.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	out := make([]byte, 8)
	for i := range out {
		out[i] = hashDigits[int(sum[i])%len(hashDigits)]
	}
	return string(out)
}

// sourceIndexName identifies a source within a stream, as nats-server
// does: "<name>[:<api hash>] <filters> <destinations>", filters and
// destinations joined by form feeds. Its first token, and the filter and
// destination, are what the Nats-Stream-Source header carries.
func sourceIndexName(ss *api.StreamSource) string {
	name := ss.Name
	if ss.External != nil {
		name += ":" + shortHash(ss.External.ApiPrefix)
	}
	if ss.Consumer != nil {
		name += ":C=" + shortHash(ss.Consumer.Name)
	}
	src, dst := orAll(ss.FilterSubject), ">"
	if len(ss.SubjectTransforms) > 0 {
		var ss1, ds []string
		for _, tr := range ss.SubjectTransforms {
			ss1 = append(ss1, orAll(tr.Source))
			ds = append(ds, orAll(tr.Destination))
		}
		src, dst = strings.Join(ss1, "\f"), strings.Join(ds, "\f")
	}
	return name + " " + src + " " + dst
}

// checkTransforms checks a mirror's or source's subject transforms with
// the errors of each kind.
func checkTransforms(trs []api.SubjectTransformConfig, badFilter, badDest func(error) *api.ApiError, overlap *api.ApiError) *api.ApiError {
	for i, tr := range trs {
		if tr.Source != "" && !subject.ValidSubject(tr.Source) {
			return badFilter(fmt.Errorf("invalid subject %s", tr.Source))
		}
		if tr.Destination != "" {
			if _, err := subject.NewTransform(orAll(tr.Source), tr.Destination); err != nil {
				return badDest(err)
			}
		}
		for j, other := range trs {
			if i != j && subject.Collide(orAll(tr.Source), orAll(other.Source)) {
				return overlap
			}
		}
	}
	return nil
}

// checkSourcesConfig checks the mirror and sources of a config in the
// order nats-server does, and inherits mirror_direct from a local origin.
// It runs before the subjects are checked.
func (a *jsAccount) checkSourcesConfig(cfg *api.StreamConfig) *api.ApiError {
	var streamSubs, delivery, apis []string
	if m := cfg.Mirror; m != nil {
		switch {
		case cfg.FirstSeq > 0:
			return api.JSMirrorWithFirstSeqErr
		case len(cfg.Subjects) > 0:
			return api.JSMirrorWithSubjectsErr
		case len(cfg.Sources) > 0:
			return api.JSMirrorWithSourcesErr
		case cfg.AllowMsgCounter:
			return api.JSMirrorWithCountersErr
		case cfg.AllowAtomicPublish:
			return api.JSMirrorWithAtomicPublishErr
		case cfg.AllowBatchPublish:
			return api.JSMirrorWithBatchPublishErr
		case cfg.AllowMsgSchedules:
			return api.JSMirrorWithMsgSchedulesErr
		case m.Consumer != nil:
			// Durable sourcing (API level 4) is not built.
			return api.JSMirrorDurableConsumerCfgInvalid
		case m.FilterSubject != "" && len(m.SubjectTransforms) > 0:
			return api.JSMirrorMultipleFiltersNotAllowed
		case m.OptStartSeq > 0 && m.OptStartTime != nil:
			return api.JSMirrorWithStartSeqAndTimeErr
		case cfg.SubjectDeleteMarkerTTL > 0:
			return invalidConfig("subject delete markers forbidden on mirrors")
		}
		if m.FilterSubject != "" && !subject.ValidSubject(m.FilterSubject) {
			return api.JSMirrorInvalidSubjectFilter.With("err", "invalid subject "+m.FilterSubject)
		}
		if e := checkTransforms(m.SubjectTransforms,
			func(err error) *api.ApiError { return api.JSMirrorInvalidSubjectFilter.With("err", err) },
			func(err error) *api.ApiError { return api.JSMirrorInvalidTransformDestination.With("err", err) },
			api.JSMirrorOverlappingSubjectFilters); e != nil {
			return e
		}
		if m.External == nil {
			if !validName(m.Name) {
				return api.JSMirrorInvalidStreamName
			}
			if o := a.lookup(m.Name); o != nil {
				ocfg := o.config()
				streamSubs = append(streamSubs, ocfg.Subjects...)
				if cfg.MaxMsgSize > 0 && ocfg.MaxMsgSize > 0 && cfg.MaxMsgSize < ocfg.MaxMsgSize {
					return api.JSMirrorMaxMessageSizeTooBigErr
				}
				cfg.MirrorDirect = ocfg.AllowDirect
			}
		} else {
			if m.External.DeliverPrefix != "" {
				delivery = append(delivery, m.External.DeliverPrefix)
			}
			if m.External.ApiPrefix != "" {
				apis = append(apis, m.External.ApiPrefix)
			}
		}
	}
	if len(cfg.Sources) > 0 && cfg.AllowMsgSchedules {
		return api.JSSourceWithMsgSchedulesErr
	}
	seen := map[string]bool{}
	for _, src := range cfg.Sources {
		if src == nil || !validName(src.Name) {
			return api.JSSourceInvalidStreamName
		}
		in := sourceIndexName(src)
		if seen[in] {
			return api.JSSourceDuplicateDetected
		}
		seen[in] = true
		if src.FilterSubject != "" && len(src.SubjectTransforms) > 0 {
			return api.JSSourceMultipleFiltersNotAllowed
		}
		if src.FilterSubject != "" && !subject.ValidSubject(src.FilterSubject) {
			return api.JSSourceInvalidSubjectFilter.With("err", "invalid subject "+src.FilterSubject)
		}
		if e := checkTransforms(src.SubjectTransforms,
			func(err error) *api.ApiError { return api.JSSourceInvalidSubjectFilter.With("err", err) },
			func(err error) *api.ApiError { return api.JSSourceInvalidTransformDestination.With("err", err) },
			api.JSSourceOverlappingSubjectFilters); e != nil {
			return e
		}
		if src.Consumer != nil {
			return api.JSSourceDurableConsumerCfgInvalid
		}
		if src.External == nil {
			if o := a.lookup(src.Name); o != nil {
				ocfg := o.config()
				streamSubs = append(streamSubs, ocfg.Subjects...)
				if cfg.MaxMsgSize > 0 && ocfg.MaxMsgSize > 0 && cfg.MaxMsgSize < ocfg.MaxMsgSize {
					return api.JSSourceMaxMessageSizeTooBigErr
				}
			}
			continue
		}
		if src.External.DeliverPrefix != "" {
			delivery = append(delivery, src.External.DeliverPrefix)
		}
		if src.External.ApiPrefix != "" {
			apis = append(apis, src.External.ApiPrefix)
		}
	}
	for _, pfx := range delivery {
		if !subject.ValidLiteral(pfx) {
			return api.JSStreamInvalidExternalDeliverySubjErrF.With("prefix", pfx)
		}
		for _, sub := range streamSubs {
			if subject.Collide(sub, pfx+"."+sub) {
				return api.JSStreamExternalDelPrefixOverlapsErrF.With("prefix", pfx).With("subject", sub)
			}
		}
	}
	for _, pfx := range apis {
		if !subject.ValidLiteral(pfx) {
			return invalidConfig("stream external api prefix %q must be a valid subject without wildcards", pfx)
		}
		if subject.Collide(pfx, "$JS.API") {
			return api.JSStreamExternalApiOverlapErrF.With("prefix", pfx).With("subject", "$JS.API")
		}
	}
	if err := a.sourceCycle(cfg); err != nil {
		return invalidConfig("%v", err)
	}
	return nil
}

// sourceCycle walks the local streams cfg sources or mirrors and reports
// a cycle that would feed messages back into cfg.
func (a *jsAccount) sourceCycle(cfg *api.StreamConfig) error {
	visit := []api.StreamConfig{*cfg}
	visited := map[string]bool{}
	for len(visit) > 0 {
		c := visit[0]
		visit = visit[1:]
		visited[c.Name] = true
		for _, src := range c.Sources {
			if src == nil || src.External != nil {
				continue
			}
			if visited[src.Name] {
				if src.FilterSubject == "" || subjectsCollide(c.Subjects, src.FilterSubject) {
					return errors.New("detected cycle")
				}
			} else if o := a.lookup(src.Name); o != nil {
				visit = append(visit, o.config())
			}
		}
		if m := c.Mirror; m != nil && m.External == nil {
			if visited[m.Name] {
				return errors.New("detected cycle")
			}
			if o := a.lookup(m.Name); o != nil {
				visit = append(visit, o.config())
			}
		}
	}
	return nil
}

func subjectsCollide(subjects []string, filter string) bool {
	for _, s := range subjects {
		if subject.Collide(s, filter) {
			return true
		}
	}
	return false
}
