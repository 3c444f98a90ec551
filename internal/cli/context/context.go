package contextcmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/natscontext"
)

const contextLong = `Manage stored connection contexts.

A context is a named set of connection settings: server URLs, credentials,
TLS files, JetStream domain. The selected context is used by every client
command unless --context, --no-context, flags or NATS_* variables say
otherwise.

Contexts are natscli's files, in $XDG_CONFIG_HOME/nats/context/NAME.json
(~/.config/nats/context when XDG_CONFIG_HOME is unset); the selection is in
nats/context.txt. Contexts made with 'nats context' work here, and the other
way round.

Credential settings (--creds, --nkey, --jwt, --seed, --token, --password)
may be given as:

  /path/to/file, ~/file        read from a file
  file:///path/to/file         the same
  env://NAME                   read from environment variable NAME
  data:;base64,PAYLOAD         embedded in the context (see --embed)`

// New returns the `context` command and its verbs.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "context",
		Aliases: []string{"ctx"},
		Short:   "Manage stored connection contexts",
		Long:    contextLong,
		// cobra does not route "-" to a subcommand alias, so natscli's
		// `context -` (switch to the previous context) is handled here.
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				return cmd.Help()
			case len(args) == 1 && args[0] == "-":
				return runPrevious(&PreviousOptions{f: f})
			}
			return cmdutil.FlagErrorf("unknown command %q for %q; see 'sluice context --help'", args[0], cmd.CommandPath())
		},
	}
	cmd.AddCommand(
		NewCmdAdd(f, nil),
		NewCmdCopy(f, nil),
		NewCmdEdit(f, nil),
		NewCmdInfo(f, nil),
		NewCmdLs(f, nil),
		NewCmdPrevious(f, nil),
		NewCmdRm(f, nil),
		NewCmdSelect(f, nil),
		NewCmdUnselect(f, nil),
		NewCmdValidate(f, nil),
	)
	return cmd
}

// completeNames completes context names for the first argument.
func completeNames(f *cmdutil.Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		store, err := f.Contexts()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		names, _ := store.List()
		var out []string
		for _, n := range names {
			if strings.HasPrefix(n, prefix) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// loadNamed loads a context by name with errors that say what to do.
func loadNamed(store *natscontext.Store, name string) (*natscontext.Context, error) {
	c, err := store.Load(name)
	switch {
	case errors.Is(err, natscontext.ErrNotFound):
		return nil, cmdutil.NotFound("context", name, "list contexts with 'sluice context ls'")
	case errors.Is(err, natscontext.ErrInvalidName):
		return nil, &cmdutil.UsageError{Err: err}
	}
	return c, err
}

// nameOrSelected returns name, or else the selected context, or else
// asks on a terminal which one to use.
func nameOrSelected(f *cmdutil.Factory, store *natscontext.Store, name, verb string) (string, error) {
	if name != "" {
		return name, nil
	}
	sel, err := store.Selected()
	if err != nil || sel != "" {
		return sel, err
	}
	return pickContext(f, store, fmt.Sprintf("Context to %s:", verb),
		fmt.Sprintf("no context is selected; name one: sluice context %s NAME", verb))
}

// pickContext asks which context to use on a terminal, or fails with
// usage when it cannot ask.
func pickContext(f *cmdutil.Factory, store *natscontext.Store, question, usage string) (string, error) {
	names, err := store.List()
	if err != nil {
		return "", err
	}
	if len(names) == 0 {
		return "", cmdutil.WithHint(cmdutil.ExitNotFound, errors.New("there are no contexts"),
			"create one with 'sluice context add NAME --server URL'")
	}
	p := f.Prompt()
	if p == nil {
		return "", cmdutil.FlagErrorf("%s", usage)
	}
	sel, _ := store.Selected()
	i, err := p.Select(question, names, sel)
	if err != nil {
		return "", err
	}
	return names[i], nil
}

// redactURL hides passwords and tokens in server URLs.
func redactURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		scheme, rest, ok := strings.Cut(p, "://")
		if !ok {
			continue
		}
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			user, _, hasPW := strings.Cut(rest[:at], ":")
			if hasPW {
				parts[i] = scheme + "://" + user + ":xxxxx@" + rest[at+1:]
			} else {
				parts[i] = scheme + "://xxxxx@" + rest[at+1:]
			}
		}
	}
	return strings.Join(parts, ",")
}
