package streamcmd

import (
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
	"github.com/sluicehq/sluice/internal/cli/msgutil"
)

func newRm(f *cmdutil.Factory) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm [STREAM]",
		Aliases: []string{"delete", "del"},
		Short:   "Remove a stream and all its messages and consumers",
		Args:    cmdutil.RangeArgs(0, 1, "STREAM"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := argOr(args, 0)
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			if _, err := s.stream(&name); err != nil {
				return err
			}
			if err := f.ConfirmDestructive(force, fmt.Sprintf("Really delete stream %s", name)); err != nil {
				return err
			}
			if err := s.js.DeleteStream(s.ctx, name); err != nil {
				return jsutil.Err(err, "stream", name)
			}
			fmt.Fprintf(f.IO.ErrOut, "Deleted stream %s\n", name)
			return nil
		},
	}
	addForce(cmd, &force, "remove")
	return cmd
}

func newPurge(f *cmdutil.Factory) *cobra.Command {
	var (
		force, asJSON bool
		subject       string
		seq, keep     uint64
	)
	cmd := &cobra.Command{
		Use:   "purge [STREAM]",
		Short: "Remove messages from a stream in bulk",
		Long: `Remove all messages from a stream, or those on --subject, or those
before sequence --seq, or all but the last --keep messages. --seq and
--keep exclude each other.`,
		Example: `  sluice stream purge ORDERS --force
  sluice stream purge ORDERS --subject orders.old --keep 10 --force`,
		Args: cmdutil.RangeArgs(0, 1, "STREAM"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("seq") && cmd.Flags().Changed("keep") {
				return cmdutil.FlagErrorf("--seq and --keep cannot be used together")
			}
			if subject != "" {
				if err := msgutil.ValidateSubject(subject, true); err != nil {
					return cmdutil.FlagErrorf("--subject: %v", err)
				}
			}
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
			var opts []jetstream.StreamPurgeOpt
			if subject != "" {
				opts = append(opts, jetstream.WithPurgeSubject(subject))
			}
			if cmd.Flags().Changed("seq") {
				opts = append(opts, jetstream.WithPurgeSequence(seq))
			}
			if cmd.Flags().Changed("keep") {
				opts = append(opts, jetstream.WithPurgeKeep(keep))
			}
			if err := f.ConfirmDestructive(force, fmt.Sprintf("Really purge stream %s", name)); err != nil {
				return err
			}
			if err := st.Purge(s.ctx, opts...); err != nil {
				return jsutil.Err(err, "stream", name)
			}
			info, err := st.Info(s.ctx)
			if err != nil {
				return jsutil.Err(err, "stream", name)
			}
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, info)
			}
			fmt.Fprintf(f.IO.ErrOut, "Purged stream %s\n\n", name)
			showInfo(f, info, true)
			return nil
		},
	}
	fl := cmd.Flags()
	addForce(cmd, &force, "purge")
	fl.StringVar(&subject, "subject", "", "purge only messages on `SUBJECT`")
	fl.Uint64Var(&seq, "seq", 0, "purge up to, not including, `SEQUENCE`")
	fl.Uint64Var(&keep, "keep", 0, "keep the last `N` messages")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func newRmm(f *cmdutil.Factory) *cobra.Command {
	var force, fast bool
	cmd := &cobra.Command{
		Use:   "rmm [STREAM] [SEQUENCE]",
		Short: "Remove one message from a stream, overwriting its data",
		Long: `Remove the message with SEQUENCE from a stream. The server overwrites
the stored data (a secure erase) unless --no-erase is given.`,
		Args: cmdutil.RangeArgs(0, 2, "STREAM", "SEQUENCE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := argOr(args, 0)
			seqS := argOr(args, 1)
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			if name != "" && seqS == "" && f.Prompt() == nil {
				return cmdutil.FlagErrorf("missing SEQUENCE argument")
			}
			if seqS != "" {
				if _, err := parseSeq(seqS); err != nil {
					return err
				}
			}
			st, err := s.stream(&name)
			if err != nil {
				return err
			}
			if err := f.RequireInput(&seqS, "SEQUENCE argument", "Message Sequence to remove"); err != nil {
				return err
			}
			seq, err := parseSeq(seqS)
			if err != nil {
				return err
			}
			if err := f.ConfirmDestructive(force, fmt.Sprintf("Really remove message %d from stream %s", seq, name)); err != nil {
				return err
			}
			if fast {
				err = st.DeleteMsg(s.ctx, seq)
			} else {
				err = st.SecureDeleteMsg(s.ctx, seq)
			}
			if err != nil {
				return jsutil.Err(err, "stream", name)
			}
			fmt.Fprintf(f.IO.ErrOut, "Removed message %d from stream %s\n", seq, name)
			return nil
		},
	}
	addForce(cmd, &force, "remove")
	cmd.Flags().BoolVar(&fast, "no-erase", false, "mark the message deleted without overwriting its data")
	return cmd
}

func parseSeq(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, cmdutil.FlagErrorf("SEQUENCE must be a positive number, not %q", s)
	}
	return n, nil
}

func newSeal(f *cmdutil.Factory) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "seal STREAM",
		Short: "Seal a stream: no more messages, deletes or purges",
		Long: `Seal a stream for good: it accepts no new messages and no deletes or
purges, and the seal cannot be undone.`,
		Args: cmdutil.ExactArgs(1, "STREAM"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			st, err := s.stream(&name)
			if err != nil {
				return err
			}
			if err := f.ConfirmDestructive(force, fmt.Sprintf("Really seal stream %s? This cannot be undone", name)); err != nil {
				return err
			}
			cfg := st.CachedInfo().Config
			cfg.Sealed = true
			upd, err := s.js.UpdateStream(s.ctx, cfg)
			if err != nil {
				return jsutil.Err(err, "stream", name)
			}
			fmt.Fprintf(f.IO.ErrOut, "Sealed stream %s\n\n", name)
			showInfo(f, upd.CachedInfo(), true)
			return nil
		},
	}
	addForce(cmd, &force, "seal")
	return cmd
}
