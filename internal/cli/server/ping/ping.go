// Package pingcmd implements `sluice server ping`: the round trip to every
// server of the cluster, as each answers, and a summary.
package pingcmd

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/sysreq"
)

// Options are the inputs of `server ping`.
type Options struct {
	f *cmdutil.Factory

	Expect int
	ShowID bool
	JSON   bool
}

// Result is what --json prints.
type Result struct {
	Servers []ServerRTT `json:"servers"`
	Replies int         `json:"replies"`
	// Expected is the number of servers waited for (0: unknown).
	Expected int           `json:"expected"`
	Min      time.Duration `json:"min_ns"`
	Max      time.Duration `json:"max_ns"`
	Avg      time.Duration `json:"avg_ns"`
}

// ServerRTT is one server's answer.
type ServerRTT struct {
	Name string        `json:"name"`
	ID   string        `json:"id"`
	RTT  time.Duration `json:"rtt_ns"`
}

// New builds `server ping`.
func New(f *cmdutil.Factory) *cobra.Command { return NewCmd(f, nil) }

// NewCmd builds `server ping` with an optional run function for tests.
func NewCmd(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	o := &Options{f: f}
	cmd := &cobra.Command{
		Use:   "ping [EXPECTED]",
		Short: "Ping every server and show the round-trip times",
		Long: `Send $SYS.REQ.SERVER.PING and print each server as it answers, with the
time its answer took, then a summary. Answers are awaited until EXPECTED
servers answered, or as many as the first answer says are active, or
until --timeout. Fewer answers than expected is a failure (exit status 5).

Needs a user of the system account.`,
		Example: `  sluice server ping
  sluice server ping 3 --id`,
		Args: cmdutil.RangeArgs(0, 1, "EXPECTED"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				n, err := strconv.Atoi(args[0])
				if err != nil || n < 1 {
					return cmdutil.FlagErrorf("EXPECTED must be a positive number of servers, not %q", args[0])
				}
				o.Expect = n
			}
			if runF != nil {
				return runF(o)
			}
			return run(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.ShowID, "id", false, "show the server ids too")
	cmdutil.AddJSONFlag(cmd, &o.JSON)
	return cmd
}

func run(ctx context.Context, o *Options) error {
	f := o.f
	nc, err := f.Conn()
	if err != nil {
		return err
	}
	res := Result{Servers: []ServerRTT{}, Expected: o.Expect}
	timeout := f.Timeout()
	learn := sysreq.ActiveServers
	if o.Expect > 0 {
		learn = nil
	}
	first := true
	_, err = sysreq.Stream(ctx, nc, sysreq.Request{Subject: sysreq.PingSubject, Expect: o.Expect, Timeout: timeout, Learn: learn},
		func(r sysreq.Reply) error {
			var s sysreq.StatsMsg
			if err := decode(r, &s); err != nil {
				return err
			}
			if first && res.Expected == 0 {
				res.Expected = s.Stats.ActiveServers
			}
			first = false
			res.Servers = append(res.Servers, ServerRTT{Name: s.Server.Name, ID: s.Server.ID, RTT: r.RTT})
			if o.JSON {
				return nil
			}
			if o.ShowID {
				fmt.Fprintf(f.IO.Out, "%s %-40s rtt=%s\n", s.Server.ID, s.Server.Name, cmdutil.Duration(r.RTT))
			} else {
				fmt.Fprintf(f.IO.Out, "%-40s rtt=%s\n", s.Server.Name, cmdutil.Duration(r.RTT))
			}
			return nil
		})
	if err != nil {
		return err
	}
	summarize(&res)
	if o.JSON {
		if err := cmdutil.WriteJSON(f.IO.Out, res); err != nil {
			return err
		}
	} else if res.Replies > 0 {
		fmt.Fprintf(f.IO.Out, "\n---- ping statistics ----\n%d replies, rtt min %s, avg %s, max %s\n",
			res.Replies, cmdutil.Duration(res.Min), cmdutil.Duration(res.Avg), cmdutil.Duration(res.Max))
	}
	if res.Replies == 0 {
		return sysreq.NoAnswer(sysreq.PingSubject, timeout)
	}
	if res.Expected > 0 && res.Replies < res.Expected {
		return cmdutil.WithHint(cmdutil.ExitTimeout, fmt.Errorf("%d of %d expected servers answered within %s", res.Replies, res.Expected, timeout),
			"check the missing servers, or raise --timeout")
	}
	return nil
}

func decode(r sysreq.Reply, s *sysreq.StatsMsg) error {
	if err := json.Unmarshal(r.Msg.Data, s); err != nil {
		return fmt.Errorf("cannot decode a STATSZ answer: %w", err)
	}
	return nil
}

func summarize(res *Result) {
	res.Replies = len(res.Servers)
	if res.Replies == 0 {
		return
	}
	var sum time.Duration
	res.Min = res.Servers[0].RTT
	for _, s := range res.Servers {
		sum += s.RTT
		res.Min = min(res.Min, s.RTT)
		res.Max = max(res.Max, s.RTT)
	}
	res.Avg = sum / time.Duration(res.Replies)
}
