package authcmd

import (
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

type expiration struct {
	Entity    string `json:"entity"`
	Name      string `json:"name"`
	Account   string `json:"account,omitempty"`
	PublicKey string `json:"public_key"`
	Expires   int64  `json:"expires"`
	Status    string `json:"status"`
	Creds     string `json:"creds,omitempty"`
}

// NewCmdExpirations builds `auth expirations`.
func NewCmdExpirations(f *cmdutil.Factory) *cobra.Command {
	var operator, within string
	var asJSON, skip bool
	cmd := &cobra.Command{
		Use:   "expirations",
		Short: "List the operator, accounts and users that have expired or expire soon",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			limit, err := authutil.ParseDate("within", within, now)
			if err != nil {
				return &cmdutil.UsageError{Err: err}
			}
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			op, oc, err := st.Operator(operator)
			if err != nil {
				return err
			}
			var list []expiration
			add := func(e expiration) {
				switch {
				case e.Expires == 0:
					e.Status = "never expires"
				case e.Expires <= now.Unix():
					e.Status = "expired"
				case e.Expires <= limit:
					e.Status = "expires soon"
				default:
					e.Status = "ok"
				}
				if skip && (e.Status == "ok" || e.Status == "never expires") {
					return
				}
				list = append(list, e)
			}
			add(expiration{Entity: "operator", Name: op.Name, PublicKey: oc.Subject, Expires: oc.Expires})
			accs, _ := op.Accounts()
			for _, a := range accs {
				ac, _, err := op.Account(a)
				if err != nil {
					return err
				}
				add(expiration{Entity: "account", Name: a, PublicKey: ac.Subject, Expires: ac.Expires})
				users, _ := op.Users(a)
				for _, u := range users {
					uc, _, err := op.User(a, u)
					if err != nil {
						return err
					}
					add(expiration{Entity: "user", Name: u, Account: a, PublicKey: uc.Subject, Expires: uc.Expires,
						Creds: st.Env.Keys.CredsPath(op.Name, a, u)})
				}
			}
			sort.SliceStable(list, func(i, j int) bool { return rank(list[i]) < rank(list[j]) })
			if asJSON {
				if list == nil {
					list = []expiration{}
				}
				return cmdutil.WriteJSON(f.IO.Out, list)
			}
			t := cmdutil.NewTable(f.IO, "Expirations")
			t.AddHeader("Entity", "Name", "Account", "Expires", "Status")
			for _, e := range list {
				t.AddRow(e.Entity, e.Name, e.Account, authutil.UnixDate(e.Expires), e.Status)
			}
			t.Render()
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&operator, "operator", "o", "", "operator (default: the current one)")
	fl.StringVarP(&within, "within", "e", "1w", "what counts as soon: a duration like 1w, 30d")
	fl.BoolVar(&skip, "skip", false, "leave out what is not expired or expiring soon")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func rank(e expiration) int {
	switch e.Status {
	case "expired":
		return 0
	case "expires soon":
		return 1
	case "ok":
		return 2
	}
	return 3
}
