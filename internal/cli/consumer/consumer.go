package consumercmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
)

// New builds `sluice consumer` and its verbs.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "consumer",
		Aliases: []string{"con", "obs"},
		Short:   "Manage JetStream consumers and read through them",
		Long: `Create, inspect, change and remove the consumers of JetStream streams,
and read messages through them. The verbs and flags are natscli's
('nats consumer'), and work against sluice and nats-server alike.`,
	}
	cmdutil.MakeGroup(cmd)
	cmd.AddCommand(newAdd(f), newEdit(f), newCopy(f), newInfo(f), newState(f), newLs(f), newReport(f),
		newRm(f), newNext(f), newSub(f), newPause(f), newResume(f), newUnpin(f), newCluster(f))
	return cmd
}

type session struct {
	f   *cmdutil.Factory
	js  jetstream.JetStream
	ctx context.Context
}

func open(cmd *cobra.Command, f *cmdutil.Factory) (*session, context.CancelFunc, error) {
	js, err := jsutil.New(f)
	if err != nil {
		return nil, func() {}, err
	}
	ctx, cancel := jsutil.Ctx(cmd.Context(), f)
	return &session{f: f, js: js, ctx: ctx}, cancel, nil
}

func (s *session) stream(name *string) (jetstream.Stream, error) {
	if err := jsutil.PickStream(s.ctx, s.f, s.js, name); err != nil {
		return nil, err
	}
	st, err := s.js.Stream(s.ctx, *name)
	if err != nil {
		return nil, jsutil.Err(err, "stream", *name)
	}
	return st, nil
}

// consumer looks up STREAM and CONSUMER, picking either on a terminal.
func (s *session) consumer(stream, name *string) (jetstream.Stream, *jetstream.ConsumerInfo, error) {
	st, err := s.stream(stream)
	if err != nil {
		return nil, nil, err
	}
	if err := jsutil.PickConsumer(s.ctx, s.f, st, name); err != nil {
		return nil, nil, err
	}
	var info *jetstream.ConsumerInfo
	c, err := st.Consumer(s.ctx, *name)
	if errors.Is(err, jetstream.ErrNotPullConsumer) {
		var pc jetstream.PushConsumer
		if pc, err = st.PushConsumer(s.ctx, *name); err == nil {
			info = pc.CachedInfo()
		}
	} else if err == nil {
		info = c.CachedInfo()
	}
	if err != nil {
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, nil, cmdutil.NotFound("consumer", *stream+" > "+*name, "list consumers with 'sluice consumer ls "+*stream+"'")
		}
		return nil, nil, jsutil.Err(err, "consumer", *name)
	}
	return st, info, nil
}

func argOr(args []string, i int) string {
	if len(args) > i {
		return args[i]
	}
	return ""
}

func addForce(cmd *cobra.Command, force *bool, what string) {
	cmd.Flags().BoolVarP(force, "force", "f", false, what+" without asking")
}

