package streamcmd

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
)

// New builds `sluice stream` and its verbs.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "stream",
		Aliases: []string{"str", "st"},
		Short:   "Manage JetStream streams",
		Long: `Create, inspect, change and remove JetStream streams, and read, purge and
back up their messages. The verbs and flags are natscli's ('nats stream'),
and work against sluice and nats-server alike.

Commands that change or remove data ask first on a terminal; elsewhere
they need --force.`,
	}
	cmdutil.MakeGroup(cmd)
	cmd.PersistentFlags().BoolP("all", "a", false, "list KV, object store and MQTT streams too")
	cmd.AddCommand(
		newAdd(f), newEdit(f), newInfo(f), newState(f), newLs(f), newReport(f), newFind(f),
		newRm(f), newPurge(f), newCopy(f), newSeal(f),
		newSubjects(f), newGet(f), newRmm(f), newView(f),
		newBackup(f), newRestore(f), newCluster(f),
	)
	return cmd
}

// session is what most verbs start from: the JetStream client and a
// context bounding the work.
type session struct {
	f   *cmdutil.Factory
	js  jetstream.JetStream
	ctx context.Context
	// all lists the streams behind KV, object store and MQTT too.
	all bool
}

// hidden reports whether a listing leaves the stream out.
func (s *session) hidden(name string) bool { return !s.all && jsutil.IsInternalStream(name) }

func open(cmd *cobra.Command, f *cmdutil.Factory) (*session, context.CancelFunc, error) {
	js, err := jsutil.New(f)
	if err != nil {
		return nil, func() {}, err
	}
	ctx, cancel := jsutil.Ctx(cmd.Context(), f)
	all := false
	if fl := cmd.Flag("all"); fl != nil && fl.Value.String() == "true" {
		all = true
	}
	return &session{f: f, js: js, ctx: ctx, all: all}, cancel, nil
}

// stream looks a stream up, picking one on a terminal when name is empty.
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

func argOr(args []string, i int) string {
	if len(args) > i {
		return args[i]
	}
	return ""
}

func addForce(cmd *cobra.Command, force *bool, what string) {
	cmd.Flags().BoolVarP(force, "force", "f", false, what+" without asking")
}

func printf(f *cmdutil.Factory, format string, args ...any) {
	fmt.Fprintf(f.IO.Out, format, args...)
}
