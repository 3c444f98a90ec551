package difftest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// Target is a server implementation under comparison.
type Target interface {
	// Name labels the target in reports.
	Name() string
	// Start runs a server from the configuration file at path, listening
	// on a random loopback port, and returns its client address
	// (host:port) and a function that stops it. A configuration the
	// server refuses is an error.
	Start(path string) (addr string, stop func(), err error)
}

// Transcript is what the clients of one case saw on one target.
type Transcript struct {
	// Refused holds the reason the server did not start with the
	// configuration; the steps are not run then.
	Refused string
	// Steps[0] is the connection of every client, then one entry per
	// step; each entry lists, per client, what it received.
	Steps [][]string
}

// Run plays the case against the target. dir holds the configuration
// file.
func Run(tg Target, c *Case, dir string) (*Transcript, error) {
	path := filepath.Join(dir, strings.ToLower(tg.Name())+".conf")
	if err := os.WriteFile(path, []byte(c.Config()), 0o600); err != nil {
		return nil, err
	}
	addr, stop, err := tg.Start(path)
	if err != nil {
		return &Transcript{Refused: err.Error()}, nil
	}
	defer stop()
	tr := &Transcript{}
	clients := make([]*rawClient, len(c.Clients))
	for i, spec := range c.Clients {
		cl, err := dialClient(addr)
		if err != nil {
			return nil, err
		}
		defer cl.close()
		clients[i] = cl
		creds := ""
		if spec.User != "" {
			creds = fmt.Sprintf(",\"user\":%q,\"pass\":%q", spec.User, spec.Pass)
		}
		cl.send(fmt.Sprintf("CONNECT {\"verbose\":false,\"pedantic\":false%s,\"protocol\":1,\"echo\":true,\"headers\":true}\r\n", creds))
		cl.subs[traceSID] = ""
		cl.send(fmt.Sprintf("SUB %s %d\r\n", traceSubs, traceSID))
		cl.sync()
		cl.noTraces = cl.hasEvent("ERR 'Permissions Violation for Subscription to \"" + traceSubs)
	}
	tr.Steps = append(tr.Steps, collect(clients))
	for _, st := range c.Steps {
		cl := clients[st.Client]
		switch st.Op {
		case "sub":
			cl.mu.Lock()
			cl.subs[st.SID] = st.Queue
			cl.mu.Unlock()
			if st.Queue != "" {
				cl.send(fmt.Sprintf("SUB %s %s %d\r\n", st.Subject, st.Queue, st.SID))
			} else {
				cl.send(fmt.Sprintf("SUB %s %d\r\n", st.Subject, st.SID))
			}
		case "unsub":
			cl.send(fmt.Sprintf("UNSUB %d\r\n", st.SID))
		case "pub":
			if st.Trace != "" {
				hdr := fmt.Sprintf("NATS/1.0\r\nNats-Trace-Dest: %s\r\n", traceDest(st.Client))
				if st.Trace == "only" {
					hdr += "Nats-Trace-Only: true\r\n"
				}
				hdr += "\r\n"
				cl.send(fmt.Sprintf("HPUB %s %s %d %d\r\n%s%s\r\n", st.Subject, st.Reply, len(hdr), len(hdr)+len(st.Payload), hdr, st.Payload))
			} else if st.Reply != "" {
				cl.send(fmt.Sprintf("PUB %s %s %d\r\n%s\r\n", st.Subject, st.Reply, len(st.Payload), st.Payload))
			} else {
				cl.send(fmt.Sprintf("PUB %s %d\r\n%s\r\n", st.Subject, len(st.Payload), st.Payload))
			}
		}
		syncAll(clients, st.Client)
		if st.Trace != "" && awaitTrace(cl, receiver(c, clients, st.Client), traceDest(st.Client)) {
			syncAll(clients) // the event's other receivers
		}
		if st.Subject == sysUserInfo && st.Reply != "" && listened(c, st.Reply) && awaitAPI(clients, st.Reply) {
			syncAll(clients)
		}
		// Auto-replying clients answer what they received, once.
		var repliers []int
		for i, spec := range c.Clients {
			if !spec.AutoReply {
				clients[i].requests()
				continue
			}
			ms := clients[i].requests()
			for _, m := range ms {
				p := "re:" + m.payload
				clients[i].send(fmt.Sprintf("PUB %s %d\r\n%s\r\n", m.reply, len(p), p))
			}
			if len(ms) > 0 {
				repliers = append(repliers, i)
			}
		}
		if len(repliers) > 0 {
			syncAll(clients, repliers...)
		}
		for _, cl := range clients {
			cl.requests() // replies to replies are not sent
		}
		tr.Steps = append(tr.Steps, collect(clients))
	}
	return tr, nil
}

