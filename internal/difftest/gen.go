package difftest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Case is one generated configuration and the scenario played on it.
type Case struct {
	Seed  uint64
	Index int
	// Accounts is empty for a configuration with a plain authorization
	// block (everyone in the global account).
	Accounts []*Account
	Users    []*User
	Mappings []Mapping // top-level mappings (global account)
	// DefaultPerms apply to users without permissions (authorization
	// block only); NoAuthUser is who a client without credentials is.
	DefaultPerms *Perms
	NoAuthUser   string
	Clients      []ClientSpec
	Steps        []Step
}

// Account is one account of the configuration.
type Account struct {
	Name     string
	Limits   string // the limits {} block's fields, "" for none
	Exports  []Export
	Imports  []Import
	Mappings []Mapping
}

// Export is a stream or service export.
type Export struct {
	Service  bool
	Subject  string
	Accounts []string // who may import; empty: anyone
}

// Import is a stream or service import.
type Import struct {
	Service bool
	Account string
	Subject string
	Prefix  string // streams
	To      string
}

// Mapping maps a subject to a destination.
type Mapping struct{ From, To string }

// User is a user/password user with optional permissions.
type User struct {
	Name, Account string
	Perms         *Perms
}

// Perms are a user's permissions; nil lists are left out.
type Perms struct {
	PubAllow, PubDeny, SubAllow, SubDeny []string
	// Responses is "", "true" or a max count, for allow_responses.
	Responses string
}

// ClientSpec is a client of the scenario.
type ClientSpec struct {
	User, Pass string
	// AutoReply clients answer every request they receive.
	AutoReply bool
}

// Step is one action of one client.
type Step struct {
	Op      string // "sub", "unsub" or "pub"
	Client  int
	Subject string
	Queue   string
	Reply   string
	Payload string
	SID     int
	// Trace is "" (none), "deliver" (Nats-Trace-Dest) or "only" (with
	// Nats-Trace-Only): the trace event goes to _TR.c<client> (run.go).
	Trace string
}

func (s Step) String() string {
	switch s.Op {
	case "sub":
		return fmt.Sprintf("c%d SUB %s %s %d", s.Client, s.Subject, s.Queue, s.SID)
	case "unsub":
		return fmt.Sprintf("c%d UNSUB %d", s.Client, s.SID)
	}
	if s.Trace != "" {
		return fmt.Sprintf("c%d PUB %s %s %q trace=%s", s.Client, s.Subject, s.Reply, s.Payload, s.Trace)
	}
	return fmt.Sprintf("c%d PUB %s %s %q", s.Client, s.Subject, s.Reply, s.Payload)
}

// sysUserInfo is the system account's user info service, reached from
// every account through a service import.
const sysUserInfo = "$SYS.REQ.USER.INFO"

// gen holds the random source of one case.
type gen struct{ r *rand.Rand }

func (g gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g gen) chance(p float64) bool    { return g.r.Float64() < p }

// Subject vocabulary: few tokens, so permissions, subscriptions and
// publishes collide often.
var (
	firstTokens = []string{"a", "b", "s", "svc", "m", "q"}
	restTokens  = []string{"x", "y", "deny"}
	queues      = []string{"q1", "q2", "g.x", "g.y"}
	queuePats   = []string{"q1", "q2", "g.x", "g.*"}
)

// literal is a publishable subject of one to three tokens.
func (g gen) literal() string {
	toks := []string{g.pick(firstTokens...)}
	for n := g.r.IntN(3); n > 0; n-- {
		toks = append(toks, g.pick(restTokens...))
	}
	return strings.Join(toks, ".")
}

// pattern is a subject that may hold wildcards.
func (g gen) pattern() string {
	if g.chance(0.04) {
		return ">"
	}
	toks := strings.Split(g.literal(), ".")
	switch {
	case g.chance(0.3):
		toks = append(toks[:1], ">")
	case len(toks) > 1 && g.chance(0.35):
		toks[g.r.IntN(len(toks)-1)+1] = "*"
	case g.chance(0.1):
		toks[0] = "*"
	}
	return strings.Join(toks, ".")
}

