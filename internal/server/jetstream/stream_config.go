package jetstream

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/pkg/api"
)

// Limits of names and metadata, as nats-server's.
const (
	maxNameLen        = 255
	maxDescriptionLen = 4 * 1024
	maxMetadataLen    = 128 * 1024
)

func invalidConfig(format string, a ...any) *api.ApiError {
	return api.JSStreamInvalidConfigF.With("err", fmt.Sprintf(format, a...))
}

// validName is nats-server's rule for stream and consumer names.
func validName(n string) bool {
	return n != "" && !strings.ContainsAny(n, " \t\r\n\f.*>\\/")
}

// checkStreamConfig applies the defaults nats-server applies and checks
// the configuration, with nats-server's errors in its order.
func (a *jsAccount) checkStreamConfig(in *api.StreamConfig) (api.StreamConfig, *api.ApiError) {
	if in == nil {
		return api.StreamConfig{}, invalidConfig("stream configuration invalid")
	}
	if !validName(in.Name) {
		return api.StreamConfig{}, invalidConfig("stream name is required and can not contain '.', '*', '>', '\\', '/'")
	}
	if len(in.Name) > maxNameLen {
		return api.StreamConfig{}, invalidConfig("stream name is too long, maximum allowed is %d", maxNameLen)
	}
	if len(in.Description) > maxDescriptionLen {
		return api.StreamConfig{}, invalidConfig("stream description is too long, maximum allowed is %d", maxDescriptionLen)
	}
	n := 0
	for k, v := range in.Metadata {
		n += len(k) + len(v)
	}
	if n > maxMetadataLen {
		return api.StreamConfig{}, invalidConfig("stream metadata exceeds maximum size of %d bytes", maxMetadataLen)
	}
	cfg := *in
	cfg.Subjects = append([]string(nil), in.Subjects...)
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Replicas > 5 {
		return cfg, invalidConfig("maximum replicas is 5")
	}
	if cfg.Replicas < 0 {
		return cfg, api.JSReplicasCountCannotBeNegative
	}
	for _, p := range []*int64{&cfg.MaxMsgs, &cfg.MaxMsgsPer, &cfg.MaxBytes} {
		if *p == 0 || *p < -1 {
			*p = -1
		}
	}
	if cfg.MaxMsgSize == 0 || cfg.MaxMsgSize < -1 {
		cfg.MaxMsgSize = -1
	}
	if cfg.MaxConsumers == 0 || cfg.MaxConsumers < -1 {
		cfg.MaxConsumers = -1
	}
	if cfg.MaxAge < 0 {
		return api.StreamConfig{}, invalidConfig("max age can not be negative")
	}
	if cfg.MaxAge != 0 && cfg.MaxAge < 100*time.Millisecond {
		return api.StreamConfig{}, invalidConfig("max age needs to be >= 100ms")
	}
	lim := a.js.cfg.Limits
	if cfg.Duplicates == 0 && cfg.Mirror == nil && len(cfg.Sources) == 0 {
		window := defaultDuplicateWindow
		if lim.Duplicates > 0 && window > lim.Duplicates {
			window = lim.Duplicates
		}
		if cfg.MaxAge != 0 && cfg.MaxAge < window {
			cfg.Duplicates = cfg.MaxAge
		} else {
			cfg.Duplicates = window
		}
	}
	switch {
	case cfg.Duplicates < 0:
		return api.StreamConfig{}, invalidConfig("duplicates window can not be negative")
	case cfg.MaxAge != 0 && cfg.Duplicates > cfg.MaxAge:
		return api.StreamConfig{}, invalidConfig("duplicates window can not be larger then max age")
	case lim.Duplicates > 0 && cfg.Duplicates > lim.Duplicates:
		return api.StreamConfig{}, invalidConfig("duplicates window can not be larger then server limit of %v", lim.Duplicates.String())
	case cfg.Duplicates > 0 && cfg.Duplicates < 100*time.Millisecond:
		return api.StreamConfig{}, invalidConfig("duplicates window needs to be >= 100ms")
	}
	if cfg.DenyPurge && cfg.AllowRollup {
		return api.StreamConfig{}, invalidConfig("roll-ups require the purge permission")
	}
	if cfg.AllowMsgCounter {
		switch {
		case cfg.Discard == api.DiscardNew:
			return api.StreamConfig{}, invalidConfig("counter stream cannot use discard new")
		case cfg.AllowMsgTTL:
			return api.StreamConfig{}, invalidConfig("counter stream cannot use message TTLs")
		case cfg.AllowMsgSchedules:
			return api.StreamConfig{}, invalidConfig("counter stream cannot use message schedules")
		case cfg.Retention != api.LimitsPolicy:
			return api.StreamConfig{}, invalidConfig("counter stream can only use limits retention")
		}
	}
	if cfg.DiscardNewPer {
		if cfg.Discard != api.DiscardNew {
			return api.StreamConfig{}, invalidConfig("discard new per subject requires discard new policy to be set")
		}
		if cfg.MaxMsgsPer <= 0 {
			return api.StreamConfig{}, invalidConfig("discard new per subject requires max msgs per subject > 0")
		}
	}
	if cfg.SubjectDeleteMarkerTTL > 0 {
		if cfg.SubjectDeleteMarkerTTL < time.Second {
			return api.StreamConfig{}, invalidConfig("subject delete marker TTL must be at least 1 second")
		}
		cfg.AllowMsgTTL = true
		if !cfg.AllowRollup {
			cfg.AllowRollup, cfg.DenyPurge = true, false
		}
	} else if cfg.SubjectDeleteMarkerTTL < 0 {
		return api.StreamConfig{}, invalidConfig("subject delete marker TTL must not be negative")
	}
	if cfg.AllowMsgSchedules {
		if cfg.Discard == api.DiscardNew {
			return api.StreamConfig{}, invalidConfig("message scheduling cannot use discard new")
		}
		if !cfg.AllowRollup {
			cfg.AllowRollup, cfg.DenyPurge = true, false
		}
	}
	if cfg.PersistMode == api.AsyncPersistMode {
		switch {
		case cfg.Storage != api.FileStorage:
			return api.StreamConfig{}, invalidConfig("async persist mode is only supported on file storage")
		case cfg.Replicas > 1:
			return api.StreamConfig{}, invalidConfig("async persist mode is not supported on replicated streams")
		case cfg.AllowAtomicPublish:
			return api.StreamConfig{}, invalidConfig("async persist mode is not supported with atomic batch publish")
		}
	}
	if e := a.checkSourcesConfig(&cfg); e != nil {
		return api.StreamConfig{}, e
	}
	if len(cfg.Subjects) == 0 {
		if cfg.Mirror == nil && len(cfg.Sources) == 0 {
			cfg.Subjects = []string{cfg.Name}
		}
	} else {
		seen := map[string]bool{}
		for i, subj := range cfg.Subjects {
			if !subject.ValidSubject(subj) {
				return api.StreamConfig{}, invalidConfig("invalid subject")
			}
			if seen[subj] {
				return api.StreamConfig{}, invalidConfig("duplicate subjects detected")
			}
			if subj == ">" {
				if !cfg.NoAck {
					return api.StreamConfig{}, invalidConfig("capturing all subjects requires no-ack to be true")
				}
				if cfg.Replicas != 1 {
					return api.StreamConfig{}, invalidConfig("capturing all subjects requires replicas of 1")
				}
			}
			if !cfg.NoAck {
				for _, ns := range []string{"$JS.>", "$JSC.>", "$NRG.>"} {
					if subject.Collide(subj, ns) && !subject.SubsetOf(subj, "$JS.EVENT.>") {
						return api.StreamConfig{}, invalidConfig("subjects that overlap with jetstream api require no-ack to be true")
					}
				}
				if subject.Collide(subj, "$SYS.>") && !subject.SubsetOf(subj, "$SYS.ACCOUNT.>") {
					return api.StreamConfig{}, invalidConfig("subjects that overlap with system api require no-ack to be true")
				}
			}
			for _, other := range cfg.Subjects[i+1:] {
				if subject.Collide(other, subj) {
					return api.StreamConfig{}, invalidConfig("subject %q overlaps with %q", subj, other)
				}
			}
			seen[subj] = true
		}
	}
	if l, ok := a.limitsForReplicas(cfg.Replicas); ok {
		max := l.StoreMaxStreamBytes
		if cfg.Storage == api.MemoryStorage {
			max = l.MemoryMaxStreamBytes
		}
		if l.MaxBytesRequired && cfg.MaxBytes <= 0 {
			return api.StreamConfig{}, api.JSStreamMaxBytesRequired
		}
		if max > 0 && cfg.MaxBytes > max {
			return api.StreamConfig{}, api.JSStreamMaxStreamBytesExceeded
		}
	}
	if t := cfg.SubjectTransform; t != nil {
		if t.Source != "" && !subject.ValidSubject(t.Source) {
			return api.StreamConfig{}, api.JSStreamTransformInvalidSource.With("err", "invalid subject "+t.Source)
		}
		if _, err := subject.NewTransform(orAll(t.Source), t.Destination); err != nil {
			return api.StreamConfig{}, api.JSStreamTransformInvalidDestination.With("err", err)
		}
	}
	if rp := cfg.RePublish; rp != nil {
		c := *rp
		cfg.RePublish = &c
		if c.Source == "" {
			cfg.RePublish.Source = ">"
		}
		for _, subj := range cfg.Subjects {
			if subject.Collide(cfg.RePublish.Destination, subj) {
				return api.StreamConfig{}, invalidConfig("stream configuration for republish destination forms a cycle")
			}
		}
		if _, err := subject.NewTransform(cfg.RePublish.Source, cfg.RePublish.Destination); err != nil {
			return api.StreamConfig{}, invalidConfig("stream configuration for republish with transform from '%s' to '%s' not valid", cfg.RePublish.Source, cfg.RePublish.Destination)
		}
	}
	if cfg.Placement != nil && reflect.DeepEqual(*cfg.Placement, api.Placement{}) {
		cfg.Placement = nil
	}
	// Standalone: more than one replica needs clustering.
	if cfg.Replicas > 1 {
		return api.StreamConfig{}, api.JSStreamReplicasNotSupportedErr
	}
	return cfg, nil
}

