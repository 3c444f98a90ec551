package consumercmd

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
)

func newRm(f *cmdutil.Factory) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm [STREAM] [CONSUMER]",
		Aliases: []string{"delete", "del"},
		Short:   "Remove a consumer",
		Args:    cmdutil.RangeArgs(0, 2, "STREAM", "CONSUMER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			stream, name := argOr(args, 0), argOr(args, 1)
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			st, _, err := s.consumer(&stream, &name)
			if err != nil {
				return err
			}
			if err := f.ConfirmDestructive(force, fmt.Sprintf("Really delete consumer %s > %s", stream, name)); err != nil {
				return err
			}
			if err := st.DeleteConsumer(s.ctx, name); err != nil {
				return jsutil.Err(err, "consumer", name)
			}
			fmt.Fprintf(f.IO.ErrOut, "Deleted consumer %s > %s\n", stream, name)
			return nil
		},
	}
	addForce(cmd, &force, "remove")
	return cmd
}

func newPause(f *cmdutil.Factory) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "pause [STREAM] [CONSUMER] [UNTIL]",
		Short: "Pause a consumer until a later time",
		Long: `Stop a consumer delivering until UNTIL: a duration from now (1h, 2d) or a
time (2006-01-02 15:04:05, local). On a terminal UNTIL is asked for
when missing, and the pause confirmed.`,
		Example: `  sluice consumer pause ORDERS NEW 1h --force`,
		Args:    cmdutil.RangeArgs(0, 3, "STREAM", "CONSUMER", "UNTIL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			stream, name, until := argOr(args, 0), argOr(args, 1), argOr(args, 2)
			if until != "" {
				if _, err := ParsePauseUntil("UNTIL", until); err != nil {
					return err
				}
			}
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			st, _, err := s.consumer(&stream, &name)
			if err != nil {
				return err
			}
			if err := f.RequireInput(&until, "UNTIL argument", "Pause until (a duration or a time)"); err != nil {
				return err
			}
			t, err := ParsePauseUntil("UNTIL", until)
			if err != nil {
				return err
			}
			if err := f.ConfirmDestructive(force, fmt.Sprintf("Pause consumer %s > %s until %s", stream, name, t.Format(time.DateTime))); err != nil {
				return err
			}
			resp, err := st.PauseConsumer(s.ctx, name, t)
			if err != nil {
				return jsutil.Err(err, "consumer", name)
			}
			if !resp.Paused {
				return fmt.Errorf("consumer %s > %s was not paused", stream, name)
			}
			fmt.Fprintf(f.IO.Out, "Paused consumer %s > %s until %s (%s)\n", stream, name,
				resp.PauseUntil.Local().Format(time.DateTime), jsutil.HumanDuration(resp.PauseRemaining))
			return nil
		},
	}
	addForce(cmd, &force, "pause")
	return cmd
}

func newResume(f *cmdutil.Factory) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "resume [STREAM] [CONSUMER]",
		Short: "Resume a paused consumer",
		Args:  cmdutil.RangeArgs(0, 2, "STREAM", "CONSUMER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			stream, name := argOr(args, 0), argOr(args, 1)
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			st, info, err := s.consumer(&stream, &name)
			if err != nil {
				return err
			}
			if !info.Paused {
				return fmt.Errorf("consumer %s > %s is not paused", stream, name)
			}
			if err := f.ConfirmDestructive(force, fmt.Sprintf("Resume consumer %s > %s", stream, name)); err != nil {
				return err
			}
			if _, err := st.ResumeConsumer(s.ctx, name); err != nil {
				return jsutil.Err(err, "consumer", name)
			}
			fmt.Fprintf(f.IO.Out, "Resumed consumer %s > %s\n", stream, name)
			return nil
		},
	}
	addForce(cmd, &force, "resume")
	return cmd
}

func newUnpin(f *cmdutil.Factory) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "unpin [STREAM] [CONSUMER] [GROUP]",
		Short: "Unpin the pinned client of a priority group",
		Long: `Unpin the client pinned to GROUP of a pinned-client consumer, so that the
server pins another. On a terminal GROUP is chosen from the consumer's
groups when missing.`,
		Args: cmdutil.RangeArgs(0, 3, "STREAM", "CONSUMER", "GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			stream, name, group := argOr(args, 0), argOr(args, 1), argOr(args, 2)
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			st, info, err := s.consumer(&stream, &name)
			if err != nil {
				return err
			}
			groups := info.Config.PriorityGroups
			if len(groups) == 0 {
				return fmt.Errorf("consumer %s > %s has no priority groups", stream, name)
			}
			if group == "" {
				p := f.Prompt()
				if p == nil {
					return cmdutil.FlagErrorf("missing GROUP argument")
				}
				i, err := p.Select("Priority group to unpin", groups, "")
				if err != nil {
					return err
				}
				group = groups[i]
			}
			known := false
			for _, g := range groups {
				known = known || g == group
			}
			if !known {
				return cmdutil.NotFound("priority group", group, fmt.Sprintf("consumer %s > %s has %v", stream, name, groups))
			}
			if err := f.ConfirmDestructive(force, fmt.Sprintf("Unpin the client of group %s of consumer %s > %s", group, stream, name)); err != nil {
				return err
			}
			if err := st.UnpinConsumer(s.ctx, name, group); err != nil {
				return jsutil.Err(err, "consumer", name)
			}
			fmt.Fprintf(f.IO.Out, "Unpinned the client of group %s of consumer %s > %s\n", group, stream, name)
			return nil
		},
	}
	addForce(cmd, &force, "unpin")
	return cmd
}