func newAdd(f *cmdutil.Factory) *cobra.Command {
	var (
		cf               configFlags
		file, output     string
		defaults, asJSON bool
	)
	cmd := &cobra.Command{
		Use:     "add [STREAM] [CONSUMER]",
		Aliases: []string{"create", "new"},
		Short:   "Create a consumer",
		Long: `Create a consumer on STREAM. Every field of the configuration has a flag
with natscli's name. --pull makes a pull consumer; --push with --target
SUBJECT (or --target alone) a push consumer. On a terminal the fields no
flag sets are asked for (--defaults accepts the defaults); elsewhere the
defaults are used: a pull consumer delivering all messages with explicit
acks.

--config reads the configuration from a JSON file as natscli writes it;
flags given with it override the file.`,
		Example: `  sluice consumer add ORDERS NEW --pull --filter orders.new --defaults
  sluice consumer add ORDERS MONITOR --target monitor.orders --ack none --defaults
  sluice consumer add ORDERS NEW --config new.json`,
		Args: cmdutil.RangeArgs(0, 2, "STREAM", "CONSUMER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			stream, name := argOr(args, 0), argOr(args, 1)
			if cf.pull && (cf.push || cf.target != "") {
				return cmdutil.FlagErrorf("--pull cannot be used with --push or --target")
			}
			cfg := jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
				ReplayPolicy: jetstream.ReplayInstantPolicy}
			if file != "" {
				if err := loadConfig(file, &cfg); err != nil {
					return err
				}
			}
			if !cf.set("ack") && (cf.target != "" || cf.push) && file == "" {
				cfg.AckPolicy = jetstream.AckNonePolicy
			}
			if err := cf.apply(&cfg); err != nil {
				return err
			}
			p := f.Prompt()
			if name == "" && !cf.ephemeral {
				name = cfg.Durable
				if name == "" {
					name = cfg.Name
				}
				if err := f.RequireInput(&name, "CONSUMER argument (or --ephemeral)", "Consumer name"); err != nil {
					return err
				}
			}
			if name != "" {
				if err := jsutil.ValidName("CONSUMER", name); err != nil {
					return err
				}
			}
			if cf.ephemeral {
				cfg.Durable, cfg.Name = "", name
			} else {
				cfg.Durable, cfg.Name = name, name
			}
			if cf.push && cfg.DeliverSubject == "" {
				if err := f.RequireInput(&cfg.DeliverSubject, "--target (with --push)", "Delivery target subject"); err != nil {
					return err
				}
			}
			if p != nil && file == "" && !defaults {
				if !cf.pull && !cf.push && !cf.set("target") {
					v, err := p.Input("Delivery target (empty for Pull Consumers)", "")
					if err != nil {
						return err
					}
					cfg.DeliverSubject = v
				}
				if err := cf.ask(p, f.IO.ErrOut, &cfg); err != nil {
					return err
				}
			}
			if cfg.AckPolicy == jetstream.AckNonePolicy && !cf.set("max-deliver") {
				cfg.MaxDeliver = 0
			}
			if cfg.DeliverPolicy == jetstream.DeliverLastPerSubjectPolicy && cfg.FilterSubject == "" && len(cfg.FilterSubjects) == 0 {
				cfg.FilterSubject = ">"
			}
			if output != "" {
				b, err := json.MarshalIndent(cfg, "", "  ")
				if err != nil {
					return err
				}
				if err := os.WriteFile(output, append(b, '\n'), 0o600); err != nil {
					return fmt.Errorf("cannot save --output: %w", err)
				}
				fmt.Fprintf(f.IO.ErrOut, "Saved the configuration of consumer %s in %s\n", name, output)
				return nil
			}
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			st, err := s.stream(&stream)
			if err != nil {
				return err
			}
			var info *jetstream.ConsumerInfo
			if cfg.DeliverSubject != "" {
				c, err := st.CreatePushConsumer(s.ctx, cfg)
				if err != nil {
					return jsutil.Err(err, "consumer", name)
				}
				info = c.CachedInfo()
			} else {
				c, err := st.CreateConsumer(s.ctx, cfg)
				if err != nil {
					return jsutil.Err(err, "consumer", name)
				}
				info = c.CachedInfo()
			}
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, info)
			}
			fmt.Fprintf(f.IO.ErrOut, "Consumer %s > %s was created\n\n", stream, info.Name)
			showInfo(f, info, false)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	cf.register(fl, false)
	fl.StringVar(&file, "config", "", "read the configuration from JSON `FILE`")
	fl.StringVar(&output, "output", "", "save the configuration to `FILE` instead of creating the consumer")
	fl.BoolVar(&defaults, "defaults", false, "accept the defaults instead of asking")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

