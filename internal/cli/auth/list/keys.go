package list

import (
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

type keyRow struct {
	Entity    string `json:"entity"`
	Name      string `json:"name"`
	PublicKey string `json:"public_key"`
	Signing   bool   `json:"signing_key,omitempty"`
	Stored    bool   `json:"stored"`
	Seed      string `json:"seed,omitempty"`
}

func newKeys(f *cmdutil.Factory) *cobra.Command {
	var asJSON, showSeeds, all, unreferenced bool
	var operator, account, user string
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "List the keys of the current operator, its accounts and users",
		Long: `List the keys of the current operator, its accounts and users, and whether
their seeds are in the keystore. Seeds are printed only with --show-seeds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := authutil.Open(f, cmd)
			if err != nil {
				return err
			}
			var rows []keyRow
			ks := st.Env.Keys
			add := func(entity, name, pub string, signing bool) {
				r := keyRow{Entity: entity, Name: name, PublicKey: pub, Signing: signing, Stored: ks.Has(pub)}
				if showSeeds && r.Stored {
					if kp, err := ks.Get(pub); err == nil {
						seed, _ := kp.Seed()
						r.Seed = string(seed)
					}
				}
				rows = append(rows, r)
			}
			if unreferenced {
				return listUnreferenced(f, st, asJSON, showSeeds)
			}
			op, oc, err := st.Operator(operator)
			if err != nil {
				return err
			}
			if account == "" && user == "" || all {
				add("operator", op.Name, oc.Subject, false)
				for _, sk := range oc.SigningKeys {
					add("operator", op.Name, sk, true)
				}
			}
			accs, err := op.Accounts()
			if err != nil {
				return err
			}
			for _, a := range accs {
				if account != "" && a != account {
					continue
				}
				if account == "" && !all && user == "" && a != st.Env.Config.Account {
					continue
				}
				ac, _, err := op.Account(a)
				if err != nil {
					return err
				}
				if user == "" {
					add("account", a, ac.Subject, false)
					for _, sk := range ac.SigningKeys.Keys() {
						add("account", a, sk, true)
					}
				}
				users, _ := op.Users(a)
				for _, u := range users {
					if user != "" && u != user {
						continue
					}
					if uc, _, err := op.User(a, u); err == nil {
						add("user", u, uc.Subject, false)
					}
				}
			}
			return writeKeys(f, asJSON, showSeeds, rows)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&all, "all", "A", false, "every account, not just the current one")
	fl.StringVarP(&operator, "operator", "o", "", "operator (default: the current one)")
	fl.StringVarP(&account, "account", "a", "", "only this account and its users")
	fl.StringVarP(&user, "user", "u", "", "only this user")
	fl.BoolVar(&showSeeds, "show-seeds", false, "print the seeds (secret!)")
	fl.BoolVar(&unreferenced, "not-referenced", false, "list the stored keys that no JWT in the store refers to")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func writeKeys(f *cmdutil.Factory, asJSON, showSeeds bool, rows []keyRow) error {
	if asJSON {
		if rows == nil {
			rows = []keyRow{}
		}
		return cmdutil.WriteJSON(f.IO.Out, rows)
	}
	t := cmdutil.NewTable(f.IO, "Keys")
	if showSeeds {
		t.AddHeader("Entity", "Name", "Key", "Signing", "Stored", "Seed")
	} else {
		t.AddHeader("Entity", "Name", "Key", "Signing", "Stored")
	}
	for _, r := range rows {
		row := []any{r.Entity, r.Name, r.PublicKey, yes(r.Signing), yes(r.Stored)}
		if showSeeds {
			row = append(row, r.Seed)
		}
		t.AddRow(row...)
	}
	t.Render()
	return nil
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

// listUnreferenced lists stored seeds that no operator, account or user
// of any operator refers to.
func listUnreferenced(f *cmdutil.Factory, st *authutil.Store, asJSON, showSeeds bool) error {
	used := map[string]bool{}
	ops, _ := st.Env.Operators()
	for _, n := range ops {
		op, err := st.Env.Operator(n)
		if err != nil {
			continue
		}
		if oc, _, err := op.Claims(); err == nil {
			used[oc.Subject] = true
			for _, k := range oc.SigningKeys {
				used[k] = true
			}
		}
		accs, _ := op.Accounts()
		for _, a := range accs {
			ac, _, err := op.Account(a)
			if err != nil {
				continue
			}
			used[ac.Subject] = true
			for _, k := range ac.SigningKeys.Keys() {
				used[k] = true
			}
			users, _ := op.Users(a)
			for _, u := range users {
				if uc, _, err := op.User(a, u); err == nil {
					used[uc.Subject] = true
				}
			}
		}
	}
	all, err := st.Env.Keys.All()
	if err != nil {
		return err
	}
	var rows []keyRow
	for _, k := range all {
		if used[k] {
			continue
		}
		r := keyRow{Entity: kindOf(k), PublicKey: k, Stored: true}
		if showSeeds {
			if kp, err := st.Env.Keys.Get(k); err == nil {
				s, _ := kp.Seed()
				r.Seed = string(s)
			}
		}
		rows = append(rows, r)
	}
	return writeKeys(f, asJSON, showSeeds, rows)
}

func kindOf(pub string) string {
	if pub == "" {
		return "?"
	}
	switch pub[0] {
	case 'O':
		return "operator"
	case 'A':
		return "account"
	case 'U':
		return "user"
	case 'N':
		return "server"
	case 'C':
		return "cluster"
	case 'X':
		return "curve"
	}
	return "?"
}
