// Package raftcmd implements `sluice server raft`: the JetStream meta
// group of a cluster, today its leader step-down.
package raftcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
	"github.com/sluicehq/sluice/internal/cli/server/sysreq"
	"github.com/sluicehq/sluice/pkg/api"
)

// New builds `server raft` and its verbs.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "raft",
		Aliases: []string{"cluster"},
		Short:   "Manage the JetStream meta group of a cluster",
	}
	cmdutil.MakeGroup(cmd)
	cmd.AddCommand(newStepDown(f))
	return cmd
}

// placement is where the next leader is wanted.
type placement struct {
	Cluster   string   `json:"cluster,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	Preferred string   `json:"preferred,omitempty"`
}

type stepDownRequest struct {
	Placement *placement `json:"placement,omitempty"`
}

// metaLeader asks every server for its view of the meta group and
// returns the leader's name, "" when there is none (not clustered).
func metaLeader(ctx context.Context, f *cmdutil.Factory, nc *nats.Conn) (string, error) {
	n, err := sysreq.CountServers(ctx, nc, f.Timeout())
	if err != nil {
		return "", err
	}
	replies, err := sysreq.Collect(ctx, nc, sysreq.Request{Subject: sysreq.PingAll("JSZ"), Body: api.JSzOptions{},
		Expect: n, Timeout: f.Timeout()})
	if err != nil {
		return "", err
	}
	for _, r := range replies {
		resp, err := sysreq.Decode[api.JSInfo](r.Msg)
		if err != nil || resp.Data.Meta == nil {
			continue
		}
		if l := resp.Data.Meta.Leader; l != "" && l == resp.Server.Name {
			return l, nil
		}
	}
	return "", nil
}

func newStepDown(f *cmdutil.Factory) *cobra.Command {
	var (
		p     placement
		force bool
	)
	cmd := &cobra.Command{
		Use:     "step-down",
		Aliases: []string{"stepdown", "sd", "elect"},
		Short:   "Make the JetStream meta leader step down, so that another is elected",
		Long: `Ask the leader of the JetStream meta group to step down; the other
servers elect a new one, in --cluster, with --tags or on --host when
given. Needs a user of the system account.`,
		Args: cmdutil.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			nc, err := f.Conn()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			old, err := metaLeader(ctx, f, nc)
			if err != nil {
				return err
			}
			if old == "" && !force {
				return errors.New("no JetStream meta leader answered: the servers are not a JetStream cluster")
			}
			req := stepDownRequest{}
			if p.Cluster != "" || len(p.Tags) > 0 || p.Preferred != "" {
				req.Placement = &p
			}
			body, _ := json.Marshal(req)
			rctx, cancel := jsutil.Ctx(ctx, f)
			m, err := nc.RequestWithContext(rctx, jsutil.APIPrefix(f)+".META.LEADER.STEPDOWN", body)
			cancel()
			if err != nil {
				return jsutil.Err(err, "", "")
			}
			var resp struct {
				Success bool `json:"success"`
				Error   *struct {
					Description string `json:"description"`
					ErrCode     int    `json:"err_code"`
				} `json:"error"`
			}
			if err := json.Unmarshal(m.Data, &resp); err != nil {
				return fmt.Errorf("the answer is not JSON: %w", err)
			}
			if resp.Error != nil {
				return fmt.Errorf("the server refused: %s (error %d)", resp.Error.Description, resp.Error.ErrCode)
			}
			fmt.Fprintf(f.IO.ErrOut, "Requested a new JetStream meta leader (was %s)\n", old)
			deadline := time.Now().Add(max(f.Timeout(), 10*time.Second))
			for time.Now().Before(deadline) {
				if l, err := metaLeader(ctx, f, nc); err == nil && l != "" && l != old {
					fmt.Fprintf(f.IO.Out, "New JetStream meta leader: %s\n", l)
					return nil
				}
				time.Sleep(100 * time.Millisecond)
			}
			return &cmdutil.Error{Code: cmdutil.ExitTimeout, Err: errors.New("no new meta leader was elected in time")}
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&p.Cluster, "cluster", "", "elect the new leader in `CLUSTER`")
	fl.StringSliceVar(&p.Tags, "tags", nil, "elect the new leader among servers with these tags")
	fl.StringVar(&p.Preferred, "host", "", "elect `SERVER` as the new leader")
	fl.BoolVarP(&force, "force", "f", false, "ask even when no meta leader answered")
	return cmd
}
