// Package list is `sluice auth list`: keys, operators, accounts, users.
package list

import (
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// New returns `auth list` and its objects.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List keys, operators, accounts or users",
	}
	cmd.AddCommand(newOperators(f), newAccounts(f), newUsers(f), newKeys(f))
	return cmd
}

type entity struct {
	Name      string `json:"name"`
	PublicKey string `json:"public_key"`
	Current   bool   `json:"current,omitempty"`
	Error     string `json:"error,omitempty"`
}

func write(f *cmdutil.Factory, title string, asJSON bool, items []entity) error {
	if asJSON {
		if items == nil {
			items = []entity{}
		}
		return cmdutil.WriteJSON(f.IO.Out, items)
	}
	t := cmdutil.NewTable(f.IO, title)
	t.AddHeader("Name", "Public Key")
	for _, e := range items {
		name, key := e.Name, e.PublicKey
		if e.Current {
			name += " *"
		}
		if e.Error != "" {
			key = "error: " + e.Error
		}
		t.AddRow(name, key)
	}
	t.Render()
	return nil
}
