package streamcmd

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
		Use:     "info [STREAM]",
		Aliases: []string{"nfo", "i"},
		Short:   "Show a stream's configuration and state",
		Long: `Show a stream's configuration, its state (messages, bytes, sequences,
consumers), its cluster placement and the lag of its mirror and sources.
--json prints the server's stream info as is.`,
		Args: cmdutil.RangeArgs(0, 1, "STREAM"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := argOr(args, 0)
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			st, err := s.stream(&name)
			if err != nil {
				return err
			}
			info := st.CachedInfo()
			if asJSON {
				if stateOnly {
					return cmdutil.WriteJSON(f.IO.Out, info.State)
				}
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
	cmd.Use = "state [STREAM]"
	cmd.Aliases = nil
	cmd.Short = "Show a stream's state"
	cmd.Long = "Show a stream's state: 'stream info --state'."
	cmd.Flags().Set("state", "true")
	cmd.Flags().MarkHidden("state")
	return cmd
}

func storageName(s jetstream.StorageType) string {
	if s == jetstream.MemoryStorage {
		return "Memory"
	}
	return "File"
}

func retentionName(r jetstream.RetentionPolicy) string {
	switch r {
	case jetstream.InterestPolicy:
		return "Interest"
	case jetstream.WorkQueuePolicy:
		return "WorkQueue"
	}
	return "Limits"
}

func yes(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// showInfo prints a stream's info in natscli's layout.
func showInfo(f *cmdutil.Factory, info *jetstream.StreamInfo, stateOnly bool) {
	w := f.IO.Out
	c := info.Config
	if !stateOnly {
		title := fmt.Sprintf("Information for Stream %s created %s", c.Name, info.Created.Local().Format(time.DateTime))
		kv := cmdutil.NewKV(title)
		kv.AddIf("Description", c.Description)
		kv.AddIf("Subjects", strings.Join(c.Subjects, ", "))
		kv.Add("Replicas", c.Replicas)
		kv.Add("Storage", storageName(c.Storage))
		if c.Compression == jetstream.S2Compression {
			kv.Add("Compression", "S2")
		}
		if c.FirstSeq > 0 {
			kv.Add("First Sequence", c.FirstSeq)
		}
		if c.Placement != nil {
			kv.AddIf("Placement Cluster", c.Placement.Cluster)
			kv.AddIf("Placement Tags", strings.Join(c.Placement.Tags, ", "))
		}
		if c.SubjectTransform != nil {
			kv.Add("Subject Transform", c.SubjectTransform.Source+" to "+c.SubjectTransform.Destination)
		}
		if c.RePublish != nil {
			hdr := ""
			if c.RePublish.HeadersOnly {
				hdr = " (headers only)"
			}
			kv.Add("Republishing", c.RePublish.Source+" to "+c.RePublish.Destination+hdr)
		}
		kv.Add("Retention", retentionName(c.Retention))
		kv.Add("Acknowledgments", yes(!c.NoAck))
		discard := "Old"
		if c.Discard == jetstream.DiscardNew {
			discard = "New"
		}
		if c.DiscardNewPerSubject {
			discard += " Per Subject"
		}
		kv.Add("Discard Policy", discard)
		kv.Add("Duplicate Window", jsutil.HumanDuration(c.Duplicates))
		if c.AllowDirect {
			kv.Add("Direct Get", "true")
		}
		if c.MirrorDirect {
			kv.Add("Mirror Direct Get", "true")
		}
		kv.Add("Allows Batch Publish", yes(c.AllowAtomicPublish))
		kv.Add("Allows Counters", yes(c.AllowMsgCounter))
		kv.Add("Allows Msg Delete", yes(!c.DenyDelete))
		kv.Add("Allows Per-Message TTL", yes(c.AllowMsgTTL))
		kv.Add("Allows Purge", yes(!c.DenyPurge))
		kv.Add("Allows Schedules", yes(c.AllowMsgSchedules))
		kv.Add("Allows Rollups", yes(c.AllowRollup))
		if c.SubjectDeleteMarkerTTL > 0 {
			kv.Add("Subject Delete Markers TTL", jsutil.HumanDuration(c.SubjectDeleteMarkerTTL))
		}
		if c.Sealed {
			kv.Add("Sealed", "true")
		}
		kv.Write(w)
		fmt.Fprintln(w)

		lim := cmdutil.NewKV("Limits:")
		lim.Add("Maximum Messages", jsutil.Limit(c.MaxMsgs))
		lim.Add("Maximum Per Subject", jsutil.Limit(c.MaxMsgsPerSubject))
		lim.Add("Maximum Bytes", jsutil.SizeLimit(c.MaxBytes))
		lim.Add("Maximum Age", jsutil.HumanDuration(c.MaxAge))
		lim.Add("Maximum Message Size", jsutil.SizeLimit(int64(c.MaxMsgSize)))
		lim.Add("Maximum Consumers", jsutil.Limit(int64(c.MaxConsumers)))
		if c.ConsumerLimits.InactiveThreshold > 0 {
			lim.Add("Consumer Inactive Threshold", jsutil.HumanDuration(c.ConsumerLimits.InactiveThreshold))
		}
		if c.ConsumerLimits.MaxAckPending > 0 {
			lim.Add("Consumer Max Ack Pending", cmdutil.Comma(int64(c.ConsumerLimits.MaxAckPending)))
		}
		lim.Write(w)
		fmt.Fprintln(w)

		keys := make([]string, 0, len(c.Metadata))
		for k := range c.Metadata {
			if !strings.HasPrefix(k, "_nats.") {
				keys = append(keys, k)
			}
		}
		if len(keys) > 0 {
			md := cmdutil.NewKV("Metadata:")
			sort.Strings(keys)
			for _, k := range keys {
				md.Add(k, c.Metadata[k])
			}
			md.Write(w)
			fmt.Fprintln(w)
		}
		if info.Cluster != nil && (info.Cluster.Leader != "" || len(info.Cluster.Replicas) > 0) {
			cl := cmdutil.NewKV("Cluster Information:")
			cl.AddIf("Name", info.Cluster.Name)
			cl.AddIf("Leader", info.Cluster.Leader)
			for _, r := range info.Cluster.Replicas {
				state := "current"
				if !r.Current {
					state = "outdated"
				}
				if r.Offline {
					state = "OFFLINE"
				}
				cl.Add("Replica", fmt.Sprintf("%s, %s, seen %s ago, %s operations behind", r.Name, state,
					jsutil.HumanDuration(r.Active), cmdutil.Comma(int64(r.Lag))))
			}
			cl.Write(w)
			fmt.Fprintln(w)
		}
		if info.Mirror != nil {
			showSource(w, "Mirror Information:", info.Mirror)
		}
		for _, src := range info.Sources {
			showSource(w, "Source Information:", src)
		}
	}

	st := info.State
	kv := cmdutil.NewKV("State:")
	kv.Add("Messages", cmdutil.Comma(int64(st.Msgs)))
	kv.Add("Bytes", cmdutil.IBytes(st.Bytes))
	kv.Add("First Sequence", seqAt(st.FirstSeq, st.FirstTime))
	kv.Add("Last Sequence", seqAt(st.LastSeq, st.LastTime))
	if st.NumDeleted > 0 {
		kv.Add("Deleted Messages", cmdutil.Comma(int64(st.NumDeleted)))
	}
	kv.Add("Active Consumers", st.Consumers)
	if st.NumSubjects > 0 {
		kv.Add("Number of Subjects", cmdutil.Comma(int64(st.NumSubjects)))
	}
	kv.Write(w)
}

func seqAt(seq uint64, t time.Time) string {
	if t.IsZero() || t.Unix() <= 0 {
		return cmdutil.Comma(int64(seq))
	}
	return fmt.Sprintf("%s @ %s", cmdutil.Comma(int64(seq)), t.Local().Format(time.DateTime))
}

func showSource(w interface{ Write([]byte) (int, error) }, title string, s *jetstream.StreamSourceInfo) {
	kv := cmdutil.NewKV(title)
	kv.Add("Stream Name", s.Name)
	kv.Add("Lag", cmdutil.Comma(int64(s.Lag)))
	if s.Active > 0 {
		kv.Add("Last Seen", jsutil.HumanDuration(s.Active)+" ago")
	} else {
		kv.Add("Last Seen", "never")
	}
	kv.AddIf("Filter", s.FilterSubject)
	if s.Error != nil {
		kv.Add("Error", s.Error.Description)
	}
	kv.Write(w)
	fmt.Fprintln(w)
}

// listInfos gathers the infos of the streams, optionally those holding
// subject, sorted by name.
func (s *session) listInfos(subject string) ([]*jetstream.StreamInfo, error) {
	var opts []jetstream.StreamListOpt
	if subject != "" {
		opts = append(opts, jetstream.WithStreamListSubject(subject))
	}
	l := s.js.ListStreams(s.ctx, opts...)
	var out []*jetstream.StreamInfo
	for i := range l.Info() {
		if !s.hidden(i.Config.Name) {
			out = append(out, i)
		}
	}
	if err := l.Err(); err != nil {
		return nil, jsutil.Err(err, "", "")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Config.Name < out[j].Config.Name })
	return out, nil
}

func newLs(f *cmdutil.Factory) *cobra.Command {
	var (
		subject      string
		names, jsonF bool
	)
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list", "l"},
		Short:   "List streams",
		Long: `List the streams of the account with their messages, size and last
message. --names prints names only, one a line; --subject keeps the
streams whose subjects overlap a subject (wildcards allowed).`,
		Args: cmdutil.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			if names {
				all, err := jsutil.StreamNames(s.ctx, f, s.js, subject)
				if err != nil {
					return err
				}
				var list []string
				for _, n := range all {
					if !s.hidden(n) {
						list = append(list, n)
					}
				}
				if jsonF {
					if list == nil {
						list = []string{}
					}
					return cmdutil.WriteJSON(f.IO.Out, list)
				}
				for _, n := range list {
					printf(f, "%s\n", n)
				}
				return nil
			}
			infos, err := s.listInfos(subject)
			if err != nil {
				return err
			}
			if jsonF {
				if infos == nil {
					infos = []*jetstream.StreamInfo{}
				}
				return cmdutil.WriteJSON(f.IO.Out, infos)
			}
			if len(infos) == 0 {
				fmt.Fprintln(f.IO.ErrOut, "No streams defined")
				return nil
			}
			t := cmdutil.NewTable(f.IO, "Streams")
			t.AddHeader("Name", "Description", "Created", "Messages", "Size", "Last Message")
			var msgs, bytes uint64
			for _, i := range infos {
				msgs += i.State.Msgs
				bytes += i.State.Bytes
				last := "never"
				if !i.State.LastTime.IsZero() && i.State.LastTime.Unix() > 0 {
					last = jsutil.HumanDuration(time.Since(i.State.LastTime))
				}
				t.AddRow(i.Config.Name, i.Config.Description, i.Created.Local().Format(time.DateTime),
					cmdutil.Comma(int64(i.State.Msgs)), cmdutil.IBytes(i.State.Bytes), last)
			}
			t.AlignRight(4, 5)
			t.Render()
			return nil
		},
	}
	cmd.Flags().StringVar(&subject, "subject", "", "only streams whose subjects overlap `SUBJECT`")
	cmd.Flags().BoolVarP(&names, "names", "n", false, "print the names only")
	cmdutil.AddJSONFlag(cmd, &jsonF)
	return cmd
}

