package consumercmd

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
)

func newInfo(f *cmdutil.Factory) *cobra.Command {
	var asJSON, stateOnly bool
	cmd := &cobra.Command{
		Use:     "info [STREAM] [CONSUMER]",
		Aliases: []string{"nfo", "i"},
		Short:   "Show a consumer's configuration and state",
		Long: `Show a consumer's configuration and state: delivered and acknowledged
sequences, outstanding acks, redeliveries, unprocessed messages, waiting
pulls, priority groups. --json prints the server's consumer info as is.`,
		Args: cmdutil.RangeArgs(0, 2, "STREAM", "CONSUMER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			stream, name := argOr(args, 0), argOr(args, 1)
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			_, info, err := s.consumer(&stream, &name)
			if err != nil {
				return err
			}
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, info)
			}
			showInfo(f, info, stateOnly)
			return nil
		},
	}
	cmd.Flags().BoolVar(&stateOnly, "state", false, "show only the state")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func newState(f *cmdutil.Factory) *cobra.Command {
	cmd := newInfo(f)
	cmd.Use = "state [STREAM] [CONSUMER]"
	cmd.Aliases = nil
	cmd.Short = "Show a consumer's state"
	cmd.Long = "Show a consumer's state: 'consumer info --state'."
	cmd.Flags().Set("state", "true")
	cmd.Flags().MarkHidden("state")
	return cmd
}

func deliverName(c jetstream.ConsumerConfig) string {
	switch c.DeliverPolicy {
	case jetstream.DeliverLastPolicy:
		return "Last"
	case jetstream.DeliverNewPolicy:
		return "New"
	case jetstream.DeliverLastPerSubjectPolicy:
		return "Last Per Subject"
	case jetstream.DeliverByStartSequencePolicy:
		return fmt.Sprintf("From Sequence %d", c.OptStartSeq)
	case jetstream.DeliverByStartTimePolicy:
		if c.OptStartTime != nil {
			return "Since " + c.OptStartTime.Local().Format(time.DateTime)
		}
	}
	return "All"
}

func ackName(p jetstream.AckPolicy) string {
	switch p {
	case jetstream.AckNonePolicy:
		return "None"
	case jetstream.AckAllPolicy:
		return "All"
	}
	return "Explicit"
}

func seqs(s jetstream.SequenceInfo, last bool) string {
	out := fmt.Sprintf("Consumer sequence: %s Stream sequence: %s", cmdutil.Comma(int64(s.Consumer)), cmdutil.Comma(int64(s.Stream)))
	if last && s.Last != nil {
		out += " Last delivery: " + jsutil.Since(*s.Last)
	}
	return out
}

