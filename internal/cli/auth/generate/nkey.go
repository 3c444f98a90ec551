package generate

import (
	"fmt"

	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func newNKey(f *cmdutil.Factory) *cobra.Command {
	var op, acc, user, server, cluster, curve, store, asJSON bool
	cmd := &cobra.Command{
		Use:   "nkey",
		Short: "Generate an nkey: its seed and public key",
		Long: `Generate an nkey of the kind asked and print its seed and public key,
or with --store keep the seed in the keystore and print only the public key.`,
		Example: `  sluice auth generate nkey --user
  sluice auth generate nkey --account --store`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n := 0
			var create func() (nkeys.KeyPair, error)
			for _, k := range []struct {
				on bool
				fn func() (nkeys.KeyPair, error)
			}{{op, nkeys.CreateOperator}, {acc, nkeys.CreateAccount}, {user, nkeys.CreateUser},
				{server, nkeys.CreateServer}, {cluster, nkeys.CreateCluster}, {curve, nkeys.CreateCurveKeys}} {
				if k.on {
					n++
					create = k.fn
				}
			}
			if n != 1 {
				return cmdutil.FlagErrorf("say which kind of key: one of --operator, --account, --user, --server, --cluster, --curve")
			}
			kp, err := create()
			if err != nil {
				return err
			}
			pub, _ := kp.PublicKey()
			seed, _ := kp.Seed()
			if store {
				st, err := authutil.Open(f, cmd)
				if err != nil {
					return err
				}
				path, err := st.Env.Keys.Store(kp)
				if err != nil {
					return err
				}
				if asJSON {
					return cmdutil.WriteJSON(f.IO.Out, map[string]string{"public_key": pub, "key_path": path})
				}
				fmt.Fprintln(f.IO.Out, pub)
				fmt.Fprintf(f.IO.ErrOut, "Stored the seed in %s\n", path)
				return nil
			}
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, map[string]string{"public_key": pub, "seed": string(seed)})
			}
			fmt.Fprintf(f.IO.Out, "%s\n%s\n", seed, pub)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&op, "operator", "o", false, "an operator key")
	fl.BoolVarP(&acc, "account", "a", false, "an account key")
	fl.BoolVarP(&user, "user", "u", false, "a user key")
	fl.BoolVar(&server, "server", false, "a server key")
	fl.BoolVar(&cluster, "cluster", false, "a cluster key")
	fl.BoolVar(&curve, "curve", false, "a curve (xkey) key, for encryption")
	fl.BoolVarP(&store, "store", "S", false, "keep the seed in the keystore and print only the public key")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}
