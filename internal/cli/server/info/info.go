// Package infocmd implements `sluice server info`: one server's VARZ as
// a readable summary, or as JSON.
package infocmd

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/sysreq"
	"github.com/sluicehq/sluice/pkg/api"
)

// Options are the inputs of `server info`.
type Options struct {
	f *cmdutil.Factory

	Server string
	JSON   bool
}

// New builds `server info`.
func New(f *cmdutil.Factory) *cobra.Command { return NewCmd(f, nil) }

// NewCmd builds `server info` with an optional run function for tests.
func NewCmd(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	o := &Options{f: f}
	cmd := &cobra.Command{
		Use:     "info [SERVER]",
		Aliases: []string{"i"},
		Short:   "Show the details of one server",
		Long: `Show the version, connection details, limits and statistics of one
server, from its VARZ. SERVER is a server name or id; without it, the
server this command is connected to. A name is first resolved to an id
by pinging every server.

Needs a user of the system account.`,
		Example: `  sluice server info
  sluice server info n1-east
  sluice server info NCKU6O4E4IMB2SPPYZ7F3LUUSSWT6HNL3LPK5AB5ZLYYODEU7TQTK5KL --json`,
		Args: cmdutil.RangeArgs(0, 1, "SERVER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Server = args[0]
			}
			if runF != nil {
				return runF(o)
			}
			return run(cmd.Context(), o)
		},
	}
	cmdutil.AddJSONFlag(cmd, &o.JSON)
	return cmd
}

func run(ctx context.Context, o *Options) error {
	f := o.f
	nc, err := f.Conn()
	if err != nil {
		return err
	}
	timeout := f.Timeout()
	target, err := sysreq.ResolveTarget(ctx, nc, o.Server, timeout)
	if err != nil {
		return err
	}
	raw, varz, err := Fetch(ctx, nc, target.ID, timeout)
	if err != nil {
		return err
	}
	if o.JSON {
		return cmdutil.WriteJSON(f.IO.Out, raw)
	}
	Describe(varz).Write(f.IO.Out)
	return nil
}

// Fetch asks server id for its VARZ and returns the data as sent and
// decoded.
func Fetch(ctx context.Context, nc *nats.Conn, id string, timeout time.Duration) (json.RawMessage, *api.Varz, error) {
	m, err := sysreq.One(ctx, nc, sysreq.ServerSubject(id, "VARZ"), "{}", timeout)
	if err != nil {
		return nil, nil, err
	}
	resp, err := sysreq.Decode[json.RawMessage](m)
	if err != nil {
		return nil, nil, err
	}
	var v api.Varz
	if err := json.Unmarshal(*resp.Data, &v); err != nil {
		return nil, nil, fmt.Errorf("cannot decode the VARZ of %s: %w", id, err)
	}
	return *resp.Data, &v, nil
}

