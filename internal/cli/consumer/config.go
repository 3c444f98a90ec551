package consumercmd

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/pflag"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
	"github.com/sluicehq/sluice/internal/cli/msgutil"
)

// configFlags are the ConsumerConfig fields as flags, natscli's names.
type configFlags struct {
	fl *pflag.FlagSet

	ack                         string
	bps                         uint64
	backoff                     string
	backoffSteps                uint
	backoffMin, backoffMax      time.Duration
	deliver, deliverGroup       string
	description                 string
	ephemeral                   bool
	filter                      []string
	flowControl                 bool
	heartbeat                   string
	headersOnly                 bool
	maxDeliver, maxPending      int
	maxWaiting                  int
	maxPullBatch, maxPullBytes  int
	maxPullExpire               time.Duration
	pull, push                  bool
	replay                      string
	sample                      int
	target                      string
	wait                        time.Duration
	inactive                    time.Duration
	memory                      bool
	replicas                    int
	metadata                    map[string]string
	pause                       string
	pinned, overflow, prioritiz []string
	pinnedTTL                   time.Duration
}

func (c *configFlags) register(fl *pflag.FlagSet, edit bool) {
	c.fl = fl
	if !edit {
		fl.StringVar(&c.ack, "ack", "", "acknowledgment policy: none, all or explicit")
		fl.Uint64Var(&c.bps, "bps", 0, "limit push delivery to this many bits per second")
		fl.StringVar(&c.deliver, "deliver", "", "start policy: all, new, last, subject, a sequence, or a duration like 1h")
		fl.StringVar(&c.deliverGroup, "deliver-group", "", "push: deliver only to subscriptions in this queue `GROUP`")
		fl.BoolVar(&c.ephemeral, "ephemeral", false, "create an ephemeral consumer")
		fl.BoolVar(&c.flowControl, "flow-control", false, "push: enable flow control")
		fl.StringVar(&c.heartbeat, "heartbeat", "", "push: idle heartbeat interval (-1 disables)")
		fl.IntVar(&c.maxWaiting, "max-waiting", 0, "pull: maximum outstanding pull requests")
		fl.BoolVar(&c.pull, "pull", false, "create a pull consumer")
		fl.BoolVar(&c.push, "push", false, "create a push consumer (with --target)")
		fl.StringVar(&c.replay, "replay", "", "replay policy: instant or original")
		fl.BoolVar(&c.memory, "memory", false, "keep the consumer state in memory")
		fl.StringVar(&c.pause, "pause", "", "pause the consumer for a duration, or until a time (2006-01-02 15:04:05)")
		fl.StringSliceVar(&c.pinned, "pinned-groups", nil, "create a pinned-client consumer with these priority `GROUPS`")
		fl.DurationVar(&c.pinnedTTL, "pinned-ttl", 0, "how long a pinned client may be idle before it loses the pin")
		fl.StringSliceVar(&c.overflow, "overflow-groups", nil, "create an overflow consumer with these priority `GROUPS`")
		fl.StringSliceVar(&c.prioritiz, "prioritized-groups", nil, "create a prioritized consumer with these priority `GROUPS`")
	}
	fl.StringVar(&c.backoff, "backoff", "", "redelivery backoff: linear or none")
	fl.UintVar(&c.backoffSteps, "backoff-steps", 10, "number of backoff steps")
	fl.DurationVar(&c.backoffMin, "backoff-min", time.Minute, "shortest backoff period")
	fl.DurationVar(&c.backoffMax, "backoff-max", 20*time.Minute, "longest backoff period")
	fl.StringVar(&c.description, "description", "", "a description of the consumer")
	fl.StringSliceVar(&c.filter, "filter", nil, "consume only these `SUBJECTS` of the stream")
	fl.BoolVar(&c.headersOnly, "headers-only", false, "deliver headers only, no bodies")
	fl.IntVar(&c.maxDeliver, "max-deliver", 0, "maximum deliveries of a message (-1 unlimited)")
	fl.IntVar(&c.maxPending, "max-pending", 0, "maximum messages awaiting acknowledgment")
	fl.IntVar(&c.maxPullBatch, "max-pull-batch", 0, "pull: largest batch a request may ask for")
	fl.DurationVar(&c.maxPullExpire, "max-pull-expire", 0, "pull: longest expiry a request may ask for")
	fl.IntVar(&c.maxPullBytes, "max-pull-bytes", 0, "pull: largest max bytes a request may ask for")
	fl.IntVar(&c.sample, "sample", -1, "percentage of acknowledgments to sample for monitoring")
	fl.StringVar(&c.target, "target", "", "push: the delivery `SUBJECT`")
	fl.DurationVar(&c.wait, "wait", 0, "acknowledgment wait time")
	fl.DurationVar(&c.inactive, "inactive-threshold", 0, "remove the consumer after this long without activity")
	fl.IntVar(&c.replicas, "replicas", 0, "replicas, instead of the stream's")
	fl.StringToStringVar(&c.metadata, "metadata", nil, "metadata as `KEY=VALUE` (repeatable)")
}

