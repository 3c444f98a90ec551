package authutil

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// UserFlags are the permission and limit flags of users and of scoped
// signing key templates.
type UserFlags struct {
	AllowPub, AllowSub, AllowPubSub []string
	DenyPub, DenySub, DenyPubSub    []string
	Rm                              []string
	RespMax                         int
	RespTTL                         string
	RmResp                          bool
	Bearer                          bool
	Src, RmSrc                      []string
	Times, RmTimes                  []string
	Locale                          string
	ConnTypes, RmConnTypes          []string
	Subs                            int64
	Data, Payload                   string
}

// Add defines the flags.
func (u *UserFlags) Add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringSliceVar(&u.AllowPub, "allow-pub", nil, "add subjects the user may publish to (comma separated or repeated)")
	fl.StringSliceVar(&u.AllowSub, "allow-sub", nil, "add subjects the user may subscribe to (\"subject queue\" for a queue)")
	fl.StringSliceVar(&u.AllowPubSub, "allow-pubsub", nil, "add subjects the user may publish and subscribe to")
	fl.StringSliceVar(&u.DenyPub, "deny-pub", nil, "add subjects the user may not publish to")
	fl.StringSliceVar(&u.DenySub, "deny-sub", nil, "add subjects the user may not subscribe to")
	fl.StringSliceVar(&u.DenyPubSub, "deny-pubsub", nil, "add subjects the user may neither publish nor subscribe to")
	fl.StringSliceVar(&u.Rm, "rm", nil, "remove subjects from every allow and deny list")
	fl.IntVar(&u.RespMax, "allow-pub-response", 0, "allow publishing to reply subjects of requests received, at most `N` replies each")
	fl.Lookup("allow-pub-response").NoOptDefVal = "1"
	fl.IntVar(&u.RespMax, "max-responses", 0, "the same as --allow-pub-response")
	fl.StringVar(&u.RespTTL, "response-ttl", "", "how long reply subjects stay publishable (1s, 5m); with --allow-pub-response")
	fl.BoolVar(&u.RmResp, "rm-response-perms", false, "remove the reply permissions")
	fl.BoolVar(&u.Bearer, "bearer", false, "bearer token: the server does not ask the user to sign a nonce")
	fl.StringSliceVar(&u.Src, "source-network", nil, "add a CIDR the user may connect from")
	fl.StringSliceVar(&u.RmSrc, "rm-source-network", nil, "remove a source network")
	fl.StringSliceVar(&u.Times, "time", nil, "add a daily time window the user may connect in, \"16:04:05-17:04:09\"")
	fl.StringSliceVar(&u.RmTimes, "rm-time", nil, "remove the time window starting at the given time")
	fl.StringVar(&u.Locale, "locale", "", "time zone of the time windows (\"Europe/Berlin\"; default UTC)")
	fl.StringSliceVar(&u.ConnTypes, "conn-type", nil, "add an allowed connection type: "+strings.Join(connTypes, ", "))
	fl.StringSliceVar(&u.RmConnTypes, "rm-conn-type", nil, "remove an allowed connection type")
	fl.Int64Var(&u.Subs, "subs", -1, "maximum subscriptions (-1 unlimited)")
	fl.StringVar(&u.Data, "data", "", "maximum bytes received (-1 unlimited; 1K, 1MB, 2GiB)")
	fl.StringVar(&u.Payload, "payload", "", "maximum message payload (-1 unlimited; 1K, 1MB)")
}

var connTypes = []string{jwt.ConnectionTypeStandard, jwt.ConnectionTypeWebsocket, jwt.ConnectionTypeLeafnode,
	jwt.ConnectionTypeLeafnodeWS, jwt.ConnectionTypeMqtt, jwt.ConnectionTypeMqttWS, jwt.ConnectionTypeInProcess}

