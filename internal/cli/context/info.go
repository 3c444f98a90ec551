package contextcmd

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/natscontext"
)

// InfoOptions are the inputs of `context info`.
type InfoOptions struct {
	f       *cmdutil.Factory
	Name    string
	JSON    bool
	Connect bool
}

// NewCmdInfo builds `context info`.
func NewCmdInfo(f *cmdutil.Factory, runF func(*InfoOptions) error) *cobra.Command {
	o := &InfoOptions{f: f}
	cmd := &cobra.Command{
		Use:     "info [NAME]",
		Aliases: []string{"show", "view"},
		Short:   "Show a context (the selected one by default)",
		Long: `Show a context: its settings, where its credentials come from and whether
they can be read. Secrets are masked. --json prints the context file's
fields as stored (secrets included) with its name.`,
		Args:              cmdutil.RangeArgs(0, 1, "NAME"),
		ValidArgsFunction: completeNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.Name = args[0]
			}
			if runF != nil {
				return runF(o)
			}
			return runInfo(o)
		},
	}
	cmdutil.AddJSONFlag(cmd, &o.JSON)
	cmd.Flags().BoolVar(&o.Connect, "connect", false, "also try to connect with the context")
	return cmd
}

func runInfo(o *InfoOptions) error {
	f := o.f
	store, err := f.Contexts()
	if err != nil {
		return err
	}
	name, err := nameOrSelected(f, store, o.Name, "info")
	if err != nil {
		return err
	}
	c, err := loadNamed(store, name)
	if err != nil {
		return err
	}
	if o.JSON {
		return cmdutil.WriteJSON(f.IO.Out, c)
	}
	sel, _ := store.Selected()
	title := fmt.Sprintf("Context %q", c.Name)
	if sel == c.Name {
		title += " (selected)"
	}
	kv := cmdutil.NewKV(title)
	kv.AddIf("Description", c.Description)
	kv.Add("Server URLs", redactURL(c.ServerURL()))
	kv.AddIf("SOCKS5 Proxy", c.SocksProxy)
	kv.Add("Authentication", c.AuthMethod())
	kv.AddIf("Username", c.User)
	checks := map[string]natscontext.CredentialStatus{}
	for _, st := range c.Check(os.Getenv) {
		checks[st.Field] = st
	}
	secret := func(label, field, v string) {
		if v == "" {
			return
		}
		st := checks[field]
		if st.Source == "literal" {
			kv.Add(label, strings.Repeat("*", min(len(v), 8)))
			return
		}
		kv.Add(label, describeRef(v, st))
	}
	secret("Password", "password", c.Password)
	secret("Token", "token", c.Token)
	secret("Credentials", "creds", c.Creds)
	secret("NKey", "nkey", c.NKey)
	secret("User JWT", "user_jwt", c.UserJWT)
	secret("User Seed", "user_seed", c.UserSeed)
	kv.AddIf("NSC Lookup", c.NSC)
	for _, t := range []struct{ label, field, v string }{
		{"Certificate", "cert", c.Cert}, {"Key", "key", c.Key}, {"CA", "ca", c.CA},
	} {
		if t.v != "" {
			kv.Add(t.label, describeRef(t.v, checks[t.field]))
		}
	}
	if c.TLSFirst {
		kv.Add("TLS First", "yes")
	}
	if c.WindowsCertStore != "" {
		kv.Add("Cert Store", fmt.Sprintf("%s, match %s %q", c.WindowsCertStore, c.WindowsCertMatchBy, c.WindowsCertMatch))
	}
	kv.AddIf("JS Domain", c.JSDomain)
	kv.AddIf("JS API Prefix", c.JSAPIPrefix)
	kv.AddIf("JS Event Prefix", c.JSEventPrefix)
	kv.AddIf("Inbox Prefix", c.InboxPrefix)
	kv.AddIf("Color Scheme", c.ColorScheme)
	kv.Add("Path", c.Path())
	var connErr error
	if o.Connect {
		connErr = checkConnection(f, c, func(ok string) { kv.Add("Connection", ok) })
		if connErr != nil {
			kv.Add("Connection", "FAILED: "+connErr.Error())
		}
	}
	kv.Write(f.IO.Out)
	warnOverrides(f)
	if connErr != nil {
		return &cmdutil.SilentError{Code: cmdutil.ExitCode(connErr)}
	}
	return nil
}

// describeRef shows where a credential comes from and whether it can be
// read, without showing embedded or literal secrets.
func describeRef(ref string, st natscontext.CredentialStatus) string {
	state := "OK"
	if !st.OK {
		state = "ERROR"
	}
	switch st.Source {
	case "embedded":
		return "embedded in the context (" + state + ")"
	case "environment":
		if st.OK {
			return "$" + st.Detail + " (OK)"
		}
		return st.Detail + " (ERROR)"
	case "file":
		if st.OK {
			return st.Detail + " (OK)"
		}
		return st.Detail + " (ERROR)"
	}
	if st.Detail != "" {
		return ref + " (" + state + ": " + st.Detail + ")"
	}
	return ref + " (" + state + ")"
}

// checkConnection connects with c as stored and reports the server.
func checkConnection(f *cmdutil.Factory, c *natscontext.Context, ok func(string)) error {
	nc, err := f.DialStored(c)
	if err != nil {
		return err
	}
	defer nc.Close()
	rtt, err := nc.RTT()
	if err != nil {
		return err
	}
	name := nc.ConnectedServerName()
	if name == "" {
		name = nc.ConnectedServerId()
	}
	ok(fmt.Sprintf("OK: %s (server %s, version %s, rtt %s)", nc.ConnectedUrlRedacted(), name, nc.ConnectedServerVersion(), cmdutil.Duration(rtt)))
	return nil
}

// warnOverrides tells the user, on stderr, which NATS_* variables will
// override stored contexts in client commands.
func warnOverrides(f *cmdutil.Factory) {
	var set []string
	for _, k := range []string{cmdutil.KeyServer, cmdutil.KeyUser, cmdutil.KeyPassword, cmdutil.KeyToken,
		cmdutil.KeyCreds, cmdutil.KeyNKey, cmdutil.KeyJWT, cmdutil.KeySeed,
		cmdutil.KeyTLSCert, cmdutil.KeyTLSKey, cmdutil.KeyTLSCA, cmdutil.KeyTimeout} {
		if env := cmdutil.EnvVar(k); env != "" && os.Getenv(env) != "" {
			set = append(set, "$"+env)
		}
	}
	if len(set) > 0 {
		fmt.Fprintf(f.IO.ErrOut, "\nNote: %s set in the environment override these settings in client commands\n", strings.Join(set, ", "))
	}
}
