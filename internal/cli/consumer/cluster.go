package consumercmd

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
	streamcmd "github.com/sluicehq/sluice/internal/cli/stream"
)

func newCluster(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "cluster",
		Aliases: []string{"c"},
		Short:   "Manage a clustered consumer",
	}
	cmdutil.MakeGroup(cmd)
	cmd.AddCommand(newStepDown(f))
	return cmd
}

func newStepDown(f *cmdutil.Factory) *cobra.Command {
	var (
		preferred string
		force     bool
	)
	cmd := &cobra.Command{
		Use:     "step-down [STREAM] [CONSUMER]",
		Aliases: []string{"stepdown", "sd", "elect"},
		Short:   "Make a consumer's leader step down, so that another is elected",
		Args:    cmdutil.RangeArgs(0, 2, "STREAM", "CONSUMER"),
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
			if !force && (info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) == 0) {
				return errors.New("consumer " + stream + " > " + name + " is not replicated: it has no leader to change")
			}
			old := ""
			if info.Cluster != nil {
				old = info.Cluster.Leader
			}
			body := &streamcmd.StepDownRequest{}
			if preferred != "" {
				body.Placement = &struct {
					Preferred string `json:"preferred,omitempty"`
				}{preferred}
			}
			if _, err := streamcmd.Request(cmd, f, "CONSUMER.LEADER.STEPDOWN."+stream+"."+name, body); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "Requested a new leader for consumer %s > %s (was %s)\n", stream, name, old)
			deadline := time.Now().Add(max(f.Timeout(), 10*time.Second))
			for time.Now().Before(deadline) {
				ctx, cancel := jsutil.Ctx(cmd.Context(), f)
				s.ctx = ctx
				_, i, err := s.consumer(&stream, &name)
				cancel()
				if err == nil {
					if i.Cluster != nil && i.Cluster.Leader != "" && i.Cluster.Leader != old {
						fmt.Fprintf(f.IO.Out, "New leader of consumer %s > %s: %s\n", stream, name, i.Cluster.Leader)
						return nil
					}
				}
				time.Sleep(100 * time.Millisecond)
			}
			return &cmdutil.Error{Code: cmdutil.ExitTimeout, Err: fmt.Errorf("no new leader for consumer %s > %s in time", stream, name)}
		},
	}
	cmd.Flags().StringVar(&preferred, "preferred", "", "prefer `SERVER` as the new leader")
	addForce(cmd, &force, "ask")
	return cmd
}
