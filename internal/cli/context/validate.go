package contextcmd

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/natscontext"
)

// ValidateOptions are the inputs of `context validate`.
type ValidateOptions struct {
	f         *cmdutil.Factory
	Names     []string
	JSON      bool
	NoConnect bool
}

// ValidateResult is one context's report; --json prints a list of them.
type ValidateResult struct {
	Name        string                         `json:"name"`
	Path        string                         `json:"path,omitempty"`
	Valid       bool                           `json:"valid"`
	Errors      []string                       `json:"errors,omitempty"`
	Credentials []natscontext.CredentialStatus `json:"credentials,omitempty"`
	Connection  *ConnectionResult              `json:"connection,omitempty"`
}

// ConnectionResult is the outcome of connecting with a context.
type ConnectionResult struct {
	OK      bool          `json:"ok"`
	URL     string        `json:"url,omitempty"`
	Server  string        `json:"server_name,omitempty"`
	Version string        `json:"server_version,omitempty"`
	RTT     time.Duration `json:"rtt_ns,omitempty"`
	Error   string        `json:"error,omitempty"`
}

// NewCmdValidate builds `context validate`.
func NewCmdValidate(f *cmdutil.Factory, runF func(*ValidateOptions) error) *cobra.Command {
	o := &ValidateOptions{f: f}
	cmd := &cobra.Command{
		Use:   "validate [NAME...]",
		Short: "Check contexts: settings, credential files, and a connection",
		Long: `Check the named contexts, or all of them: that their settings fit
together, that the credential and TLS files they name can be read, and that
a connection with them succeeds (unless --no-connect). Each connection
attempt waits at most --timeout. Exits non-zero when any check fails.`,
		Example: `  sluice context validate
  sluice context validate prod --json`,
		ValidArgsFunction: completeNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Names = args
			if runF != nil {
				return runF(o)
			}
			return runValidate(o)
		},
	}
	cmdutil.AddJSONFlag(cmd, &o.JSON)
	cmd.Flags().BoolVar(&o.NoConnect, "no-connect", false, "check files and settings only")
	return cmd
}

func runValidate(o *ValidateOptions) error {
	f := o.f
	store, err := f.Contexts()
	if err != nil {
		return err
	}
	names := o.Names
	if len(names) == 0 {
		if names, err = store.List(); err != nil {
			return err
		}
		if len(names) == 0 {
			return cmdutil.WithHint(cmdutil.ExitNotFound, errors.New("there are no contexts to validate"),
				"create one with 'sluice context add NAME --server URL'")
		}
	}
	results := make([]ValidateResult, 0, len(names))
	failed := 0
	for _, n := range names {
		r := validateOne(f, store, n, !o.NoConnect)
		if !r.Valid {
			failed++
		}
		results = append(results, r)
	}
	if o.JSON {
		if err := cmdutil.WriteJSON(f.IO.Out, results); err != nil {
			return err
		}
	} else {
		renderValidate(f, results, !o.NoConnect)
	}
	if failed > 0 {
		return &cmdutil.Error{Code: cmdutil.ExitError, Err: fmt.Errorf("%d of %d context(s) failed validation", failed, len(results))}
	}
	return nil
}

func validateOne(f *cmdutil.Factory, store *natscontext.Store, name string, connect bool) ValidateResult {
	r := ValidateResult{Name: name}
	c, err := store.Load(name)
	if err != nil {
		if errors.Is(err, natscontext.ErrNotFound) {
			err = fmt.Errorf("context %q not found", name)
		}
		r.Errors = append(r.Errors, err.Error())
		return r
	}
	r.Path = c.Path()
	if err := c.Validate(); err != nil {
		r.Errors = append(r.Errors, err.Error())
	}
	r.Credentials = c.Check(os.Getenv)
	for _, st := range r.Credentials {
		if !st.OK {
			r.Errors = append(r.Errors, fmt.Sprintf("%s: %s", st.Field, st.Detail))
		}
	}
	if connect {
		cr := &ConnectionResult{}
		nc, err := f.DialStored(c)
		if err == nil {
			cr.RTT, err = nc.RTT()
			cr.OK = err == nil
			cr.URL, cr.Server, cr.Version = nc.ConnectedUrlRedacted(), nc.ConnectedServerName(), nc.ConnectedServerVersion()
			nc.Close()
		}
		if err != nil {
			cr.Error = err.Error()
			r.Errors = append(r.Errors, err.Error())
		}
		r.Connection = cr
	}
	r.Valid = len(r.Errors) == 0
	return r
}

func renderValidate(f *cmdutil.Factory, results []ValidateResult, connect bool) {
	t := cmdutil.NewTable(f.IO, "Context Validation")
	hdr := []any{"Context", "Settings", "Credentials"}
	if connect {
		hdr = append(hdr, "Connection")
	}
	t.AddHeader(hdr...)
	for _, r := range results {
		settings, creds := "OK", "OK"
		bad := 0
		for _, st := range r.Credentials {
			if !st.OK {
				bad++
			}
		}
		if bad > 0 {
			creds = fmt.Sprintf("%d problem(s)", bad)
		}
		if len(r.Credentials) == 0 {
			creds = "none"
		}
		if r.Path == "" || len(r.Errors) > bad+connErrors(r) {
			settings = "ERROR"
		}
		row := []any{r.Name, settings, creds}
		if connect {
			switch {
			case r.Connection == nil:
				row = append(row, "not tried")
			case r.Connection.OK:
				row = append(row, fmt.Sprintf("OK %s (%s)", r.Connection.URL, cmdutil.Duration(r.Connection.RTT)))
			default:
				row = append(row, "FAILED")
			}
		}
		t.AddRow(row...)
	}
	t.Render()
	for _, r := range results {
		for _, e := range r.Errors {
			fmt.Fprintf(f.IO.Out, "%s: %s\n", r.Name, e)
		}
	}
}

func connErrors(r ValidateResult) int {
	if r.Connection != nil && !r.Connection.OK {
		return 1
	}
	return 0
}
