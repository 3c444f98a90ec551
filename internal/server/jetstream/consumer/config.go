package consumer

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/pkg/api"
)

// Limits and defaults, as nats-server's.
const (
	DefaultAckWait       = 30 * time.Second
	DefaultMaxAckPending = 1000
	DefaultMaxWaiting    = 512
	EphemeralThreshold   = 5 * time.Second
	DefaultPinnedTTL     = 2 * time.Minute
	maxDescription       = 4 * 1024
	maxMetadata          = 128 * 1024
	MaxNameLen           = 255
	flowControlHB        = time.Second // the heartbeat ack_policy flow_control requires
)

var groupName = regexp.MustCompile(`^[a-zA-Z0-9/_=-]{1,16}$`)

// Durable reports whether cfg names a durable consumer.
func Durable(cfg *api.ConsumerConfig) bool { return cfg.Durable != "" }

// SetDefaults fills in what the client left out, as nats-server does;
// accMaxAckPending is the account's limit (0: none).
func SetDefaults(cfg *api.ConsumerConfig, st *api.StreamConfig, accMaxAckPending int) *api.ApiError {
	if cfg.MaxDeliver == 0 || cfg.MaxDeliver < -1 {
		cfg.MaxDeliver = -1
	}
	cfg.MaxWaiting = max(cfg.MaxWaiting, 0)
	if cfg.MaxAckPending < -1 {
		cfg.MaxAckPending = -1
	}
	cfg.MaxRequestBatch = max(cfg.MaxRequestBatch, 0)
	cfg.MaxRequestExpires = max(cfg.MaxRequestExpires, 0)
	cfg.MaxRequestMaxBytes = max(cfg.MaxRequestMaxBytes, 0)
	cfg.Heartbeat = max(cfg.Heartbeat, 0)
	cfg.InactiveThreshold = max(cfg.InactiveThreshold, 0)
	cfg.PinnedTTL = max(cfg.PinnedTTL, 0)
	if cfg.DeliverSubject == "" && cfg.MaxWaiting == 0 {
		cfg.MaxWaiting = DefaultMaxWaiting
	}
	if cfg.AckWait == 0 && (cfg.AckPolicy == api.AckExplicit || cfg.AckPolicy == api.AckAll) {
		cfg.AckWait = DefaultAckWait
	}
	if len(cfg.BackOff) > 0 {
		cfg.AckWait = cfg.BackOff[0]
	}
	if cfg.MaxAckPending == 0 {
		cfg.MaxAckPending = st.ConsumerLimits.MaxAckPending
	}
	if cfg.InactiveThreshold == 0 {
		cfg.InactiveThreshold = st.ConsumerLimits.InactiveThreshold
	}
	if cfg.MaxAckPending == 0 && cfg.AckPolicy != api.AckNone {
		cfg.MaxAckPending = DefaultMaxAckPending
		if accMaxAckPending > 0 && accMaxAckPending < cfg.MaxAckPending {
			cfg.MaxAckPending = accMaxAckPending
		}
	}
	if cfg.Durable == "" && cfg.InactiveThreshold == 0 {
		cfg.InactiveThreshold = EphemeralThreshold
	}
	if cfg.PriorityPolicy == api.PriorityPinnedClient && cfg.PinnedTTL == 0 {
		cfg.PinnedTTL = DefaultPinnedTTL
	}
	if cfg.AckPolicy == api.AckFlowControl {
		cfg.FlowControl = true
		cfg.Heartbeat = flowControlHB
	}
	return nil
}

// validName is nats-server's rule for asset names.
func validName(n string) bool {
	return !strings.ContainsAny(n, ".*> \t\r\n\\/") && n != ""
}

