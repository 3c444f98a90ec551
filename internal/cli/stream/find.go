package streamcmd

import (
	"fmt"
	"regexp"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/msgutil"
)

// finder holds the criteria of `stream find`; a stream matches when it
// meets every criterion given (or none, with --invert).
type finder struct {
	server, cluster, leader string
	empty                   bool
	idle, created           time.Duration
	consumers               int
	replicas                uint
	sourced, mirrored       bool
	subject                 string
	invert                  bool

	serverRe, clusterRe *regexp.Regexp
}

func (fd *finder) match(cmd *cobra.Command, i *jetstream.StreamInfo) bool {
	ok := true
	check := func(b bool) { ok = ok && b }
	if fd.serverRe != nil {
		found := false
		if i.Cluster != nil {
			found = fd.serverRe.MatchString(i.Cluster.Leader)
			for _, r := range i.Cluster.Replicas {
				found = found || fd.serverRe.MatchString(r.Name)
			}
		}
		check(found)
	}
	if fd.clusterRe != nil {
		check(i.Cluster != nil && fd.clusterRe.MatchString(i.Cluster.Name))
	}
	if fd.leader != "" {
		check(i.Cluster != nil && i.Cluster.Leader == fd.leader)
	}
	if fd.empty {
		check(i.State.Msgs == 0)
	}
	if fd.idle > 0 {
		check(i.State.LastTime.IsZero() || time.Since(i.State.LastTime) > fd.idle)
	}
	if fd.created > 0 {
		check(time.Since(i.Created) > fd.created)
	}
	if fd.consumers >= 0 {
		check(i.State.Consumers < fd.consumers)
	}
	if fd.replicas > 0 {
		check(uint(i.Config.Replicas) <= fd.replicas)
	}
	if cmd.Flags().Changed("sourced") {
		check(len(i.Config.Sources) > 0 == fd.sourced)
	}
	if cmd.Flags().Changed("mirrored") {
		check((i.Config.Mirror != nil) == fd.mirrored)
	}
	return ok != fd.invert
}

func newFind(f *cmdutil.Factory) *cobra.Command {
	fd := &finder{}
	var names, asJSON bool
	cmd := &cobra.Command{
		Use:     "find",
		Aliases: []string{"query"},
		Short:   "Find streams matching criteria",
		Long: `List the streams that meet every criterion given: placement (--server-name
and --cluster are regular expressions), --empty, idle or created longer
ago than a duration, fewer consumers than --consumers, at most --replicas
replicas, sourcing or mirroring, subjects overlapping --subject.
--invert lists the streams that do not match.`,
		Example: `  sluice stream find --empty --idle 24h
  sluice stream find --consumers 1 --names`,
		Args: cmdutil.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if fd.server != "" {
				if fd.serverRe, err = regexp.Compile(fd.server); err != nil {
					return cmdutil.FlagErrorf("--server-name: %v", err)
				}
			}
			if fd.cluster != "" {
				if fd.clusterRe, err = regexp.Compile(fd.cluster); err != nil {
					return cmdutil.FlagErrorf("--cluster: %v", err)
				}
			}
			if fd.subject != "" {
				if err := msgutil.ValidateSubject(fd.subject, true); err != nil {
					return cmdutil.FlagErrorf("--subject: %v", err)
				}
			}
			if fd.idle < 0 || fd.created < 0 {
				return cmdutil.FlagErrorf("--idle and --created must not be negative")
			}
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			infos, err := s.listInfos(fd.subject)
			if err != nil {
				return err
			}
			found := []*jetstream.StreamInfo{}
			for _, i := range infos {
				if fd.match(cmd, i) {
					found = append(found, i)
				}
			}
			switch {
			case asJSON && names:
				list := []string{}
				for _, i := range found {
					list = append(list, i.Config.Name)
				}
				return cmdutil.WriteJSON(f.IO.Out, list)
			case asJSON:
				return cmdutil.WriteJSON(f.IO.Out, found)
			case len(found) == 0:
				fmt.Fprintln(f.IO.ErrOut, "No matching streams")
			case names:
				for _, i := range found {
					printf(f, "%s\n", i.Config.Name)
				}
			default:
				t := cmdutil.NewTable(f.IO, "Matching Streams")
				t.AddHeader("Name", "Created", "Messages", "Size", "Consumers")
				for _, i := range found {
					t.AddRow(i.Config.Name, i.Created.Local().Format(time.DateTime), cmdutil.Comma(int64(i.State.Msgs)),
						cmdutil.IBytes(i.State.Bytes), i.State.Consumers)
				}
				t.AlignRight(3, 4, 5)
				t.Render()
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&fd.server, "server-name", "", "streams with a replica on a server matching `REGEXP`")
	fl.StringVar(&fd.cluster, "cluster", "", "streams in a cluster matching `REGEXP`")
	fl.BoolVar(&fd.empty, "empty", false, "streams with no messages")
	fl.DurationVar(&fd.idle, "idle", 0, "streams with no new message for `DURATION`")
	fl.DurationVar(&fd.created, "created", 0, "streams created longer than `DURATION` ago")
	fl.IntVar(&fd.consumers, "consumers", -1, "streams with fewer than `N` consumers")
	fl.StringVar(&fd.subject, "subject", "", "streams whose subjects overlap `SUBJECT`")
	fl.UintVar(&fd.replicas, "replicas", 0, "streams with at most `N` replicas")
	fl.BoolVar(&fd.sourced, "sourced", false, "streams that source from others")
	fl.BoolVar(&fd.mirrored, "mirrored", false, "streams that mirror another")
	fl.StringVar(&fd.leader, "leader", "", "clustered streams led by `SERVER`")
	fl.BoolVarP(&names, "names", "n", false, "print the names only")
	fl.BoolVar(&fd.invert, "invert", false, "list the streams that do not match")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}