func orAll(s string) string {
	if s == "" {
		return ">"
	}
	return s
}

// checkUpdate checks an update against the stream's current config.
func (a *jsAccount) checkUpdate(old api.StreamConfig, in *api.StreamConfig) (api.StreamConfig, *api.ApiError) {
	cfg, apiErr := a.checkStreamConfig(in)
	if apiErr != nil {
		return cfg, apiErr
	}
	switch {
	case cfg.Name != old.Name:
		return cfg, invalidConfig("stream configuration name must match original")
	case cfg.Storage != old.Storage:
		return cfg, invalidConfig("stream configuration update can not change storage type")
	case cfg.Retention != old.Retention && (old.Retention == api.WorkQueuePolicy || cfg.Retention == api.WorkQueuePolicy):
		return cfg, invalidConfig("stream configuration update can not change retention policy to/from workqueue")
	case !cfg.Sealed && old.Sealed:
		return cfg, invalidConfig("stream configuration update can not unseal a sealed stream")
	case !cfg.DenyDelete && old.DenyDelete:
		return cfg, invalidConfig("stream configuration update can not cancel deny message deletes")
	case !cfg.DenyPurge && old.DenyPurge:
		return cfg, invalidConfig("stream configuration update can not cancel deny purge")
	case old.AllowMsgTTL && !cfg.AllowMsgTTL:
		return cfg, invalidConfig("message TTL status can not be disabled")
	case cfg.AllowMsgCounter != old.AllowMsgCounter:
		return cfg, invalidConfig("stream configuration update can not change message counter setting")
	case old.AllowMsgSchedules && !cfg.AllowMsgSchedules:
		return cfg, invalidConfig("message schedules can not be disabled")
	case old.PersistMode != cfg.PersistMode:
		return cfg, invalidConfig("stream configuration update can not change persist mode")
	case cfg.Mirror != nil && !reflect.DeepEqual(cfg.Mirror, old.Mirror):
		// Removing the mirror (promoting the stream) is allowed.
		return cfg, api.JSStreamMirrorNotUpdatableErr
	}
	if cfg.FirstSeq != old.FirstSeq && cfg.FirstSeq != 0 {
		return cfg, invalidConfig("stream configuration update can not change first sequence")
	}
	if cfg.Sealed {
		// A sealed stream keeps its limits as they are (nats-server resets
		// them so nothing is ever removed).
		cfg.MaxAge, cfg.Discard, cfg.DenyDelete, cfg.DenyPurge, cfg.AllowRollup = 0, api.DiscardNew, true, true, false
	}
	return cfg, nil
}

// subjectsOverlap reports whether subjects collide with another stream's.
func (a *jsAccount) subjectsOverlap(name string, subjects []string) bool {
	for _, s := range a.streams() {
		if s.name == name {
			continue
		}
		for _, x := range s.config().Subjects {
			for _, y := range subjects {
				if subject.Collide(x, y) {
					return true
				}
			}
		}
	}
	return false
}
