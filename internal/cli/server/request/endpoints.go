package requestcmd

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/server/sysreq"
	"github.com/sluicehq/sluice/pkg/api"
)

// endpoint describes one `server request` verb: natscli's name and
// aliases (the Z names among them), the $SYS endpoint, and how its flags
// become the request body.
type endpoint struct {
	use      string
	aliases  []string
	endpoint string
	short    string
	// extraArgs are positional arguments after WAIT.
	extraArgs []string
	// flags binds the verb's flags and returns the body builder.
	flags func(fl *flagSet) func(args []string) (any, error)
	// skip, when set, drops some answers from the output.
	skip func(o *flagSet) func([]byte) bool
}

// flagSet holds every verb's flag values; each verb binds the few it has.
type flagSet struct {
	*cobra.Command
	subs, detail, accounts, empty                   bool
	sort, state, user, account, subject, stream     string
	consumer                                        string
	cid                                             uint64
	streams, consumers, config, raft, leader, all   bool
	streamLeader, jsEnabled, serverOnly, allDetails bool
}

func endpointCommands(c *Common) []*cobra.Command {
	var cmds []*cobra.Command
	for _, e := range table(c) {
		cmds = append(cmds, e.command(c))
	}
	return cmds
}

func (e endpoint) command(c *Common) *cobra.Command {
	fs := &flagSet{}
	names := append([]string{"WAIT"}, e.extraArgs...)
	use := e.use + " [WAIT]"
	for _, a := range e.extraArgs {
		use += " [" + a + "]"
	}
	cmd := &cobra.Command{
		Use:     use,
		Aliases: e.aliases,
		Short:   e.short,
		Args:    cmdutil.RangeArgs(0, len(names), names...),
	}
	fs.Command = cmd
	build := func([]string) (any, error) { return c.Filter(), nil }
	if e.flags != nil {
		build = e.flags(fs)
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := c.waitArg(args); err != nil {
			return err
		}
		var rest []string
		if len(args) > 1 {
			rest = args[1:]
		}
		body, err := build(rest)
		if err != nil {
			return err
		}

		var skip func([]byte) bool
		if e.skip != nil {
			skip = e.skip(fs)
		}
		return c.print(cmd.Context(), e.endpoint, body, skip)
	}
	return cmd
}

// with puts endpoint options and the server filter in one body.
func with(opts any, c *Common) ([]byte, error) { return sysreq.WithFilter(opts, c.Filter()) }

