package requestcmd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/sysreq"
	"github.com/sluicehq/sluice/pkg/api"
)

// profiles are the runtime profiles servers can take.
var profiles = []string{"allocs", "heap", "goroutine", "mutex", "threadcreate", "block", "cpu"}

// profileRequest is the body of PROFILEZ.
type profileRequest struct {
	Name     string        `json:"name"`
	Debug    int           `json:"debug"`
	Duration time.Duration `json:"duration,omitempty"`
}

func newProfile(c *Common) *cobra.Command {
	var level int
	cmd := &cobra.Command{
		Use:     "profile PROFILE [DIR]",
		Aliases: []string{"profilez"},
		Short:   "Take a runtime profile of servers and save it (PROFILEZ)",
		Long: `Ask servers for a Go runtime profile and write each to a file in DIR
(default: the current directory) named PROFILE-DATE-TIME-SERVER.

PROFILE is one of ` + strings.Join(profiles, ", ") + `. A cpu profile runs
for --timeout; the answers are awaited two seconds longer.`,
		Example: `  sluice server request profile heap ./profiles
  sluice server request profile cpu --timeout 30s --name n1`,
		Args: cmdutil.RangeArgs(1, 2, "PROFILE", "DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, dir := args[0], "."
			if len(args) > 1 {
				dir = args[1]
			}
			if !slices.Contains(profiles, name) {
				return cmdutil.FlagErrorf("PROFILE must be one of %s, not %q", strings.Join(profiles, ", "), name)
			}
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return cmdutil.FlagErrorf("DIR %q is not a directory", dir)
			}
			req := profileRequest{Name: name, Debug: level}
			if name == "cpu" {
				req.Duration = c.f.Timeout()
				c.extraWait = 2 * time.Second
			}
			body, err := with(req, c)
			if err != nil {
				return err
			}
			return c.saveProfiles(cmd, body, name, dir)
		},
	}
	cmd.Flags().IntVar(&level, "level", 0, "the profile's debug `LEVEL`")
	return cmd
}

func (c *Common) saveProfiles(cmd *cobra.Command, body []byte, name, dir string) error {
	io := c.f.IO
	prefix := filepath.Join(dir, fmt.Sprintf("%s-%s-", name, time.Now().Format("20060102-150405")))
	failed, total := 0, 0
	_, err := c.Gather(cmd.Context(), "PROFILEZ", body, func(raw []byte) error {
		total++
		var r sysreq.Response[api.ProfilezStatus]
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("cannot decode a PROFILEZ answer: %w", err)
		}
		who := "?"
		if r.Server != nil {
			who = r.Server.Name
		}
		switch {
		case r.Error != nil:
			err := sysreq.APIError(r.Server, r.Error)
			fmt.Fprintf(io.ErrOut, "sluice: %v\n", err)
			failed++
			return nil
		case r.Data == nil || r.Data.Error != "":
			msg := "no profile in the answer"
			if r.Data != nil {
				msg = r.Data.Error
			}
			fmt.Fprintf(io.ErrOut, "sluice: server %s: %s\n", who, msg)
			failed++
			return nil
		}
		file := prefix + safeName(who)
		if err := os.WriteFile(file, r.Data.Profile, 0o600); err != nil {
			return fmt.Errorf("cannot save the profile of %s: %w", who, err)
		}
		fmt.Fprintf(io.Out, "Server %q profile written: %s\n", who, file)
		return nil
	})
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d servers gave no %s profile", failed, total, name)
	}
	return nil
}

// safeName keeps a server name usable in a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == os.PathSeparator || r < ' ' {
			return '_'
		}
		return r
	}, s)
}
