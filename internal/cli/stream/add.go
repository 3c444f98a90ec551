package streamcmd

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
)

func newAdd(f *cmdutil.Factory) *cobra.Command {
	var (
		cf               configFlags
		file, output     string
		defaults, asJSON bool
	)
	cmd := &cobra.Command{
		Use:     "add [STREAM]",
		Aliases: []string{"create", "new"},
		Short:   "Create a stream",
		Long: `Create a stream. Every field of the configuration has a flag with
natscli's name. On a terminal the fields no flag sets are asked for
(--defaults accepts the defaults instead); elsewhere the defaults are
used: file storage, one replica, limits retention, discard old, no
limits, a two minute duplicate window.

--config reads the configuration from a JSON file, as 'nats stream add
--output' or 'sluice stream add --output' write it; flags given with it
override the file. --output saves the configuration and creates nothing.`,
		Example: `  sluice stream add ORDERS --subjects 'orders.>' --storage file --max-age 1d --defaults
  sluice stream add ORDERS --config orders.json
  sluice stream add ORDERS --subjects 'orders.>' --defaults --output orders.json`,
		Args: cmdutil.RangeArgs(0, 1, "STREAM"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := argOr(args, 0)
			cfg := defaultConfig(name)
			if file != "" {
				if err := loadConfig(file, &cfg); err != nil {
					return err
				}
				if name != "" {
					cfg.Name = name
				}
			}
			if err := cf.apply(&cfg); err != nil {
				return err
			}
			p := f.Prompt()
			if cfg.Name == "" {
				if err := f.RequireInput(&cfg.Name, "STREAM argument", "Stream Name"); err != nil {
					return err
				}
			}
			if err := jsutil.ValidName("STREAM", cfg.Name); err != nil {
				return err
			}
			if p != nil && file == "" && !defaults {
				if err := cf.ask(p, f.IO.ErrOut, &cfg); err != nil {
					return err
				}
			}
			if cfg.DiscardNewPerSubject && cfg.MaxMsgsPerSubject <= 0 {
				return cmdutil.FlagErrorf("--discard-per-subject needs --max-msgs-per-subject")
			}
			if output != "" {
				b, err := json.MarshalIndent(cfg, "", "  ")
				if err != nil {
					return err
				}
				if err := os.WriteFile(output, append(b, '\n'), 0o600); err != nil {
					return fmt.Errorf("cannot save --output: %w", err)
				}
				fmt.Fprintf(f.IO.ErrOut, "Saved the configuration of stream %s in %s\n", cfg.Name, output)
				return nil
			}
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			st, err := s.js.CreateStream(s.ctx, cfg)
			if err != nil {
				return jsutil.Err(err, "stream", cfg.Name)
			}
			info := st.CachedInfo()
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, info)
			}
			fmt.Fprintf(f.IO.ErrOut, "Stream %s was created\n\n", cfg.Name)
			showInfo(f, info, false)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	cf.register(fl, false)
	fl.StringVar(&file, "config", "", "read the configuration from JSON `FILE`")
	fl.StringVar(&output, "output", "", "save the configuration to `FILE` instead of creating the stream")
	fl.BoolVar(&defaults, "defaults", false, "accept the defaults instead of asking")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func newEdit(f *cmdutil.Factory) *cobra.Command {
	var (
		cf                    configFlags
		file                  string
		force, dryRun, asJSON bool
	)
	cmd := &cobra.Command{
		Use:     "edit [STREAM]",
		Aliases: []string{"update"},
		Short:   "Change a stream's configuration",
		Long: `Change a stream's configuration with the flags of 'stream add' (and
--no-mirror, --no-transform, --no-republish), or replace it with --config
FILE. The difference is shown and confirmed on a terminal; elsewhere
--force is needed. --dry-run shows the difference and changes nothing.`,
		Example: `  sluice stream edit ORDERS --max-age 2d --force
  sluice stream edit ORDERS --config orders.json --dry-run`,
		Args: cmdutil.RangeArgs(0, 1, "STREAM"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := argOr(args, 0)
			if file == "" && !cf.anySet() {
				return cmdutil.FlagErrorf("nothing to change: give --config FILE or configuration flags; see 'sluice stream edit --help'")
			}
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			st, err := s.stream(&name)
			if err != nil {
				return err
			}
			old := st.CachedInfo().Config
			cfg := old
			if file != "" {
				cfg = jetstream.StreamConfig{}
				if err := loadConfig(file, &cfg); err != nil {
					return err
				}
				cfg.Name = name
			}
			if err := cf.apply(&cfg); err != nil {
				return err
			}
			diff, err := jsutil.Diff(old, cfg)
			if err != nil {
				return err
			}
			if diff == "" {
				fmt.Fprintf(f.IO.ErrOut, "Stream %s already has this configuration\n", name)
				return nil
			}
			fmt.Fprintf(f.IO.ErrOut, "Differences (-old +new):\n%s", diff)
			if dryRun {
				return nil
			}
			if err := f.ConfirmDestructive(force, fmt.Sprintf("Really edit stream %s", name)); err != nil {
				return err
			}
			upd, err := s.js.UpdateStream(s.ctx, cfg)
			if err != nil {
				return jsutil.Err(err, "stream", name)
			}
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, upd.CachedInfo())
			}
			fmt.Fprintf(f.IO.ErrOut, "Stream %s was updated\n\n", name)
			showInfo(f, upd.CachedInfo(), false)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	cf.register(fl, true)
	fl.StringVar(&file, "config", "", "replace the configuration with the one in JSON `FILE`")
	addForce(cmd, &force, "edit")
	fl.BoolVar(&dryRun, "dry-run", false, "only show the differences")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func newCopy(f *cmdutil.Factory) *cobra.Command {
	var (
		cf     configFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:     "copy SOURCE DESTINATION",
		Aliases: []string{"cp"},
		Short:   "Create a stream with the configuration of another (no data)",
		Long: `Create DESTINATION with the configuration of SOURCE, changed by any
configuration flags given. Messages are not copied; --subjects is
usually needed, since two streams may not share subjects.`,
		Example: `  sluice stream copy ORDERS ORDERS2 --subjects 'orders2.>'`,
		Args:    cmdutil.ExactArgs(2, "SOURCE", "DESTINATION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := jsutil.ValidName("DESTINATION", args[1]); err != nil {
				return err
			}
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			src := args[0]
			st, err := s.stream(&src)
			if err != nil {
				return err
			}
			cfg := st.CachedInfo().Config
			cfg.Name = args[1]
			if err := cf.apply(&cfg); err != nil {
				return err
			}
			nst, err := s.js.CreateStream(s.ctx, cfg)
			if err != nil {
				return jsutil.Err(err, "stream", args[1])
			}
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, nst.CachedInfo())
			}
			fmt.Fprintf(f.IO.ErrOut, "Stream %s was created from %s\n\n", args[1], src)
			showInfo(f, nst.CachedInfo(), false)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	cf.register(fl, true)
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}