// showInfo prints a consumer's info in natscli's layout.
func showInfo(f *cmdutil.Factory, info *jetstream.ConsumerInfo, stateOnly bool) {
	w := f.IO.Out
	c := info.Config
	if !stateOnly {
		fmt.Fprintf(w, "Information for Consumer %s > %s created %s\n\n", info.Stream, info.Name, info.Created.Local().Format(time.DateTime))
		kv := cmdutil.NewKV("Configuration:")
		kv.Add("Name", info.Name)
		if c.Durable == "" {
			kv.Add("Ephemeral", "true")
		}
		kv.AddIf("Description", c.Description)
		if c.DeliverSubject == "" {
			kv.Add("Pull Mode", "true")
		} else {
			kv.Add("Delivery Subject", c.DeliverSubject)
			kv.AddIf("Deliver Queue Group", c.DeliverGroup)
		}
		if c.FilterSubject != "" {
			kv.Add("Filter Subject", c.FilterSubject)
		}
		if len(c.FilterSubjects) > 0 {
			kv.Add("Filter Subjects", strings.Join(c.FilterSubjects, ", "))
		}
		kv.Add("Deliver Policy", deliverName(c))
		kv.Add("Ack Policy", ackName(c.AckPolicy))
		if c.AckPolicy != jetstream.AckNonePolicy {
			kv.Add("Ack Wait", cmdutil.Duration(c.AckWait))
		}
		replay := "Instant"
		if c.ReplayPolicy == jetstream.ReplayOriginalPolicy {
			replay = "Original"
		}
		kv.Add("Replay Policy", replay)
		if c.MaxDeliver > 0 {
			kv.Add("Maximum Deliveries", cmdutil.Comma(int64(c.MaxDeliver)))
		}
		if len(c.BackOff) > 0 {
			parts := make([]string, len(c.BackOff))
			for i, d := range c.BackOff {
				parts[i] = jsutil.HumanDuration(d)
			}
			kv.Add("Backoff", strings.Join(parts, ", "))
		}
		kv.AddIf("Sampling Rate", c.SampleFrequency)
		if c.RateLimit > 0 {
			kv.Add("Rate Limit", fmt.Sprintf("%s / second", cmdutil.IBytes(c.RateLimit/8)))
		}
		if c.MaxAckPending > 0 {
			kv.Add("Max Ack Pending", cmdutil.Comma(int64(c.MaxAckPending)))
		}
		if c.MaxWaiting > 0 {
			kv.Add("Max Waiting Pulls", cmdutil.Comma(int64(c.MaxWaiting)))
		}
		if c.MaxRequestBatch > 0 {
			kv.Add("Max Pull Batch", cmdutil.Comma(int64(c.MaxRequestBatch)))
		}
		if c.MaxRequestExpires > 0 {
			kv.Add("Max Pull Expire", cmdutil.Duration(c.MaxRequestExpires))
		}
		if c.MaxRequestMaxBytes > 0 {
			kv.Add("Max Pull Bytes", cmdutil.IBytes(uint64(c.MaxRequestMaxBytes)))
		}
		if c.IdleHeartbeat > 0 {
			kv.Add("Idle Heartbeat", cmdutil.Duration(c.IdleHeartbeat))
		}
		if c.FlowControl {
			kv.Add("Flow Control", "true")
		}
		if c.HeadersOnly {
			kv.Add("Headers Only", "true")
		}
		if c.InactiveThreshold > 0 {
			kv.Add("Inactive Threshold", cmdutil.Duration(c.InactiveThreshold))
		}
		if c.Replicas > 0 {
			kv.Add("Replicas", c.Replicas)
		}
		if c.MemoryStorage {
			kv.Add("Memory Storage", "true")
		}
		if c.PauseUntil != nil && !c.PauseUntil.IsZero() {
			kv.Add("Paused Until", c.PauseUntil.Local().Format(time.DateTime))
		}
		if c.PriorityPolicy != jetstream.PriorityPolicyNone {
			kv.Add("Priority Policy", strings.Trim(mustJSON(c.PriorityPolicy), `"`))
			kv.Add("Priority Groups", strings.Join(c.PriorityGroups, ", "))
			if c.PinnedTTL > 0 {
				kv.Add("Pinned TTL", cmdutil.Duration(c.PinnedTTL))
			}
		}
		keys := make([]string, 0, len(c.Metadata))
		for k := range c.Metadata {
			if !strings.HasPrefix(k, "_nats.") {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			kv.Add("Metadata "+k, c.Metadata[k])
		}
		kv.Write(w)
		fmt.Fprintln(w)
		if info.Cluster != nil && info.Cluster.Leader != "" {
			cl := cmdutil.NewKV("Cluster Information:")
			cl.AddIf("Name", info.Cluster.Name)
			cl.Add("Leader", info.Cluster.Leader)
			for _, r := range info.Cluster.Replicas {
				state := "current"
				if !r.Current {
					state = "outdated"
				}
				if r.Offline {
					state = "OFFLINE"
				}
				cl.Add("Replica", fmt.Sprintf("%s, %s, seen %s ago", r.Name, state, jsutil.HumanDuration(r.Active)))
			}
			cl.Write(w)
			fmt.Fprintln(w)
		}
	}
	kv := cmdutil.NewKV("State:")
	kv.Add("Last Delivered Message", seqs(info.Delivered, true))
	kv.Add("Acknowledgment Floor", seqs(info.AckFloor, true))
	out := cmdutil.Comma(int64(info.NumAckPending))
	if c.MaxAckPending > 0 {
		out += " out of maximum " + cmdutil.Comma(int64(c.MaxAckPending))
	}
	kv.Add("Outstanding Acks", out)
	kv.Add("Redelivered Messages", cmdutil.Comma(int64(info.NumRedelivered)))
	kv.Add("Unprocessed Messages", cmdutil.Comma(int64(info.NumPending)))
	if c.DeliverSubject == "" {
		waiting := cmdutil.Comma(int64(info.NumWaiting))
		if c.MaxWaiting > 0 {
			waiting += " of maximum " + cmdutil.Comma(int64(c.MaxWaiting))
		}
		kv.Add("Waiting Pulls", waiting)
	} else {
		kv.Add("Active Interest", yesNo(info.PushBound, "Active", "No interest"))
	}
	if info.Paused {
		kv.Add("Paused", fmt.Sprintf("true, %s remaining", jsutil.HumanDuration(info.PauseRemaining)))
	}
	for _, g := range info.PriorityGroups {
		pin := "none"
		if g.PinnedClientID != "" {
			pin = g.PinnedClientID + " since " + g.PinnedTS.Local().Format(time.DateTime)
		}
		kv.Add("Priority Group "+g.Group, "pinned: "+pin)
	}
	kv.Write(w)
}

func yesNo(b bool, y, n string) string {
	if b {
		return y
	}
	return n
}

func mustJSON(v interface{ MarshalJSON() ([]byte, error) }) string {
	b, err := v.MarshalJSON()
	if err != nil {
		return ""
	}
	return string(b)
}

// infos lists the consumers of st, sorted by name.
func (s *session) infos(st jetstream.Stream) ([]*jetstream.ConsumerInfo, error) {
	l := st.ListConsumers(s.ctx)
	var out []*jetstream.ConsumerInfo
	for i := range l.Info() {
		out = append(out, i)
	}
	if err := l.Err(); err != nil {
		return nil, jsutil.Err(err, "", "")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func newLs(f *cmdutil.Factory) *cobra.Command {
	var names, asJSON bool
	cmd := &cobra.Command{
		Use:     "ls [STREAM]",
		Aliases: []string{"list"},
		Short:   "List the consumers of a stream",
		Args:    cmdutil.RangeArgs(0, 1, "STREAM"),
		RunE: func(cmd *cobra.Command, args []string) error {
			stream := argOr(args, 0)
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			st, err := s.stream(&stream)
			if err != nil {
				return err
			}
			infos, err := s.infos(st)
			if err != nil {
				return err
			}
			if names {
				list := []string{}
				for _, i := range infos {
					list = append(list, i.Name)
				}
				if asJSON {
					return cmdutil.WriteJSON(f.IO.Out, list)
				}
				for _, n := range list {
					fmt.Fprintln(f.IO.Out, n)
				}
				return nil
			}
			if asJSON {
				if infos == nil {
					infos = []*jetstream.ConsumerInfo{}
				}
				return cmdutil.WriteJSON(f.IO.Out, infos)
			}
			if len(infos) == 0 {
				fmt.Fprintf(f.IO.ErrOut, "No consumers defined on stream %s\n", stream)
				return nil
			}
			t := cmdutil.NewTable(f.IO, "Consumers for Stream "+stream)
			t.AddHeader("Name", "Description", "Created", "Ack Pending", "Unprocessed", "Last Delivery")
			for _, i := range infos {
				last := "never"
				if i.Delivered.Last != nil {
					last = jsutil.HumanDuration(time.Since(*i.Delivered.Last))
				}
				t.AddRow(i.Name, i.Config.Description, i.Created.Local().Format(time.DateTime),
					cmdutil.Comma(int64(i.NumAckPending)), cmdutil.Comma(int64(i.NumPending)), last)
			}
			t.AlignRight(4, 5)
			t.Render()
			return nil
		},
	}
	cmd.Flags().BoolVarP(&names, "names", "n", false, "print the names only")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func newReport(f *cmdutil.Factory) *cobra.Command {
	var raw, asJSON bool
	cmd := &cobra.Command{
		Use:   "report [STREAM]",
		Short: "Report on the consumers of a stream",
		Long: `One row per consumer of STREAM: its mode, ack policy, unprocessed and
ack-pending messages, redeliveries, waiting pulls and last delivery.`,
		Args: cmdutil.RangeArgs(0, 1, "STREAM"),
		RunE: func(cmd *cobra.Command, args []string) error {
			stream := argOr(args, 0)
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			st, err := s.stream(&stream)
			if err != nil {
				return err
			}
			infos, err := s.infos(st)
			if err != nil {
				return err
			}
			type row struct {
				Name        string     `json:"name"`
				Mode        string     `json:"mode"`
				AckPolicy   string     `json:"ack_policy"`
				AckWait     string     `json:"ack_wait,omitempty"`
				Pending     uint64     `json:"num_pending"`
				AckPending  int        `json:"num_ack_pending"`
				Redelivered int        `json:"num_redelivered"`
				Waiting     int        `json:"num_waiting"`
				Last        *time.Time `json:"last_delivery,omitempty"`
				Leader      string     `json:"leader,omitempty"`
			}
			rows := []row{}
			for _, i := range infos {
				r := row{Name: i.Name, Mode: "Pull", AckPolicy: ackName(i.Config.AckPolicy), Pending: i.NumPending,
					AckPending: i.NumAckPending, Redelivered: i.NumRedelivered, Waiting: i.NumWaiting, Last: i.Delivered.Last}
				if i.Config.DeliverSubject != "" {
					r.Mode = "Push"
				}
				if i.Config.AckPolicy != jetstream.AckNonePolicy {
					r.AckWait = i.Config.AckWait.String()
				}
				if i.Cluster != nil {
					r.Leader = i.Cluster.Leader
				}
				rows = append(rows, r)
			}
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, rows)
			}
			if len(rows) == 0 {
				fmt.Fprintf(f.IO.ErrOut, "No consumers defined on stream %s\n", stream)
				return nil
			}
			num := func(n int64) string {
				if raw {
					return fmt.Sprint(n)
				}
				return cmdutil.Comma(n)
			}
			t := cmdutil.NewTable(f.IO, fmt.Sprintf("Consumer report for %s with %d consumers", stream, len(rows)))
			t.AddHeader("Consumer", "Mode", "Ack Policy", "Ack Wait", "Ack Pending", "Redelivered", "Unprocessed", "Waiting", "Last Delivery", "Leader")
			for _, r := range rows {
				last := "never"
				if r.Last != nil {
					last = jsutil.HumanDuration(time.Since(*r.Last))
				}
				t.AddRow(r.Name, r.Mode, r.AckPolicy, r.AckWait, num(int64(r.AckPending)), num(int64(r.Redelivered)),
					num(int64(r.Pending)), num(int64(r.Waiting)), last, r.Leader)
			}
			t.AlignRight(5, 6, 7, 8)
			t.Render()
			return nil
		},
	}
	cmd.Flags().BoolVarP(&raw, "raw", "r", false, "show exact numbers")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}