// Check validates a config (defaults applied) against its stream.
func Check(cfg *api.ConsumerConfig, st *api.StreamConfig, accMaxAckPending int) *api.ApiError {
	if cfg.Name != "" && !validName(cfg.Name) {
		return api.JSStreamInvalidConfigF.With("err", `consumer name can not contain '.', '*', '>', '\', '/'`)
	}
	if cfg.Durable != "" && !validName(cfg.Durable) {
		return api.JSStreamInvalidConfigF.With("err", `consumer durable name can not contain '.', '*', '>', '\', '/'`)
	}
	replicas := max(st.Replicas, 1)
	if cfg.Replicas > 0 && cfg.Replicas > replicas {
		return api.JSConsumerReplicasExceedsStream
	}
	if cfg.Replicas < 0 {
		return api.JSReplicasCountCannotBeNegative
	}
	if st.Retention != api.LimitsPolicy && cfg.Replicas != 0 && cfg.Replicas != replicas {
		return api.JSConsumerReplicasShouldMatchStream
	}
	for _, b := range cfg.BackOff {
		if b < 0 {
			return api.JSConsumerBackOffNegativeErr
		}
	}
	if cfg.AckWait < 0 {
		return api.JSConsumerAckWaitNegativeErr
	}
	if cfg.AckPolicy == api.AckFlowControl {
		switch {
		case cfg.DeliverSubject == "":
			return api.JSConsumerAckFCRequiresPushErr
		case !cfg.FlowControl:
			return api.JSConsumerAckFCRequiresFCErr
		case cfg.Heartbeat != flowControlHB:
			return api.JSStreamInvalidConfigF.With("err", "flow control ack policy heartbeat needs to be 1s")
		case cfg.MaxAckPending <= 0:
			return api.JSConsumerAckFCRequiresMaxAckPendingErr
		case cfg.AckWait != 0 || len(cfg.BackOff) > 0:
			return api.JSConsumerAckFCRequiresNoAckWaitErr
		case cfg.MaxDeliver > 0:
			return api.JSConsumerAckFCRequiresNoMaxDeliverErr
		}
	}
	if n := len(cfg.BackOff); n > 0 && cfg.MaxDeliver != -1 && n > cfg.MaxDeliver {
		return api.JSConsumerMaxDeliverBackoffErr
	}
	if len(cfg.Description) > maxDescription {
		return api.JSConsumerDescriptionTooLongErrF.With("max", maxDescription)
	}
	if ds := cfg.DeliverSubject; ds != "" {
		if !subject.IsLiteral(ds) {
			return api.JSConsumerDeliverToWildcardsErr
		}
		if !subject.ValidSubject(ds) {
			return api.JSConsumerInvalidDeliverSubject
		}
		for _, s := range st.Subjects {
			if subject.Matches(ds, s) {
				return api.JSConsumerDeliverCycleErr
			}
		}
		if cfg.MaxWaiting != 0 {
			return api.JSConsumerPushMaxWaitingErr
		}
		if cfg.MaxAckPending > 0 && cfg.AckPolicy == api.AckNone {
			return api.JSConsumerMaxPendingAckPolicyRequiredErr
		}
		if cfg.Heartbeat > 0 && cfg.Heartbeat < 100*time.Millisecond {
			return api.JSConsumerSmallHeartbeatErr
		}
	} else {
		if cfg.AckPolicy == api.AckNone && st.Retention == api.WorkQueuePolicy {
			return api.JSConsumerPullRequiresAckErr
		}
		if cfg.RateLimit > 0 {
			return api.JSConsumerPullWithRateLimitErr
		}
		if cfg.MaxWaiting < 0 {
			return api.JSConsumerMaxWaitingNegativeErr
		}
		if cfg.Heartbeat > 0 {
			return api.JSConsumerHBRequiresPushErr
		}
		if cfg.FlowControl {
			return api.JSConsumerFCRequiresPushErr
		}
		if cfg.MaxRequestBatch < 0 {
			return api.JSConsumerMaxRequestBatchNegativeErr
		}
		if cfg.MaxRequestExpires != 0 && cfg.MaxRequestExpires < time.Millisecond {
			return api.JSConsumerMaxRequestExpiresTooSmall
		}
	}
	if accMaxAckPending > 0 && cfg.MaxAckPending > accMaxAckPending {
		return api.JSConsumerMaxPendingAckExcessErrF.With("limit", accMaxAckPending)
	}
	if l := st.ConsumerLimits.MaxAckPending; l > 0 && cfg.MaxAckPending > l {
		return api.JSConsumerMaxPendingAckExcessErrF.With("limit", l)
	}
	if l := st.ConsumerLimits.InactiveThreshold; l > 0 && cfg.InactiveThreshold > l {
		return api.JSConsumerInactiveThresholdExcess.With("limit", l)
	}
	if cfg.Direct {
		if cfg.DeliverSubject == "" {
			return api.JSConsumerDirectRequiresPushErr
		}
		if Durable(cfg) {
			return api.JSConsumerDirectRequiresEphemeralErr
		}
	}
	if cfg.FilterSubject != "" && len(cfg.FilterSubjects) > 0 {
		return api.JSConsumerDuplicateFilterSubjects
	}
	if cfg.FilterSubject != "" && !subject.ValidSubject(cfg.FilterSubject) {
		return api.JSStreamInvalidConfigF.With("err", "invalid subject")
	}
	for i, f := range cfg.FilterSubjects {
		if f == "" {
			return api.JSConsumerEmptyFilter
		}
		if !subject.ValidSubject(f) {
			return api.JSStreamInvalidConfigF.With("err", "invalid subject")
		}
		for j, g := range cfg.FilterSubjects {
			if i != j && Overlap(f, g) {
				return api.JSConsumerOverlappingSubjectFilters
			}
		}
	}
	if e := checkDeliverPolicy(cfg); e != nil {
		return e
	}
	if sf := cfg.SampleFrequency; sf != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(sf, "%"))
		if err != nil {
			return api.JSConsumerInvalidSamplingErrF.With("err", err)
		}
		if n < 0 {
			return api.JSConsumerInvalidSamplingErrF.With("err", "<nil>")
		}
	}
	if cfg.FlowControl && cfg.Heartbeat == 0 {
		return api.JSConsumerWithFlowControlNeedsHeartbeats
	}
	if cfg.Durable != "" && cfg.Name != "" && cfg.Name != cfg.Durable {
		return api.JSConsumerCreateDurableAndNameMismatch
	}
	n := 0
	for k, v := range cfg.Metadata {
		n += len(k) + len(v)
	}
	if n > maxMetadata {
		return api.JSConsumerMetadataLengthErrF.With("limit", fmt.Sprintf("%dKB", maxMetadata/1024))
	}
	if cfg.PriorityPolicy != api.PriorityNone {
		if cfg.DeliverSubject != "" {
			return api.JSConsumerPushWithPriorityGroupErr
		}
		if len(cfg.PriorityGroups) == 0 {
			return api.JSConsumerPriorityPolicyWithoutGroup
		}
		for _, g := range cfg.PriorityGroups {
			if g == "" {
				return api.JSConsumerEmptyGroupName
			}
			if !groupName.MatchString(g) {
				return api.JSConsumerInvalidGroupNameErr
			}
		}
	} else {
		if len(cfg.PriorityGroups) > 0 {
			return api.JSConsumerPriorityGroupWithPolicyNone
		}
		if cfg.PinnedTTL > 0 {
			return api.JSConsumerPinnedTTLWithoutPriorityPolicyNone
		}
	}
	return nil
}

