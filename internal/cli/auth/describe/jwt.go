package describe

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

func newJWT(f *cmdutil.Factory) *cobra.Command {
	var d authutil.DescribeFlags
	var file string
	cmd := &cobra.Command{
		Use:   "jwt [FILE]",
		Short: "Show any JWT: from a file, a creds file or stdin (-)",
		Args:  cmdutil.RangeArgs(0, 1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				file = args[0]
			}
			if file == "" {
				return cmdutil.FlagErrorf("--file is required (or - for stdin)")
			}
			var b []byte
			var err error
			if file == "-" {
				b, err = io.ReadAll(f.IO.In)
			} else {
				b, err = os.ReadFile(file)
			}
			if err != nil {
				return err
			}
			tok := strings.TrimSpace(string(b))
			if t, err := jwt.ParseDecoratedJWT(b); err == nil {
				tok = t
			}
			gc, err := jwt.Decode(tok)
			if err != nil {
				return fmt.Errorf("%s: not a valid JWT: %w", file, err)
			}
			if done, err := d.Write(f.IO.Out, tok); done {
				return err
			}
			switch c := gc.(type) {
			case *jwt.AccountClaims:
				writeAccount(f, c.Name, c)
			case *jwt.UserClaims:
				writeUser(f, "User "+c.Name, c)
			default:
				cd := gc.Claims()
				kv := cmdutil.NewKV(jwtKind(gc.ClaimType()) + " JWT")
				common(kv, cd.Name, cd.Subject, cd, nil)
				kv.Write(f.IO.Out)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the JWT or creds file, - for stdin")
	addFlags(cmd, &d)
	return cmd
}