// table returns the endpoint verbs for c.
func table(c *Common) []endpoint {
	return []endpoint{
		{use: "variables", aliases: []string{"var", "varz"}, endpoint: "VARZ", short: "General server information (VARZ)"},
		{use: "connections", aliases: []string{"conn", "conns", "connz"}, endpoint: "CONNZ", short: "Connections (CONNZ)",
			flags: func(fs *flagSet) func([]string) (any, error) {
				fl := fs.Flags()
				fl.StringVar(&fs.sort, "sort", "cid", "sort by `KEY`: cid, start, subs, pending, msgs_to, msgs_from, bytes_to, bytes_from, last, idle, uptime, stop, reason, rtt")
				fl.BoolVar(&fs.subs, "subscriptions", false, "include each connection's subscriptions")
				fl.Uint64Var(&fs.cid, "filter-cid", 0, "only the connection with this `CID`")
				fl.StringVar(&fs.state, "filter-state", "open", "connections in `STATE`: open, closed or all")
				fl.StringVar(&fs.user, "filter-user", "", "only connections of `USER`")
				fl.StringVar(&fs.account, "filter-account", "", "only connections of `ACCOUNT`")
				fl.StringVar(&fs.subject, "filter-subject", "", "only connections with interest in `SUBJECT`")
				fl.BoolVar(&fs.empty, "filter-empty", false, "leave out servers that report no connections")
				return func([]string) (any, error) {
					if !api.SortOpt(fs.sort).IsValid() {
						return nil, cmdutil.FlagErrorf("--sort %q is not a connection sort key; see --help", fs.sort)
					}
					state, err := connState(fs.state)
					if err != nil {
						return nil, err
					}
					return with(api.ConnzOptions{Sort: api.SortOpt(fs.sort), Username: true, Subscriptions: fs.subs,
						SubscriptionsDetail: fs.subs, Offset: c.Offset, Limit: c.Limit, CID: fs.cid, State: state,
						User: fs.user, Account: fs.account, FilterSubject: fs.subject}, c)
				}
			},
			skip: func(fs *flagSet) func([]byte) bool {
				if !fs.empty {
					return nil
				}
				return func(raw []byte) bool {
					var r struct {
						Data *api.Connz `json:"data"`
					}
					return json.Unmarshal(raw, &r) == nil && (r.Data == nil || r.Data.NumConns == 0)
				}
			},
		},
		{use: "routes", aliases: []string{"route", "routez"}, endpoint: "ROUTEZ", short: "Route connections to cluster peers (ROUTEZ)",
			flags: func(fs *flagSet) func([]string) (any, error) {
				fs.Flags().BoolVar(&fs.subs, "subscriptions", false, "include the routes' subscriptions")
				return func([]string) (any, error) {
					return with(api.RoutezOptions{Subscriptions: fs.subs, SubscriptionsDetail: fs.subs}, c)
				}
			},
		},
		{use: "gateways", aliases: []string{"gateway", "gwy", "gatewayz"}, endpoint: "GATEWAYZ", short: "Gateway connections (GATEWAYZ)",
			extraArgs: []string{"FILTER_NAME"},
			flags: func(fs *flagSet) func([]string) (any, error) {
				fl := fs.Flags()
				fl.StringVar(&fs.account, "filter-account", "", "detail only `ACCOUNT` (implies --accounts)")
				fl.BoolVar(&fs.accounts, "accounts", false, "include account details")
				fl.BoolVar(&fs.subs, "subscriptions", true, "with --filter-account, include its subscriptions")
				return func(rest []string) (any, error) {
					o := api.GatewayzOptions{Accounts: fs.accounts || fs.account != "", AccountName: fs.account}
					if len(rest) > 0 {
						o.Name = rest[0]
					}
					if fs.account != "" {
						o.AccountSubscriptions, o.AccountSubscriptionsDetail = fs.subs, fs.subs
					}
					return with(o, c)
				}
			},
		},
		{use: "leafnodes", aliases: []string{"leaf", "leafz"}, endpoint: "LEAFZ", short: "Leafnode connections (LEAFZ)",
			flags: func(fs *flagSet) func([]string) (any, error) {
				fs.Flags().BoolVar(&fs.subs, "subscriptions", false, "include the leafnodes' subscriptions")
				fs.Flags().StringVar(&fs.account, "filter-account", "", "only leafnodes of `ACCOUNT`")
				return func([]string) (any, error) {
					return with(api.LeafzOptions{Subscriptions: fs.subs, Account: fs.account}, c)
				}
			},
		},
		{use: "subscriptions", aliases: []string{"sub", "subs", "subsz"}, endpoint: "SUBSZ", short: "The subscription index (SUBSZ)",
			flags: func(fs *flagSet) func([]string) (any, error) {
				fl := fs.Flags()
				fl.BoolVar(&fs.detail, "detail", false, "list the subscriptions")
				fl.StringVar(&fs.account, "filter-account", "", "only subscriptions of `ACCOUNT`")
				fl.StringVar(&fs.subject, "filter-subject", "", "only subscriptions matching `SUBJECT`")
				return func([]string) (any, error) {
					return with(api.SubszOptions{Offset: c.Offset, Limit: c.Limit, Subscriptions: fs.detail,
						Account: fs.account, Test: fs.subject}, c)
				}
			},
		},
		{use: "jetstream", aliases: []string{"js", "jsz"}, endpoint: "JSZ", short: "JetStream usage (JSZ)",
			flags: func(fs *flagSet) func([]string) (any, error) {
				fl := fs.Flags()
				fl.StringVar(&fs.account, "account", "", "only `ACCOUNT`")
				fl.BoolVar(&fs.accounts, "accounts", false, "include account details")
				fl.BoolVar(&fs.streams, "streams", false, "include stream details")
				fl.BoolVar(&fs.consumers, "consumer", false, "include consumer details")
				fl.BoolVar(&fs.config, "config", false, "include stream and consumer configurations")
				fl.BoolVar(&fs.raft, "raft", false, "include RAFT group details")
				fl.BoolVar(&fs.leader, "leader", false, "only the meta leader answers")
				fl.BoolVar(&fs.streamLeader, "stream-leader", false, "only stream leaders report their streams")
				fl.BoolVar(&fs.all, "all", false, "include accounts, streams, consumers, configurations and RAFT groups")
				return func([]string) (any, error) {
					if fs.leader && c.Wait == 0 {
						c.Wait = 1
					}
					return with(api.JSzOptions{Account: fs.account, Accounts: fs.accounts || fs.all, Streams: fs.streams || fs.all,
						Consumer: fs.consumers || fs.all, Config: fs.config || fs.all, RaftGroups: fs.raft || fs.all,
						LeaderOnly: fs.leader, StreamLeaderOnly: fs.streamLeader, Offset: c.Offset, Limit: c.Limit}, c)
				}
			},
		},
		{use: "accounts", aliases: []string{"acct", "accountz"}, endpoint: "ACCOUNTZ", short: "Accounts (ACCOUNTZ)",
			flags: func(fs *flagSet) func([]string) (any, error) {
				fs.Flags().StringVar(&fs.account, "account", "", "detail `ACCOUNT`")
				return func([]string) (any, error) { return with(api.AccountzOptions{Account: fs.account}, c) }
			},
		},
		{use: "jetstream-health", aliases: []string{"healthz", "health"}, endpoint: "HEALTHZ", short: "Health, with JetStream checks (HEALTHZ)",
			flags: func(fs *flagSet) func([]string) (any, error) {
				fl := fs.Flags()
				fl.BoolVarP(&fs.jsEnabled, "js-enabled", "J", false, "fail servers where JetStream is not enabled")
				fl.BoolVarP(&fs.serverOnly, "server-only", "S", false, "check the JetStream server only, not streams and consumers")
				fl.StringVar(&fs.account, "account", "", "check only `ACCOUNT`")
				fl.StringVar(&fs.stream, "stream", "", "check only `STREAM`")
				fl.StringVar(&fs.consumer, "consumer", "", "check only `CONSUMER`")
				fl.BoolVar(&fs.allDetails, "details", true, "describe every failure")
				return func([]string) (any, error) {
					return with(api.HealthzOptions{JSEnabledOnly: fs.jsEnabled, JSServerOnly: fs.serverOnly, Account: fs.account,
						Stream: fs.stream, Consumer: fs.consumer, Details: fs.allDetails}, c)
				}
			},
		},
		{use: "ipqueue", aliases: []string{"ipq", "ipqueuesz"}, endpoint: "IPQUEUESZ", short: "Internal queues (IPQUEUESZ)",
			flags: func(fs *flagSet) func([]string) (any, error) {
				fs.Flags().BoolVar(&fs.all, "all", true, "include idle queues")
				fs.Flags().StringVar(&fs.subject, "filter", "", "only queues whose name contains `TEXT`")
				return func([]string) (any, error) { return with(api.IpqueueszOptions{All: fs.all, Filter: fs.subject}, c) }
			},
		},
		{use: "raft", aliases: []string{"raftz"}, endpoint: "RAFTZ", short: "RAFT groups (RAFTZ)",
			flags: func(fs *flagSet) func([]string) (any, error) {
				fs.Flags().StringVar(&fs.account, "account", "", "only groups of `ACCOUNT` (the system account when empty)")
				fs.Flags().StringVar(&fs.stream, "group", "", "only `GROUP`")
				return func([]string) (any, error) {
					return with(api.RaftzOptions{AccountFilter: fs.account, GroupFilter: fs.stream}, c)
				}
			},
		},
		{use: "statsz", aliases: []string{"stats"}, endpoint: "STATSZ", short: "Server statistics (STATSZ)"},
		{use: "idz", aliases: []string{"id"}, endpoint: "IDZ", short: "Server identity: name, host and id (IDZ)"},
	}
}

func connState(s string) (api.ConnState, error) {
	switch s {
	case "open":
		return api.ConnOpen, nil
	case "closed":
		return api.ConnClosed, nil
	case "all", "any":
		return api.ConnAll, nil
	}
	return 0, cmdutil.FlagErrorf("--filter-state must be open, closed or all, not %q", s)
}