func newReport(f *cmdutil.Factory) *cobra.Command {
	var (
		subject, cluster            string
		byConsumers, byMsgs, byName bool
		byStorage, raw, jsonF       bool
	)
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Report on all streams: messages, bytes, consumers, deleted, replicas",
		Long: `One row per stream with its storage, placement, consumers, messages,
bytes, deleted messages and replicas. Sorted by size unless --consumers,
--messages, --name or --storage says otherwise; --raw shows exact
numbers.`,
		Args: cmdutil.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			infos, err := s.listInfos(subject)
			if err != nil {
				return err
			}
			if cluster != "" {
				kept := infos[:0]
				for _, i := range infos {
					if i.Cluster != nil && i.Cluster.Name == cluster {
						kept = append(kept, i)
					}
				}
				infos = kept
			}
			sort.SliceStable(infos, func(a, b int) bool {
				x, y := infos[a], infos[b]
				switch {
				case byConsumers:
					return x.State.Consumers < y.State.Consumers
				case byMsgs:
					return x.State.Msgs < y.State.Msgs
				case byName:
					return x.Config.Name < y.Config.Name
				case byStorage:
					return x.Config.Storage < y.Config.Storage
				}
				return x.State.Bytes < y.State.Bytes
			})
			if jsonF {
				type row struct {
					Name      string `json:"name"`
					Storage   string `json:"storage"`
					Cluster   string `json:"cluster,omitempty"`
					Consumers int    `json:"consumers"`
					Msgs      uint64 `json:"msgs"`
					Bytes     uint64 `json:"bytes"`
					Deleted   int    `json:"deleted"`
					Replicas  int    `json:"replicas"`
				}
				rows := []row{}
				for _, i := range infos {
					r := row{Name: i.Config.Name, Storage: strings.ToLower(storageName(i.Config.Storage)),
						Consumers: i.State.Consumers, Msgs: i.State.Msgs, Bytes: i.State.Bytes,
						Deleted: i.State.NumDeleted, Replicas: i.Config.Replicas}
					if i.Cluster != nil {
						r.Cluster = i.Cluster.Name
					}
					rows = append(rows, r)
				}
				return cmdutil.WriteJSON(f.IO.Out, rows)
			}
			if len(infos) == 0 {
				fmt.Fprintln(f.IO.ErrOut, "No streams defined")
				return nil
			}
			num := func(n uint64) string {
				if raw {
					return fmt.Sprint(n)
				}
				return cmdutil.Comma(int64(n))
			}
			size := func(n uint64) string {
				if raw {
					return fmt.Sprint(n)
				}
				return cmdutil.IBytes(n)
			}
			t := cmdutil.NewTable(f.IO, "Stream Report")
			t.AddHeader("Stream", "Storage", "Placement", "Consumers", "Messages", "Bytes", "Deleted", "Replicas")
			for _, i := range infos {
				place := ""
				if i.Cluster != nil && i.Cluster.Name != "" {
					place = "cluster: " + i.Cluster.Name
				}
				if i.Config.Placement != nil && len(i.Config.Placement.Tags) > 0 {
					place = strings.TrimSpace(place + " tags: " + strings.Join(i.Config.Placement.Tags, ","))
				}
				var reps []string
				if i.Cluster == nil || (i.Cluster.Leader == "" && len(i.Cluster.Replicas) == 0) {
					reps = append(reps, fmt.Sprint(i.Config.Replicas))
				} else {
					if i.Cluster.Leader != "" {
						reps = append(reps, i.Cluster.Leader+"*")
					}
					for _, r := range i.Cluster.Replicas {
						n := r.Name
						if r.Offline || !r.Current {
							n += "!"
						}
						reps = append(reps, n)
					}
				}
				t.AddRow(i.Config.Name, storageName(i.Config.Storage), place, i.State.Consumers,
					num(i.State.Msgs), size(i.State.Bytes), num(uint64(i.State.NumDeleted)), strings.Join(reps, ", "))
			}
			t.AlignRight(4, 5, 6, 7)
			t.Render()
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&subject, "subject", "", "only streams whose subjects overlap `SUBJECT`")
	fl.StringVar(&cluster, "cluster", "", "only streams in `CLUSTER`")
	fl.BoolVarP(&byConsumers, "consumers", "o", false, "sort by number of consumers")
	fl.BoolVarP(&byMsgs, "messages", "m", false, "sort by number of messages")
	fl.BoolVarP(&byName, "name", "n", false, "sort by name")
	fl.BoolVarP(&byStorage, "storage", "t", false, "sort by storage type")
	fl.BoolVarP(&raw, "raw", "r", false, "show exact numbers")
	cmdutil.AddJSONFlag(cmd, &jsonF)
	return cmd
}