// syncAll makes a PING/PONG round on the acting clients first, so the
// server has processed their operations, then on every client (the
// acting ones too: one may deliver to another), so what the operations
// delivered has arrived.
func syncAll(clients []*rawClient, first ...int) {
	for _, i := range first {
		clients[i].sync()
	}
	for i, cl := range clients {
		if len(first) > 1 || !slices.Contains(first, i) {
			cl.sync()
		}
	}
}

// collect gathers what each client received since the last call, as a
// sorted list per client.
// Trace events go to _TR.c<publisher> in the publisher's account, where
// every client subscribes to _TR.> (sid traceSID) before the scenario
// starts; deliveries of _TR. subjects to the scenario's own subscriptions
// are not recorded. nats-server publishes trace events from its internal
// send loop, after the PONG that ends a step, so a subscription made later
// would race with them; this one is there from the start.
const (
	traceSubs = "_TR.>"
	traceSID  = 1000
	// traceWait bounds the wait for an event that must come.
	traceWait = 5 * time.Second
)

func traceDest(client int) string { return fmt.Sprintf("_TR.c%d", client) }

// receiver is a client that gets the trace events of client pub: one of
// the same account whose _TR.> subscription was accepted; nil if none.
func receiver(c *Case, clients []*rawClient, pub int) *rawClient {
	account := func(i int) string {
		name := c.Clients[i].User
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
	for i, cl := range clients {
		if account(i) == account(pub) && !cl.noTraces && !cl.isClosed() {
			return cl
		}
	}
	return nil
}

// awaitTrace waits until rcv has the trace event publisher cl sent to
// dest, when one must come: there is a receiver and the publish to dest
// was not refused. It reports whether the event came.
func awaitTrace(cl, rcv *rawClient, dest string) bool {
	if rcv == nil || cl.isClosed() || cl.hasEvent("ERR 'Permissions Violation for Publish to \""+dest) {
		return false
	}
	deadline := time.Now().Add(traceWait)
	for time.Now().Before(deadline) {
		if rcv.hasEvent(fmt.Sprintf("MSG %s to sid %d ", dest, traceSID)) {
			return true
		}
		time.Sleep(2 * time.Millisecond)
	}
	return false
}

// listened reports whether a subscription of the case so far (ignoring
// unsubscribes and permissions) matches subj.
func listened(c *Case, subj string) bool {
	for _, st := range c.Steps {
		if st.Op == "sub" && matches(st.Subject, subj) {
			return true
		}
	}
	return false
}

// matches reports whether the literal subj matches pattern.
func matches(pattern, subj string) bool {
	p, s := strings.Split(pattern, "."), strings.Split(subj, ".")
	for i, tok := range p {
		switch {
		case tok == ">":
			return len(s) > i
		case i >= len(s):
			return false
		case tok != "*" && tok != s[i]:
			return false
		}
	}
	return len(p) == len(s)
}

// awaitAPI waits for the answer of a $SYS service to reach a subscriber
// of reply: both servers send it from their own goroutines, after the
// requester's PONG. It reports whether one arrived.
func awaitAPI(clients []*rawClient, reply string) bool {
	deadline := time.Now().Add(traceWait)
	for time.Now().Before(deadline) {
		for _, cl := range clients {
			if cl.hasEventWith("MSG "+reply+" to ", `payload "API `) {
				return true
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return false
}

func collect(clients []*rawClient) []string {
	var out []string
	for i, cl := range clients {
		ev := cl.take()
		sort.Strings(ev)
		for _, e := range ev {
			out = append(out, fmt.Sprintf("c%d: %s", i, e))
		}
	}
	return out
}

// Diff compares two transcripts of the same case and describes the first
// difference, or returns "".
func Diff(c *Case, a, b *Transcript, an, bn string) string {
	if (a.Refused == "") != (b.Refused == "") {
		return fmt.Sprintf("configuration accepted by one server only:\n  %s: %s\n  %s: %s",
			an, orAccepted(a.Refused), bn, orAccepted(b.Refused))
	}
	if a.Refused != "" {
		return ""
	}
	for i := 0; i < len(a.Steps) && i < len(b.Steps); i++ {
		x, y := strings.Join(a.Steps[i], "\n"), strings.Join(b.Steps[i], "\n")
		if x == y {
			continue
		}
		what := "connecting the clients"
		if i > 0 {
			what = fmt.Sprintf("step %d (%s)", i-1, c.Steps[i-1])
		}
		return fmt.Sprintf("after %s:\n%s received:\n%s\n%s received:\n%s", what, an, indent(x), bn, indent(y))
	}
	if len(a.Steps) != len(b.Steps) {
		return fmt.Sprintf("%s ran %d steps, %s %d", an, len(a.Steps), bn, len(b.Steps))
	}
	return ""
}

func orAccepted(reason string) string {
	if reason == "" {
		return "accepted"
	}
	return "refused: " + reason
}

func indent(s string) string {
	if s == "" {
		return "    (nothing)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