func checkDeliverPolicy(cfg *api.ConsumerConfig) *api.ApiError {
	also := func(p, what string) *api.ApiError {
		return api.JSConsumerInvalidPolicyErrF.With("err", fmt.Sprintf("consumer delivery policy is deliver %s, but optional start %s is also set", p, what))
	}
	unset := func(p, what string) *api.ApiError {
		return api.JSConsumerInvalidPolicyErrF.With("err", fmt.Sprintf("consumer delivery policy is deliver %s, but optional %s is not set", p, what))
	}
	seq, tm := cfg.OptStartSeq > 0, cfg.OptStartTime != nil
	name := map[api.DeliverPolicy]string{api.DeliverAll: "all", api.DeliverLast: "last", api.DeliverLastPerSubject: "last per subject", api.DeliverNew: "new"}
	switch cfg.DeliverPolicy {
	case api.DeliverAll, api.DeliverLast, api.DeliverLastPerSubject, api.DeliverNew:
		p := name[cfg.DeliverPolicy]
		if seq {
			return also(p, "sequence")
		}
		if tm {
			return also(p, "time")
		}
		if cfg.DeliverPolicy == api.DeliverLastPerSubject && cfg.FilterSubject == "" && len(cfg.FilterSubjects) == 0 {
			return unset(p, "filter subject")
		}
	case api.DeliverByStartSequence:
		if !seq {
			return unset("by start sequence", "start sequence")
		}
		if tm {
			return also("by start sequence", "time")
		}
	case api.DeliverByStartTime:
		if !tm {
			return unset("by start time", "start time")
		}
		if seq {
			return also("by start time", "start sequence")
		}
	}
	return nil
}

// CheckUpdate says whether a consumer with config old may take new.
func CheckUpdate(old, new *api.ConsumerConfig) error {
	if reflect.DeepEqual(old, new) {
		return nil
	}
	switch {
	case old.DeliverPolicy != new.DeliverPolicy:
		return errors.New("deliver policy can not be updated")
	case old.MemoryStorage != new.MemoryStorage:
		return errors.New("storage type can not be updated")
	case old.Direct != new.Direct:
		return errors.New("direct can not be updated")
	case old.OptStartSeq != new.OptStartSeq:
		return errors.New("start sequence can not be updated")
	case (old.OptStartTime == nil) != (new.OptStartTime == nil) ||
		(old.OptStartTime != nil && !old.OptStartTime.Equal(*new.OptStartTime)):
		return errors.New("start time can not be updated")
	case old.AckPolicy != new.AckPolicy:
		return errors.New("ack policy can not be updated")
	case old.ReplayPolicy != new.ReplayPolicy:
		return errors.New("replay policy can not be updated")
	case old.Heartbeat != new.Heartbeat:
		return errors.New("heart beats can not be updated")
	case old.FlowControl != new.FlowControl:
		return errors.New("flow control can not be updated")
	case old.DeliverSubject != new.DeliverSubject && old.DeliverSubject == "":
		return errors.New("can not update pull consumer to push based")
	case old.DeliverSubject != new.DeliverSubject && new.DeliverSubject == "":
		return errors.New("can not update push consumer to pull based")
	case old.MaxWaiting != new.MaxWaiting:
		return errors.New("max waiting can not be updated")
	}
	return nil
}

// Overlap reports whether two filters can match the same subject.
func Overlap(a, b string) bool {
	if a == "" || b == "" || a == ">" || b == ">" {
		return true
	}
	at, bt := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; ; i++ {
		if i == len(at) || i == len(bt) {
			return len(at) == len(bt)
		}
		x, y := at[i], bt[i]
		if x == ">" || y == ">" {
			return true
		}
		if x != y && x != "*" && y != "*" {
			return false
		}
	}
}

// ValidGroupName reports whether g is a valid priority group name.
func ValidGroupName(g string) bool { return groupName.MatchString(g) }
