package edit

import (
	"fmt"
	"strconv"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

type accountOptions struct {
	common
	name, description, infoURL, traceSubject, traceSampling string
	tags, rmTags, sks, rmSKs                                []string
	wildcard, disallowBearer, jsDisable, maxBytesReq        bool
	jsEnable, jsTier, rmJSTier                              int
	lim                                                     limits
	dates                                                   authutil.DateFlags
}

func newAccount(f *cmdutil.Factory) *cobra.Command {
	o := &accountOptions{lim: limits{}}
	cmd := &cobra.Command{
		Use:   "account [NAME]",
		Short: "Change an account: limits, JetStream, signing keys, tags, dates",
		Long: `Change an account's limits (-1 is unlimited; sizes read 1K, 1MB, 2GiB),
its JetStream limits, globally (--js-tier 0, the default) or per
replication tier (--js-tier 1, --js-tier 3), its signing keys and tags.`,
		Example: `  sluice auth edit account orders --conns 100 --subscriptions 1000 --payload 1MB --data 1GB
  sluice auth edit account orders --js-enable 0 --js-disk-storage 10GB --js-streams 10
  sluice auth edit account orders --js-tier 3 --js-mem-storage 1GB --js-max-ack-pending 1000
  sluice auth edit account orders --sk generate --disallow-bearer`,
		Args: cmdutil.RangeArgs(0, 1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.name = args[0]
			}
			return runAccount(f, cmd, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.name, "name", "n", "", "account (default: the current one)")
	for _, l := range [][2]string{
		{"conns", "maximum client connections"}, {"leaf-conns", "maximum leaf node connections"},
		{"data", "maximum bytes"}, {"exports", "maximum exports"}, {"imports", "maximum imports"},
		{"payload", "maximum message payload"}, {"subscriptions", "maximum subscriptions"},
		{"js-mem-storage", "JetStream memory storage"}, {"js-disk-storage", "JetStream file storage"},
		{"js-streams", "JetStream streams"}, {"js-consumer", "JetStream consumers"},
		{"js-max-mem-stream", "largest memory stream"}, {"js-max-disk-stream", "largest file stream"},
		{"js-max-ack-pending", "JetStream maximum ack pending per consumer"},
		{"mem-storage", "the same as --js-mem-storage"}, {"disk-storage", "the same as --js-disk-storage"},
		{"streams", "the same as --js-streams"}, {"consumer", "the same as --js-consumer"},
	} {
		o.lim.add(cmd, l[0], "set "+l[1]+" (-1 unlimited)")
	}
	fl.BoolVar(&o.wildcard, "wildcard-exports", true, "allow exports with wildcards")
	fl.BoolVar(&o.disallowBearer, "disallow-bearer", false, "refuse users with bearer tokens")
	fl.IntVar(&o.jsEnable, "js-enable", 0, "enable JetStream, unlimited, for tier 0 (global), 1 (R1) or 3 (R3)")
	fl.BoolVar(&o.jsDisable, "js-disable", false, "disable JetStream: remove every JetStream limit")
	fl.IntVar(&o.jsTier, "js-tier", 0, "tier the --js-* flags set: 0 global, 1 R1, 3 R3")
	fl.IntVar(&o.rmJSTier, "rm-js-tier", 0, "remove the limits of a tier (1, 3)")
	fl.BoolVar(&o.maxBytesReq, "js-max-bytes-required", false, "streams must set max bytes")
	fl.StringSliceVar(&o.sks, "sk", nil, "add signing keys: public keys, or \"generate\"")
	fl.StringSliceVar(&o.rmSKs, "rm-sk", nil, "remove signing keys")
	fl.StringVar(&o.description, "description", "", "description")
	fl.StringVar(&o.infoURL, "info-url", "", "link to documentation")
	fl.StringVar(&o.traceSubject, "trace-context-subject", "", "subject message traces of this account go to")
	fl.StringVar(&o.traceSampling, "trace-context-sampling", "", "percentage of traced messages, 1-100")
	fl.StringSliceVar(&o.tags, "tag", nil, "add tags")
	fl.StringSliceVar(&o.rmTags, "rm-tag", nil, "remove tags")
	o.dates.Add(cmd, "the account JWT")
	o.common.add(cmd, false)
	return cmd
}

func runAccount(f *cmdutil.Factory, cmd *cobra.Command, o *accountOptions) error {
	if err := nothingChanged(cmd); err != nil {
		return err
	}
	st, err := authutil.Open(f, cmd)
	if err != nil {
		return err
	}
	op, oc, err := st.Operator(o.operator)
	if err != nil {
		return err
	}
	acc, ac, err := st.Account(op, o.name)
	if err != nil {
		return err
	}
	ch := cmd.Flags().Changed
	l := &ac.Limits
	for name, dst := range map[string]*int64{"conns": &l.Conn, "leaf-conns": &l.LeafNodeConn, "data": &l.Data,
		"exports": &l.Exports, "imports": &l.Imports, "payload": &l.Payload, "subscriptions": &l.Subs} {
		if err := o.lim.apply(cmd, name, dst); err != nil {
			return err
		}
	}
	if ch("wildcard-exports") {
		l.WildcardExports = o.wildcard
	}
	if ch("disallow-bearer") {
		l.DisallowBearer = o.disallowBearer
	}
	if err := o.jetStream(cmd, ac); err != nil {
		return err
	}
	for _, sk := range o.sks {
		if sk == "generate" {
			kp, _ := nkeys.CreateAccount()
			if _, err := st.Env.Keys.Store(kp); err != nil {
				return err
			}
			sk, _ = kp.PublicKey()
		} else if sk, err = authutil.PublicKey(sk, nkeys.PrefixByteAccount, "--sk"); err != nil {
			return err
		}
		ac.SigningKeys.Add(sk)
	}
	ac.SigningKeys.Remove(o.rmSKs...)
	if ch("description") {
		ac.Description = o.description
	}
	if ch("info-url") {
		ac.InfoURL = o.infoURL
	}
	if ch("trace-context-subject") || ch("trace-context-sampling") {
		if ac.Trace == nil {
			ac.Trace = &jwt.MsgTrace{}
		}
		if ch("trace-context-subject") {
			ac.Trace.Destination = jwt.Subject(o.traceSubject)
		}
		if ch("trace-context-sampling") {
			n, err := strconv.Atoi(o.traceSampling)
			if err != nil || n < 1 || n > 100 {
				return cmdutil.FlagErrorf("--trace-context-sampling %q: want 1-100", o.traceSampling)
			}
			ac.Trace.Sampling = n
		}
	}
	ac.Tags.Add(o.tags...)
	ac.Tags.Remove(o.rmTags...)
	if err := o.dates.Apply(cmd, &ac.ClaimsData); err != nil {
		return err
	}
	tok, _, err := st.SaveAccount(op, oc, ac, o.privKey)
	if err != nil {
		return err
	}
	return done(f, o.json, "account "+acc, tok)
}

func tierName(t int) (string, error) {
	switch t {
	case 0:
		return "", nil
	case 1, 3:
		return fmt.Sprintf("R%d", t), nil
	}
	return "", cmdutil.FlagErrorf("JetStream tier %d: want 0 (global), 1 or 3", t)
}

var unlimitedJS = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1,
	MaxAckPending: -1, MemoryMaxStreamBytes: -1, DiskMaxStreamBytes: -1}

func (o *accountOptions) jetStream(cmd *cobra.Command, ac *jwt.AccountClaims) error {
	ch := cmd.Flags().Changed
	l := &ac.Limits
	if o.jsDisable {
		l.JetStreamLimits = jwt.JetStreamLimits{}
		l.JetStreamTieredLimits = nil
		return nil
	}
	if ch("rm-js-tier") {
		tier, err := tierName(o.rmJSTier)
		if err != nil || tier == "" {
			return cmdutil.FlagErrorf("--rm-js-tier %d: want 1 or 3", o.rmJSTier)
		}
		delete(l.JetStreamTieredLimits, tier)
	}
	target := func(tierNum int) (*jwt.JetStreamLimits, func(), error) {
		tier, err := tierName(tierNum)
		if err != nil {
			return nil, nil, err
		}
		if tier == "" {
			if len(l.JetStreamTieredLimits) > 0 {
				return nil, nil, cmdutil.FlagErrorf("the account has tiered JetStream limits; set --js-tier 1 or 3, or remove the tiers")
			}
			return &l.JetStreamLimits, func() {}, nil
		}
		if l.JetStreamLimits != (jwt.JetStreamLimits{}) {
			return nil, nil, cmdutil.FlagErrorf("the account has global JetStream limits; tiers cannot be added (--js-disable first)")
		}
		jl := l.JetStreamTieredLimits[tier]
		return &jl, func() {
			if l.JetStreamTieredLimits == nil {
				l.JetStreamTieredLimits = jwt.JetStreamTieredLimits{}
			}
			l.JetStreamTieredLimits[tier] = jl
		}, nil
	}
	if ch("js-enable") {
		jl, commit, err := target(o.jsEnable)
		if err != nil {
			return err
		}
		*jl = unlimitedJS
		commit()
	}
	jsFlags := map[string]string{"js-mem-storage": "mem-storage", "js-disk-storage": "disk-storage",
		"js-streams": "streams", "js-consumer": "consumer"}
	any := ch("js-max-bytes-required") || ch("js-max-mem-stream") || ch("js-max-disk-stream") || ch("js-max-ack-pending")
	for a, b := range jsFlags {
		any = any || ch(a) || ch(b)
	}
	if !any {
		return nil
	}
	jl, commit, err := target(o.jsTier)
	if err != nil {
		return err
	}
	if *jl == (jwt.JetStreamLimits{}) {
		*jl = unlimitedJS
	}
	for name, dst := range map[string]*int64{"js-mem-storage": &jl.MemoryStorage, "js-disk-storage": &jl.DiskStorage,
		"js-streams": &jl.Streams, "js-consumer": &jl.Consumer, "js-max-mem-stream": &jl.MemoryMaxStreamBytes,
		"js-max-disk-stream": &jl.DiskMaxStreamBytes, "js-max-ack-pending": &jl.MaxAckPending} {
		if err := o.lim.apply(cmd, name, dst); err != nil {
			return err
		}
		if alias, ok := jsFlags[name]; ok {
			if err := o.lim.apply(cmd, alias, dst); err != nil {
				return err
			}
		}
	}
	if ch("js-max-bytes-required") {
		jl.MaxBytesRequired = o.maxBytesReq
	}
	commit()
	return nil
}
