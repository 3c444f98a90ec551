package streamcmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
)

func newCluster(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "cluster",
		Aliases: []string{"c"},
		Short:   "Manage a clustered stream",
	}
	cmdutil.MakeGroup(cmd)
	cmd.AddCommand(newStepDown(f))
	return cmd
}

// apiResponse is the envelope of every JetStream API answer.
type apiResponse struct {
	Type    string `json:"type"`
	Success bool   `json:"success"`
	Error   *struct {
		Code        int    `json:"code"`
		ErrCode     int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error,omitempty"`
}

// StepDownRequest is the body of a leader step-down request.
type StepDownRequest struct {
	Placement *struct {
		Preferred string `json:"preferred,omitempty"`
	} `json:"placement,omitempty"`
}

// Request sends a JetStream API request on subject (after the prefix)
// and returns the raw answer, an error when it reports one.
func Request(cmd *cobra.Command, f *cmdutil.Factory, subject string, body any) ([]byte, error) {
	nc, err := f.Conn()
	if err != nil {
		return nil, err
	}
	var data []byte
	if body != nil {
		if data, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	ctx, cancel := jsutil.Ctx(cmd.Context(), f)
	defer cancel()
	m, err := nc.RequestWithContext(ctx, jsutil.APIPrefix(f)+"."+subject, data)
	if err != nil {
		return nil, jsutil.Err(err, "", "")
	}
	var r apiResponse
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return nil, fmt.Errorf("the server's answer is not JSON: %w", err)
	}
	if r.Error != nil {
		e := fmt.Errorf("the server refused: %s (error %d)", r.Error.Description, r.Error.ErrCode)
		if r.Error.Code == 404 {
			return nil, &cmdutil.Error{Code: cmdutil.ExitNotFound, Err: e}
		}
		return nil, e
	}
	return m.Data, nil
}

func newStepDown(f *cmdutil.Factory) *cobra.Command {
	var preferred string
	var force bool
	cmd := &cobra.Command{
		Use:     "step-down [STREAM]",
		Aliases: []string{"stepdown", "sd", "elect"},
		Short:   "Make a stream's leader step down, so that another is elected",
		Long: `Ask the leader of a replicated stream to step down; the remaining replicas
elect a new one (--preferred names the server you would like). Only
streams with more than one replica have leaders to change.`,
		Args: cmdutil.RangeArgs(0, 1, "STREAM"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := argOr(args, 0)
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			st, err := s.stream(&name)
			if err != nil {
				return err
			}
			info := st.CachedInfo()
			if !force && (info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) == 0) {
				return errors.New("stream " + name + " is not replicated: it has no leader to change")
			}
			old := info.Cluster.Leader
			var body *StepDownRequest
			if preferred != "" {
				body = &StepDownRequest{}
				body.Placement = &struct {
					Preferred string `json:"preferred,omitempty"`
				}{preferred}
			}
			if _, err := Request(cmd, f, "STREAM.LEADER.STEPDOWN."+name, body); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "Requested a new leader for stream %s (was %s)\n", name, old)
			deadline := time.Now().Add(max(f.Timeout(), 10*time.Second))
			for time.Now().Before(deadline) {
				ctx, cancel := jsutil.Ctx(cmd.Context(), f)
				i, err := st.Info(ctx)
				cancel()
				if err == nil && i.Cluster != nil && i.Cluster.Leader != "" && i.Cluster.Leader != old {
					printf(f, "New leader of stream %s: %s\n", name, i.Cluster.Leader)
					return nil
				}
				time.Sleep(50 * time.Millisecond)
			}
			return &cmdutil.Error{Code: cmdutil.ExitTimeout, Err: fmt.Errorf("no new leader for stream %s within %s", name, f.Timeout())}
		},
	}
	cmd.Flags().StringVar(&preferred, "preferred", "", "prefer `SERVER` as the new leader")
	addForce(cmd, &force, "ask")
	return cmd
}