func (c *configFlags) set(name string) bool {
	f := c.fl.Lookup(name)
	return f != nil && f.Changed
}

func (c *configFlags) anySet() bool {
	found := false
	c.fl.Visit(func(f *pflag.Flag) {
		switch f.Name {
		case "config", "force", "json", "dry-run", "defaults", "output":
		default:
			found = true
		}
	})
	return found
}

func loadConfig(path string, cfg *jetstream.ConsumerConfig) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return cmdutil.FlagErrorf("--config: %v", err)
	}
	var probe struct {
		Config *json.RawMessage `json:"config"`
	}
	if json.Unmarshal(b, &probe) == nil && probe.Config != nil {
		b = *probe.Config
	}
	if err := json.Unmarshal(b, cfg); err != nil {
		return cmdutil.FlagErrorf("--config %s is not a consumer configuration: %v", path, err)
	}
	return nil
}

var digits = regexp.MustCompile(`^\d+$`)

// setDeliver applies a start policy as natscli's --deliver reads it.
func setDeliver(cfg *jetstream.ConsumerConfig, v string) error {
	cfg.OptStartSeq, cfg.OptStartTime = 0, nil
	switch strings.ToLower(v) {
	case "all", "":
		cfg.DeliverPolicy = jetstream.DeliverAllPolicy
	case "last":
		cfg.DeliverPolicy = jetstream.DeliverLastPolicy
	case "new", "next":
		cfg.DeliverPolicy = jetstream.DeliverNewPolicy
	case "subject", "last_per_subject":
		cfg.DeliverPolicy = jetstream.DeliverLastPerSubjectPolicy
	default:
		if digits.MatchString(v) {
			seq, _ := strconv.ParseUint(v, 10, 64)
			if seq == 0 {
				return cmdutil.FlagErrorf("--deliver: sequences start at 1")
			}
			cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, seq
			return nil
		}
		d, err := jsutil.ParseDuration(v)
		if err != nil || d == 0 {
			return cmdutil.FlagErrorf("--deliver must be all, new, last, subject, a sequence or a duration, not %q", v)
		}
		t := time.Now().UTC().Add(-d)
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	}
	return nil
}

func parseAck(v string) (jetstream.AckPolicy, error) {
	switch strings.ToLower(v) {
	case "none":
		return jetstream.AckNonePolicy, nil
	case "all":
		return jetstream.AckAllPolicy, nil
	case "explicit":
		return jetstream.AckExplicitPolicy, nil
	}
	return 0, cmdutil.FlagErrorf("--ack must be none, all or explicit, not %q", v)
}

// ParsePauseUntil reads a pause end: a duration from now or a time.
func ParsePauseUntil(flag, v string) (time.Time, error) {
	if d, err := jsutil.ParseDuration(v); err == nil && d > 0 {
		return time.Now().Add(d), nil
	}
	for _, layout := range []string{time.DateTime, time.RFC3339, time.DateOnly} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, cmdutil.FlagErrorf("%s must be a duration like 1h or a time like %q, not %q", flag, time.Now().Format(time.DateTime), v)
}

// linearBackoff spreads steps evenly from min to max.
func linearBackoff(steps uint, lo, hi time.Duration) []time.Duration {
	out := make([]time.Duration, steps)
	for i := range out {
		if steps == 1 {
			out[i] = lo
			continue
		}
		out[i] = lo + time.Duration(int64(hi-lo)*int64(i)/int64(steps-1))
		out[i] = out[i].Round(time.Second)
	}
	return out
}