func (g gen) entries(n int, queues bool) []string {
	var out []string
	for range n {
		e := g.pattern()
		if queues && g.chance(0.35) {
			if g.chance(0.5) {
				e = g.literal() // a narrow queue entry a wildcard may cover
			}
			e += " " + g.pick(queuePats...)
		}
		out = append(out, e)
	}
	return out
}

func (g gen) perms() *Perms {
	if g.chance(0.5) {
		return nil
	}
	p := &Perms{}
	if g.chance(0.5) {
		p.PubAllow = g.entries(1+g.r.IntN(2), false)
		if g.chance(0.5) {
			p.PubAllow = append(p.PubAllow, "_INBOX.>")
		}
	}
	if g.chance(0.35) {
		p.PubDeny = g.entries(1, false)
	}
	if g.chance(0.5) {
		p.SubAllow = g.entries(1+g.r.IntN(3), true)
		if g.chance(0.5) {
			p.SubAllow = append(p.SubAllow, "_INBOX.>")
		}
	}
	if g.chance(0.5) {
		p.SubDeny = g.entries(1+g.r.IntN(2), true)
	}
	if g.chance(0.25) {
		p.Responses = g.pick("true", "1", "2")
	}
	return p
}

// Generate builds case index of the run seeded with seed.
func Generate(seed uint64, index int) *Case {
	g := gen{rand.New(rand.NewPCG(seed, uint64(index)))}
	c := &Case{Seed: seed, Index: index}
	if g.chance(0.6) {
		g.accounts(c)
	} else {
		for i := range 1 + g.r.IntN(3) {
			c.Users = append(c.Users, &User{Name: fmt.Sprintf("u%d", i), Perms: g.perms()})
		}
		if g.chance(0.3) {
			c.Mappings = g.mappings()
		}
		if g.chance(0.25) {
			c.DefaultPerms = g.perms()
		}
	}
	if g.chance(0.15) {
		c.NoAuthUser = c.Users[g.r.IntN(len(c.Users))].Name
	}
	for range 2 + g.r.IntN(3) {
		u := c.Users[g.r.IntN(len(c.Users))]
		cs := ClientSpec{User: u.Name, Pass: "p", AutoReply: g.chance(0.4)}
		switch {
		case g.chance(0.05):
			cs.Pass = "wrong"
		case g.chance(0.15):
			cs.User, cs.Pass = "", "" // anonymous: no_auth_user, or refused
		}
		c.Clients = append(c.Clients, cs)
	}
	g.steps(c)
	return c
}

func (g gen) accounts(c *Case) {
	names := []string{"A", "B", "C"}[:2+g.r.IntN(2)]
	for _, n := range names {
		c.Accounts = append(c.Accounts, &Account{Name: n})
	}
	exp := c.Accounts[0]
	for _, subj := range []string{g.pick("s.>", "s.x", "s.*", "s.*.*"), g.pick("svc.>", "svc.x", "svc.*", "svc.*.*")} {
		ex := Export{Service: strings.HasPrefix(subj, "svc"), Subject: subj}
		if g.chance(0.15) {
			ex.Accounts = []string{names[1]}
		}
		exp.Exports = append(exp.Exports, ex)
	}
	for _, imp := range c.Accounts[1:] {
		for _, ex := range exp.Exports {
			if !g.chance(0.8) {
				continue
			}
			im := Import{Service: ex.Service, Account: exp.Name, Subject: ex.Subject}
			if g.chance(0.3) && strings.HasSuffix(ex.Subject, ">") {
				im.Subject = strings.TrimSuffix(ex.Subject, ">") + "x" // a narrower import
			}
			switch {
			case !ex.Service && g.chance(0.3):
				im.Prefix = "imp"
			case g.chance(0.5):
				im.To = renameTo(g, im.Subject, ex.Service)
			}
			imp.Imports = append(imp.Imports, im)
		}
	}
	for _, a := range c.Accounts {
		if g.chance(0.3) {
			a.Mappings = g.mappings()
		}
		if g.chance(0.2) {
			a.Limits = fmt.Sprintf("max_connections: %d, max_subscriptions: %d, max_payload: %d",
				1+g.r.IntN(2), 1+g.r.IntN(3), 2+g.r.IntN(3))
		}
		for range 1 + g.r.IntN(2) {
			c.Users = append(c.Users, &User{Name: fmt.Sprintf("u%d", len(c.Users)), Account: a.Name, Perms: g.perms()})
		}
	}
}