// update sends an updated configuration, push or pull as it is.
func (s *session) update(st jetstream.Stream, cfg jetstream.ConsumerConfig) (*jetstream.ConsumerInfo, error) {
	if cfg.DeliverSubject != "" {
		c, err := st.UpdatePushConsumer(s.ctx, cfg)
		if err != nil {
			return nil, err
		}
		return c.CachedInfo(), nil
	}
	c, err := st.UpdateConsumer(s.ctx, cfg)
	if err != nil {
		return nil, err
	}
	return c.CachedInfo(), nil
}

func newEdit(f *cmdutil.Factory) *cobra.Command {
	var (
		cf                    configFlags
		file                  string
		force, dryRun, asJSON bool
	)
	cmd := &cobra.Command{
		Use:     "edit [STREAM] [CONSUMER]",
		Aliases: []string{"update"},
		Short:   "Change a consumer's configuration",
		Long: `Change the fields of a consumer's configuration the server allows to
change, with the flags of 'consumer add' or a --config FILE. The
difference is shown and confirmed on a terminal; elsewhere --force is
needed. --dry-run shows the difference and changes nothing.`,
		Args: cmdutil.RangeArgs(0, 2, "STREAM", "CONSUMER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			stream, name := argOr(args, 0), argOr(args, 1)
			if file == "" && !cf.anySet() {
				return cmdutil.FlagErrorf("nothing to change: give --config FILE or configuration flags; see 'sluice consumer edit --help'")
			}
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			st, info, err := s.consumer(&stream, &name)
			if err != nil {
				return err
			}
			old := info.Config
			cfg := old
			if file != "" {
				cfg = jetstream.ConsumerConfig{}
				if err := loadConfig(file, &cfg); err != nil {
					return err
				}
				cfg.Name, cfg.Durable = old.Name, old.Durable
			}
			if err := cf.apply(&cfg); err != nil {
				return err
			}
			diff, err := jsutil.Diff(old, cfg)
			if err != nil {
				return err
			}
			if diff == "" {
				fmt.Fprintf(f.IO.ErrOut, "Consumer %s > %s already has this configuration\n", stream, name)
				return nil
			}
			fmt.Fprintf(f.IO.ErrOut, "Differences (-old +new):\n%s", diff)
			if dryRun {
				return nil
			}
			if err := f.ConfirmDestructive(force, fmt.Sprintf("Really edit consumer %s > %s", stream, name)); err != nil {
				return err
			}
			upd, err := s.update(st, cfg)
			if err != nil {
				return jsutil.Err(err, "consumer", name)
			}
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, upd)
			}
			fmt.Fprintf(f.IO.ErrOut, "Consumer %s > %s was updated\n\n", stream, name)
			showInfo(f, upd, false)
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
		Use:     "copy STREAM SOURCE DESTINATION",
		Aliases: []string{"cp"},
		Short:   "Create a consumer with the configuration of another",
		Args:    cmdutil.ExactArgs(3, "STREAM", "SOURCE", "DESTINATION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			stream, src, dst := args[0], args[1], args[2]
			if err := jsutil.ValidName("DESTINATION", dst); err != nil {
				return err
			}
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			st, info, err := s.consumer(&stream, &src)
			if err != nil {
				return err
			}
			cfg := info.Config
			cfg.Name, cfg.Durable = dst, dst
			if err := cf.apply(&cfg); err != nil {
				return err
			}
			var out *jetstream.ConsumerInfo
			if cfg.DeliverSubject != "" {
				c, err := st.CreatePushConsumer(s.ctx, cfg)
				if err != nil {
					return jsutil.Err(err, "consumer", dst)
				}
				out = c.CachedInfo()
			} else {
				c, err := st.CreateConsumer(s.ctx, cfg)
				if err != nil {
					return jsutil.Err(err, "consumer", dst)
				}
				out = c.CachedInfo()
			}
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, out)
			}
			fmt.Fprintf(f.IO.ErrOut, "Consumer %s > %s was created from %s\n\n", stream, dst, src)
			showInfo(f, out, false)
			return nil
		},
	}
	fl := cmd.Flags()
	cf.register(fl, true)
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}