// apply sets on cfg every field whose flag was given, checking values.
func (c *configFlags) apply(cfg *jetstream.ConsumerConfig) error {
	if c.set("ack") {
		p, err := parseAck(c.ack)
		if err != nil {
			return err
		}
		cfg.AckPolicy = p
	}
	if c.set("bps") {
		cfg.RateLimit = c.bps
	}
	if c.set("backoff") {
		switch c.backoff {
		case "none":
			cfg.BackOff = nil
		case "linear":
			if c.backoffSteps < 1 || c.backoffMin <= 0 || c.backoffMax < c.backoffMin {
				return cmdutil.FlagErrorf("--backoff linear needs --backoff-steps >= 1 and 0 < --backoff-min <= --backoff-max")
			}
			cfg.BackOff = linearBackoff(c.backoffSteps, c.backoffMin, c.backoffMax)
			if cfg.MaxDeliver <= len(cfg.BackOff) && !c.set("max-deliver") {
				cfg.MaxDeliver = len(cfg.BackOff) + 1
			}
		default:
			return cmdutil.FlagErrorf("--backoff must be linear or none, not %q", c.backoff)
		}
	}
	if c.set("deliver") {
		if err := setDeliver(cfg, c.deliver); err != nil {
			return err
		}
	}
	if c.set("deliver-group") {
		cfg.DeliverGroup = c.deliverGroup
	}
	if c.set("description") {
		cfg.Description = c.description
	}
	if c.set("filter") {
		subs := c.filter
		for _, s := range subs {
			if err := msgutil.ValidateSubject(s, true); err != nil {
				return cmdutil.FlagErrorf("--filter: %v", err)
			}
		}
		cfg.FilterSubject, cfg.FilterSubjects = "", nil
		if len(subs) == 1 {
			cfg.FilterSubject = subs[0]
		} else if len(subs) > 1 {
			cfg.FilterSubjects = subs
		}
	}
	if c.set("flow-control") {
		cfg.FlowControl = c.flowControl
	}
	if c.set("heartbeat") {
		if c.heartbeat == "-1" {
			cfg.IdleHeartbeat = 0
		} else {
			d, err := jsutil.ParseDuration(c.heartbeat)
			if err != nil {
				return cmdutil.FlagErrorf("--heartbeat: %v", err)
			}
			cfg.IdleHeartbeat = d
		}
	}
	if c.set("headers-only") {
		cfg.HeadersOnly = c.headersOnly
	}
	if c.set("max-deliver") {
		if c.maxDeliver < -1 || c.maxDeliver == 0 {
			return cmdutil.FlagErrorf("--max-deliver must be -1 (unlimited) or at least 1, not %d", c.maxDeliver)
		}
		cfg.MaxDeliver = c.maxDeliver
	}
	if c.set("max-pending") {
		if c.maxPending < -1 {
			return cmdutil.FlagErrorf("--max-pending must not be negative, not %d", c.maxPending)
		}
		cfg.MaxAckPending = c.maxPending
	}
	ints := []struct {
		flag string
		v    int
		dst  *int
	}{{"max-waiting", c.maxWaiting, &cfg.MaxWaiting}, {"max-pull-batch", c.maxPullBatch, &cfg.MaxRequestBatch}, {"max-pull-bytes", c.maxPullBytes, &cfg.MaxRequestMaxBytes}}
	for _, i := range ints {
		if c.set(i.flag) {
			if i.v < 0 {
				return cmdutil.FlagErrorf("--%s must not be negative, not %d", i.flag, i.v)
			}
			*i.dst = i.v
		}
	}
	if c.set("max-pull-expire") {
		if c.maxPullExpire < 0 {
			return cmdutil.FlagErrorf("--max-pull-expire must not be negative")
		}
		cfg.MaxRequestExpires = c.maxPullExpire
	}
	if c.set("replay") {
		switch c.replay {
		case "instant":
			cfg.ReplayPolicy = jetstream.ReplayInstantPolicy
		case "original":
			cfg.ReplayPolicy = jetstream.ReplayOriginalPolicy
		default:
			return cmdutil.FlagErrorf("--replay must be instant or original, not %q", c.replay)
		}
	}
	if c.set("sample") {
		if c.sample < 0 || c.sample > 100 {
			return cmdutil.FlagErrorf("--sample must be a percentage from 0 to 100, not %d", c.sample)
		}
		cfg.SampleFrequency = ""
		if c.sample > 0 {
			cfg.SampleFrequency = strconv.Itoa(c.sample) + "%"
		}
	}
	if c.set("target") {
		if err := msgutil.ValidateSubject(c.target, false); err != nil {
			return cmdutil.FlagErrorf("--target: %v", err)
		}
		cfg.DeliverSubject = c.target
	}
	if c.set("wait") {
		if c.wait < 0 {
			return cmdutil.FlagErrorf("--wait must not be negative")
		}
		cfg.AckWait = c.wait
	}
	if c.set("inactive-threshold") {
		if c.inactive < 0 {
			return cmdutil.FlagErrorf("--inactive-threshold must not be negative")
		}
		cfg.InactiveThreshold = c.inactive
	}
	if c.set("memory") {
		cfg.MemoryStorage = c.memory
	}
	if c.set("replicas") {
		if c.replicas < 0 || c.replicas > 5 {
			return cmdutil.FlagErrorf("--replicas must be from 0 (the stream's) to 5, not %d", c.replicas)
		}
		cfg.Replicas = c.replicas
	}
	if c.set("metadata") {
		cfg.Metadata = c.metadata
	}
	if c.set("pause") {
		t, err := ParsePauseUntil("--pause", c.pause)
		if err != nil {
			return err
		}
		cfg.PauseUntil = &t
	}
	groups := 0
	for _, g := range []struct {
		flag string
		list []string
		p    jetstream.PriorityPolicy
	}{{"pinned-groups", c.pinned, jetstream.PriorityPolicyPinned}, {"overflow-groups", c.overflow, jetstream.PriorityPolicyOverflow}, {"prioritized-groups", c.prioritiz, jetstream.PriorityPolicyPrioritized}} {
		if c.set(g.flag) {
			groups++
			cfg.PriorityPolicy, cfg.PriorityGroups = g.p, g.list
		}
	}
	if groups > 1 {
		return cmdutil.FlagErrorf("give only one of --pinned-groups, --overflow-groups and --prioritized-groups")
	}
	if c.set("pinned-ttl") {
		if cfg.PriorityPolicy != jetstream.PriorityPolicyPinned {
			return cmdutil.FlagErrorf("--pinned-ttl needs --pinned-groups")
		}
		cfg.PinnedTTL = c.pinnedTTL
	}
	return nil
}