// renameTo renames an import ('to'), in the forms nats-server accepts:
// wildcards kept, reordered by $N or {{wildcard(N)}}, or moved.
func renameTo(g gen, subj string, service bool) string {
	base := "t"
	if service {
		base = "loc"
	}
	switch {
	case strings.HasSuffix(subj, ".*.*"):
		return g.pick(base+".*.*", base+".$2.$1", base+".{{wildcard(2)}}.{{wildcard(1)}}")
	case strings.HasSuffix(subj, ".>"):
		return g.pick(base+".>", base+".y.>", "x.>")
	case strings.HasSuffix(subj, ".*"):
		return g.pick(base+".*", "*."+base)
	case service:
		return g.pick(base, base+".x", base+".*")
	}
	return g.pick(base, base+".x")
}

// widen is pattern or a wider pattern that covers it.
func (g gen) widen(pattern string) string {
	toks := strings.Split(pattern, ".")
	switch {
	case len(toks) > 1 && g.chance(0.4):
		return strings.Join(toks[:len(toks)-1], ".") + ".>"
	case g.chance(0.3):
		toks[len(toks)-1] = "*"
	}
	return strings.Join(toks, ".")
}

// instantiate is a literal subject matching pattern.
func (g gen) instantiate(pattern string) string {
	toks := strings.Split(pattern, ".")
	for i, tok := range toks {
		switch tok {
		case "*":
			toks[i] = g.pick(restTokens...)
		case ">":
			toks[i] = g.pick("x", "y", "x.y")
		}
	}
	return strings.Join(toks, ".")
}

func (g gen) mappings() []Mapping {
	switch g.r.IntN(3) {
	case 0:
		return []Mapping{{From: "m.x", To: "a.x"}}
	case 1:
		return []Mapping{{From: "m.*", To: "b.{{wildcard(1)}}"}}
	}
	return []Mapping{{From: "m.>", To: "a.>"}}
}