// Apply changes p as the flags given on cmd say.
func (u *UserFlags) Apply(cmd *cobra.Command, p *jwt.UserPermissionLimits) error {
	changed := cmd.Flags().Changed
	addAll := func(list *jwt.StringList, vals ...[]string) {
		for _, v := range vals {
			list.Add(trimAll(v)...)
		}
	}
	for _, s := range slices.Concat(u.AllowPub, u.AllowSub, u.AllowPubSub, u.DenyPub, u.DenySub, u.DenyPubSub) {
		if strings.TrimSpace(s) == "" {
			return cmdutil.FlagErrorf("empty subject in the permissions")
		}
	}
	addAll(&p.Pub.Allow, u.AllowPub, u.AllowPubSub)
	addAll(&p.Sub.Allow, u.AllowSub, u.AllowPubSub)
	addAll(&p.Pub.Deny, u.DenyPub, u.DenyPubSub)
	addAll(&p.Sub.Deny, u.DenySub, u.DenyPubSub)
	if rm := trimAll(u.Rm); len(rm) > 0 {
		p.Pub.Allow.Remove(rm...)
		p.Pub.Deny.Remove(rm...)
		p.Sub.Allow.Remove(rm...)
		p.Sub.Deny.Remove(rm...)
	}
	if changed("allow-pub-response") || changed("max-responses") || changed("response-ttl") {
		if p.Resp == nil {
			p.Resp = &jwt.ResponsePermission{}
		}
		if changed("allow-pub-response") || changed("max-responses") {
			p.Resp.MaxMsgs = u.RespMax
		} else if p.Resp.MaxMsgs == 0 {
			p.Resp.MaxMsgs = 1
		}
		if u.RespTTL != "" {
			d, err := time.ParseDuration(u.RespTTL)
			if err != nil || d < 0 {
				return cmdutil.FlagErrorf("--response-ttl %q is not a duration like 1s or 5m", u.RespTTL)
			}
			p.Resp.Expires = d
		}
	}
	if u.RmResp {
		p.Resp = nil
	}
	if changed("bearer") {
		p.BearerToken = u.Bearer
	}
	for _, s := range trimAll(u.Src) {
		if _, _, err := net.ParseCIDR(s); err != nil {
			return cmdutil.FlagErrorf("--source-network %q is not a CIDR like 10.0.0.0/8", s)
		}
		p.Src.Add(s)
	}
	p.Src.Remove(trimAll(u.RmSrc)...)
	for _, t := range trimAll(u.Times) {
		start, end, ok := strings.Cut(t, "-")
		if !ok || !validClock(start) || !validClock(end) {
			return cmdutil.FlagErrorf("--time %q: want a window like 16:04:05-17:04:09", t)
		}
		p.Times = append(p.Times, jwt.TimeRange{Start: start, End: end})
	}
	for _, rm := range trimAll(u.RmTimes) {
		p.Times = slices.DeleteFunc(p.Times, func(t jwt.TimeRange) bool { return t.Start == rm })
	}
	if changed("locale") {
		if _, err := time.LoadLocation(u.Locale); err != nil {
			return cmdutil.FlagErrorf("--locale %q is not a time zone: %v", u.Locale, err)
		}
		p.Locale = u.Locale
	}
	for _, c := range trimAll(u.ConnTypes) {
		c = strings.ToUpper(c)
		if !slices.Contains(connTypes, c) {
			return cmdutil.FlagErrorf("--conn-type %q: want one of %s", c, strings.Join(connTypes, ", "))
		}
		p.AllowedConnectionTypes.Add(c)
	}
	for _, c := range trimAll(u.RmConnTypes) {
		p.AllowedConnectionTypes.Remove(strings.ToUpper(c))
	}
	if changed("subs") {
		p.Subs = u.Subs
	}
	if changed("data") {
		n, err := ParseSize("data", u.Data)
		if err != nil {
			return err
		}
		p.Data = n
	}
	if changed("payload") {
		n, err := ParseSize("payload", u.Payload)
		if err != nil {
			return err
		}
		p.Payload = n
	}
	return nil
}

func validClock(s string) bool {
	_, err := time.Parse("15:04:05", s)
	return err == nil
}

func trimAll(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ParseSize reads a limit: -1 for unlimited, a number, or a number with
// a unit (K, KB, KiB, M, MB, MiB, G, GB, GiB, T, TB, TiB; K and KB are
// 1000 as in nsc, KiB 1024).
func ParseSize(flag, v string) (int64, error) {
	s := strings.TrimSpace(v)
	if s == "-1" {
		return -1, nil
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	var n int64
	if i == 0 {
		return 0, cmdutil.FlagErrorf("--%s %q: want -1, a number or a size like 1MB", flag, v)
	}
	fmt.Sscan(s[:i], &n)
	mult := map[string]int64{"": 1, "B": 1, "K": 1000, "KB": 1000, "KIB": 1 << 10, "M": 1000 * 1000, "MB": 1000 * 1000, "MIB": 1 << 20,
		"G": 1000 * 1000 * 1000, "GB": 1000 * 1000 * 1000, "GIB": 1 << 30, "T": 1000 * 1000 * 1000 * 1000, "TB": 1000 * 1000 * 1000 * 1000, "TIB": 1 << 40}
	m, ok := mult[strings.ToUpper(strings.TrimSpace(s[i:]))]
	if !ok {
		return 0, cmdutil.FlagErrorf("--%s %q: unknown unit %q", flag, v, s[i:])
	}
	return n * m, nil
}

// UserFlagsGiven reports whether any permission or limit flag was set.
func UserFlagsGiven(cmd *cobra.Command) bool {
	for _, n := range []string{"allow-pub", "allow-sub", "allow-pubsub", "deny-pub", "deny-sub", "deny-pubsub",
		"allow-pub-response", "max-responses", "response-ttl", "bearer", "source-network", "time", "locale",
		"conn-type", "subs", "data", "payload"} {
		if cmd.Flags().Changed(n) {
			return true
		}
	}
	return false
}