// Describe lays out v for people.
func Describe(v *api.Varz) *sysreq.Sections {
	heading := "Server information for " + v.ID
	if v.Name != "" && v.Name != v.ID {
		heading = fmt.Sprintf("Server information for %s (%s)", v.Name, v.ID)
	}
	s := sysreq.NewSections(heading)

	s.Section("Process Details")
	s.Add("Version", v.Version)
	s.AddIf("Sluice Version", v.SluiceVersion)
	s.AddIf("Git Commit", v.GitCommit)
	s.Add("Go Version", v.GoVersion)
	s.Add("Start Time", stamp(v.Start))
	s.Add("Configuration Load Time", stamp(v.ConfigLoadTime))
	s.AddIf("Configuration Digest", v.ConfigDigest)
	s.Add("Uptime", v.Uptime)

	s.Section("Connection Details")
	s.Add("Auth Required", v.AuthRequired)
	s.Add("TLS Required", v.TLSRequired)
	if v.IP != "" {
		s.Addf("Host", "%s:%d (%s)", v.Host, v.Port, v.IP)
	} else {
		s.Addf("Host", "%s:%d", v.Host, v.Port)
	}
	s.AddList("Client URLs", v.ClientConnectURLs)
	s.AddList("WebSocket URLs", v.WSConnectURLs)

	if js := v.JetStream; js.Config != nil && js.Config.StoreDir != "" {
		s.Section("JetStream")
		s.AddIf("Domain", js.Config.Domain)
		s.Add("Storage Directory", js.Config.StoreDir)
		s.Add("Maximum Memory Storage", cmdutil.IBytes(uint64(max(js.Config.MaxMemory, 0))))
		s.Add("Maximum File Storage", cmdutil.IBytes(uint64(max(js.Config.MaxStore, 0))))
		if js.Config.SyncInterval > 0 {
			s.Add("Always Sync Writes", js.Config.SyncAlways)
			s.Add("Write Sync Frequency", js.Config.SyncInterval)
		}
		if st := js.Stats; st != nil {
			s.Add("API Support Level", st.API.Level)
			s.Add("Active Accounts", st.Accounts)
			s.Add("Memory In Use", cmdutil.IBytes(st.Memory))
			s.Add("File In Use", cmdutil.IBytes(st.Store))
			s.Add("API Requests", cmdutil.Comma(int64(st.API.Total)))
			s.Add("API Errors", cmdutil.Comma(int64(st.API.Errors)))
		}
		s.Add("Strict API Parsing", js.Config.Strict)
	}

	s.Section("Limits")
	s.Add("Maximum Connections", cmdutil.Comma(int64(v.MaxConn)))
	s.Add("Maximum Subscriptions", unlimited(v.MaxSubs))
	s.Add("Maximum Payload", cmdutil.IBytes(uint64(max(v.MaxPayload, 0))))
	s.Add("TLS Timeout", time.Duration(v.TLSTimeout*float64(time.Second)))
	s.Add("Write Deadline", v.WriteDeadline.Round(time.Millisecond))

	s.Section("Statistics")
	s.Addf("CPU Cores", "%d %.2f%%", v.Cores, v.CPU)
	if v.MaxProcs > 0 {
		s.Add("GOMAXPROCS", v.MaxProcs)
	}
	s.Add("Memory", cmdutil.IBytes(uint64(max(v.Mem, 0))))
	if v.MemLimit > 0 {
		s.Add("GOMEMLIMIT", cmdutil.IBytes(uint64(v.MemLimit)))
	}
	s.Add("Connections", cmdutil.Comma(int64(v.Connections)))
	s.Add("Subscriptions", cmdutil.Comma(int64(v.Subscriptions)))
	s.Addf("Messages", "%s in %s out", cmdutil.Comma(v.InMsgs), cmdutil.Comma(v.OutMsgs))
	s.Addf("Bytes", "%s in %s out", cmdutil.IBytes(uint64(max(v.InBytes, 0))), cmdutil.IBytes(uint64(max(v.OutBytes, 0))))
	s.Add("Slow Consumers", cmdutil.Comma(v.SlowConsumers))

	if len(v.Cluster.URLs) > 0 {
		s.Section("Cluster")
		s.Add("Name", v.Cluster.Name)
		s.AddIf("Tags", strings.Join(v.Tags, ", "))
		s.Addf("Host", "%s:%d", v.Cluster.Host, v.Cluster.Port)
		s.AddList("URLs", v.Cluster.URLs)
	}
	if len(v.Gateway.Gateways) > 0 {
		s.Section("Super Cluster")
		s.Add("Name", v.Gateway.Name)
		s.Addf("Host", "%s:%d", v.Gateway.Host, v.Gateway.Port)
		var names []string
		for _, g := range v.Gateway.Gateways {
			names = append(names, g.Name)
		}
		sort.Strings(names)
		s.AddList("Clusters", names)
	}
	return s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func unlimited(n int) string {
	if n <= 0 {
		return "unlimited"
	}
	return cmdutil.Comma(int64(n))
}