func (g gen) steps(c *Case) {
	type subRef struct{ client, sid int }
	var subs []subRef
	nextSID := make([]int, len(c.Clients))
	queueOwner := map[string]int{} // account/queue -> the one client with members
	account := func(client int) string {
		name := c.Clients[client].User
		if name == "" {
			name = c.NoAuthUser
		}
		for _, u := range c.Users {
			if u.Name == name {
				return u.Account
			}
		}
		return ""
	}
	limited := func(acc string) bool {
		for _, a := range c.Accounts {
			if a.Name == acc && a.Limits != "" {
				return true
			}
		}
		return false
	}
	var patterns []string // subscribed so far, to publish where someone listens
	// Subjects named by permissions, to probe their edges.
	var hot []string
	ownQueues := map[string][]string{}  // user -> queue patterns of its entries
	ownEntries := map[string][]string{} // user -> subjects of its subscribe entries
	for _, u := range c.Users {
		if p := u.Perms; p != nil {
			for _, e := range slices.Concat(p.PubAllow, p.PubDeny, p.SubAllow, p.SubDeny) {
				hot = append(hot, strings.Fields(e)[0])
			}
			for _, e := range slices.Concat(p.SubAllow, p.SubDeny) {
				f := strings.Fields(e)
				ownEntries[u.Name] = append(ownEntries[u.Name], f[0])
				if len(f) == 2 {
					ownQueues[u.Name] = append(ownQueues[u.Name], strings.Replace(f[1], "*", g.pick("x", "y"), 1))
				}
			}
		}
	}
	pubSubjects := func() string {
		switch {
		case len(hot) > 0 && g.chance(0.2):
			return g.instantiate(hot[g.r.IntN(len(hot))])
		case len(patterns) > 0 && g.chance(0.5):
			return g.instantiate(patterns[g.r.IntN(len(patterns))])
		case g.chance(0.2):
			return g.pick("imp.s.x", "imp.s.y", "imp.s.x.y", "loc", "loc.x", "loc.y", "loc.x.y", "loc.y.x", "loc.y.x.y",
				"x.x", "x.y", "a.loc", "t.x", "t.x.y", "t.y.x", "x.t")
		case g.chance(0.05):
			return "_INBOX.c" + fmt.Sprint(g.r.IntN(len(c.Clients))) + ".1"
		case g.chance(0.04):
			// Every account imports it from the system account.
			return sysUserInfo
		}
		return g.literal()
	}
	subSubject := func(client int) string {
		own := ownEntries[c.Clients[client].User]
		switch {
		case len(own) > 0 && g.chance(0.3):
			return g.widen(own[g.r.IntN(len(own))])
		case len(hot) > 0 && g.chance(0.25):
			return g.widen(hot[g.r.IntN(len(hot))])
		case g.chance(0.15):
			return fmt.Sprintf("_INBOX.c%d.>", client)
		case g.chance(0.08):
			return g.pick("imp.>", "imp.s.*", "loc.>", "t.>", "*.t", "x.>")
		}
		return g.pattern()
	}
	n := 8 + g.r.IntN(16)
	probe := -1 // where a subscribe entry is probed: a wider sub, then a publish on it
	if g.chance(0.5) {
		probe = 3 + g.r.IntN(n-3)
	}
	for i := range n {
		if i == probe {
			cl := g.r.IntN(len(c.Clients))
			var own []string
			for _, u := range c.Users {
				if u.Name == c.Clients[cl].User && u.Perms != nil {
					own = slices.Concat(u.Perms.SubDeny, u.Perms.SubAllow)
				}
			}
			if len(own) > 0 {
				f := strings.Fields(own[g.r.IntN(len(own))])
				nextSID[cl]++
				st := Step{Op: "sub", Client: cl, Subject: g.widen(f[0]), SID: nextSID[cl]}
				if len(f) == 2 {
					q := strings.Replace(f[1], "*", g.pick("x", "y"), 1)
					key := account(cl) + "/" + q
					if owner, ok := queueOwner[key]; !ok || owner == cl {
						queueOwner[key] = cl
						st.Queue = q
					}
				}
				subs = append(subs, subRef{cl, st.SID})
				c.Steps = append(c.Steps, st, Step{Op: "pub", Client: g.r.IntN(len(c.Clients)), Subject: g.instantiate(f[0]), Payload: fmt.Sprintf("p%d", i)})
				continue
			}
		}
		cl := g.r.IntN(len(c.Clients))
		switch {
		case i < 3 || g.chance(0.35):
			nextSID[cl]++
			st := Step{Op: "sub", Client: cl, Subject: subSubject(cl), SID: nextSID[cl]}
			if g.chance(0.3) {
				q := g.pick(queues...)
				if own := ownQueues[c.Clients[cl].User]; len(own) > 0 && g.chance(0.6) {
					q = own[g.r.IntN(len(own))]
				}
				key := account(cl) + "/" + q
				if owner, ok := queueOwner[key]; !ok || owner == cl {
					queueOwner[key] = cl
					st.Queue = q
				}
			}
			subs = append(subs, subRef{cl, st.SID})
			patterns = append(patterns, st.Subject)
			c.Steps = append(c.Steps, st)
		case len(subs) > 0 && g.chance(0.08):
			k := g.r.IntN(len(subs))
			c.Steps = append(c.Steps, Step{Op: "unsub", Client: subs[k].client, SID: subs[k].sid})
			subs = append(subs[:k], subs[k+1:]...)
		default:
			st := Step{Op: "pub", Client: cl, Subject: pubSubjects(), Payload: fmt.Sprintf("m%d", i)}
			if g.chance(0.35) || st.Subject == sysUserInfo {
				st.Reply = fmt.Sprintf("_INBOX.c%d.%d", cl, i)
			}
			// Not where a payload limit refuses the message: whether the
			// closing publisher still gets nats-server's queued trace event
			// is a race there.
			if g.chance(0.15) && !limited(account(cl)) {
				st.Trace = g.pick("deliver", "only")
			}
			c.Steps = append(c.Steps, st)
		}
	}
}