// ask prompts for the fields no flag set, as natscli does on a terminal.
func (c *configFlags) ask(p cmdutil.Prompter, w io.Writer, cfg *jetstream.ConsumerConfig) error {
	input := func(flag, q, def string, parse func(string) error) error {
		if c.set(flag) {
			return nil
		}
		return jsutil.AskUntilValid(p, w, q, def, parse)
	}
	push := cfg.DeliverSubject != ""
	if !c.set("deliver-group") && push {
		if err := input("deliver-group", "Delivery Queue Group", "", func(v string) error { cfg.DeliverGroup = v; return nil }); err != nil {
			return err
		}
	}
	if err := input("deliver", "Start policy (all, new, last, subject, 1h, msg sequence)", "all", func(v string) error {
		return setDeliver(cfg, v)
	}); err != nil {
		return err
	}
	if !c.set("ack") {
		def := "explicit"
		if push {
			def = "none"
		}
		opts := []string{"explicit", "all", "none"}
		i, err := p.Select("Acknowledgment policy", opts, def)
		if err != nil {
			return err
		}
		cfg.AckPolicy, _ = parseAck(opts[i])
	}
	if !c.set("replay") {
		i, err := p.Select("Replay policy", []string{"instant", "original"}, "instant")
		if err != nil {
			return err
		}
		cfg.ReplayPolicy = jetstream.ReplayPolicy(i)
	}
	if err := input("filter", "Filter Stream by subjects (blank for all)", "", func(v string) error {
		subs := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
		for _, s := range subs {
			if err := msgutil.ValidateSubject(s, true); err != nil {
				return err
			}
		}
		cfg.FilterSubject, cfg.FilterSubjects = "", nil
		if len(subs) == 1 {
			cfg.FilterSubject = subs[0]
		} else if len(subs) > 1 {
			cfg.FilterSubjects = subs
		}
		return nil
	}); err != nil {
		return err
	}
	if cfg.AckPolicy != jetstream.AckNonePolicy {
		if err := input("max-deliver", "Maximum Allowed Deliveries", "-1", func(v string) error {
			_, err := fmt.Sscan(v, &cfg.MaxDeliver)
			return err
		}); err != nil {
			return err
		}
		if err := input("max-pending", "Maximum Acknowledgments Pending", "0", func(v string) error {
			_, err := fmt.Sscan(v, &cfg.MaxAckPending)
			return err
		}); err != nil {
			return err
		}
	}
	if push {
		if err := input("heartbeat", "Idle Heartbeat", "0s", func(v string) (err error) {
			cfg.IdleHeartbeat, err = jsutil.ParseDuration(v)
			return
		}); err != nil {
			return err
		}
		if !c.set("flow-control") {
			b, err := p.Confirm("Enable Flow Control, ie --flow-control", false)
			if err != nil {
				return err
			}
			cfg.FlowControl = b
		}
	}
	if !c.set("headers-only") {
		b, err := p.Confirm("Deliver headers only without bodies", false)
		if err != nil {
			return err
		}
		cfg.HeadersOnly = b
	}
	return nil
}