// Config renders the case's configuration (without listen settings,
// which the target adds).
func (c *Case) Config() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# difftest seed %d case %d\n", c.Seed, c.Index)
	if c.NoAuthUser != "" {
		fmt.Fprintf(&b, "no_auth_user: %s\n", c.NoAuthUser)
	}
	if len(c.Accounts) == 0 {
		b.WriteString("authorization {\n  users: [\n")
		for _, u := range c.Users {
			writeUser(&b, u)
		}
		b.WriteString("  ]\n")
		if c.DefaultPerms != nil {
			fmt.Fprintf(&b, "  default_permissions: {%s}\n", permsText(c.DefaultPerms))
		}
		b.WriteString("}\n")
		writeMappings(&b, "", c.Mappings)
		return b.String()
	}
	b.WriteString("accounts {\n")
	for _, a := range c.Accounts {
		fmt.Fprintf(&b, "  %s {\n    users: [\n", a.Name)
		for _, u := range c.Users {
			if u.Account == a.Name {
				writeUser(&b, u)
			}
		}
		b.WriteString("    ]\n")
		if len(a.Exports) > 0 {
			b.WriteString("    exports: [\n")
			for _, e := range a.Exports {
				kind := "stream"
				if e.Service {
					kind = "service"
				}
				fmt.Fprintf(&b, "      {%s: %q", kind, e.Subject)
				if len(e.Accounts) > 0 {
					fmt.Fprintf(&b, ", accounts: %s", quoteList(e.Accounts))
				}
				b.WriteString("}\n")
			}
			b.WriteString("    ]\n")
		}
		if len(a.Imports) > 0 {
			b.WriteString("    imports: [\n")
			for _, im := range a.Imports {
				kind := "stream"
				if im.Service {
					kind = "service"
				}
				fmt.Fprintf(&b, "      {%s: {account: %s, subject: %q}", kind, im.Account, im.Subject)
				if im.Prefix != "" {
					fmt.Fprintf(&b, ", prefix: %q", im.Prefix)
				}
				if im.To != "" {
					fmt.Fprintf(&b, ", to: %q", im.To)
				}
				b.WriteString("}\n")
			}
			b.WriteString("    ]\n")
		}
		writeMappings(&b, "    ", a.Mappings)
		if a.Limits != "" {
			fmt.Fprintf(&b, "    limits: {%s}\n", a.Limits)
		}
		b.WriteString("  }\n")
	}
	b.WriteString("}\n")
	return b.String()
}

func writeUser(b *strings.Builder, u *User) {
	fmt.Fprintf(b, "    {user: %s, password: p", u.Name)
	if u.Perms != nil {
		fmt.Fprintf(b, ", permissions: {%s}", permsText(u.Perms))
	}
	b.WriteString("}\n")
}

// permsText is the inside of a permissions block.
func permsText(p *Perms) string {
	var b strings.Builder
	sep := ""
	for _, sp := range []struct {
		name        string
		allow, deny []string
	}{{"publish", p.PubAllow, p.PubDeny}, {"subscribe", p.SubAllow, p.SubDeny}} {
		if sp.allow == nil && sp.deny == nil {
			continue
		}
		fmt.Fprintf(&b, "%s%s: {", sep, sp.name)
		if sp.allow != nil {
			fmt.Fprintf(&b, "allow: %s", quoteList(sp.allow))
		}
		if sp.deny != nil {
			if sp.allow != nil {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "deny: %s", quoteList(sp.deny))
		}
		b.WriteString("}")
		sep = ", "
	}
	switch p.Responses {
	case "":
	case "true":
		fmt.Fprintf(&b, "%sallow_responses: true", sep)
	default:
		fmt.Fprintf(&b, "%sallow_responses: {max: %s}", sep, p.Responses)
	}
	return b.String()
}

func writeMappings(b *strings.Builder, indent string, ms []Mapping) {
	if len(ms) == 0 {
		return
	}
	fmt.Fprintf(b, "%smappings: {\n", indent)
	for _, m := range ms {
		fmt.Fprintf(b, "%s  %q: %q\n", indent, m.From, m.To)
	}
	fmt.Fprintf(b, "%s}\n", indent)
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// Describe is the case in full, for a failure report.
func (c *Case) Describe() string {
	var b strings.Builder
	b.WriteString(c.Config())
	b.WriteString("# clients\n")
	for i, cl := range c.Clients {
		fmt.Fprintf(&b, "#   c%d user %s pass %s autoreply %v\n", i, cl.User, cl.Pass, cl.AutoReply)
	}
	b.WriteString("# steps\n")
	for i, s := range c.Steps {
		fmt.Fprintf(&b, "#   %2d %s\n", i, s)
	}
	return b.String()
}
