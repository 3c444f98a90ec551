package server

import (
	"cmp"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/pkg/api"
)

// accountStats are an account's traffic counters, added to once per read
// batch of each publisher, never per message.
type accountStats struct {
	inMsgs, inBytes   atomic.Int64 // published by the account's connections
	outMsgs, outBytes atomic.Int64 // delivered by the account's publishers
	slowConsumers     atomic.Int64
}

// sorted returns every registered account, by name.
func (r *accountRegistry) sorted() []*Account {
	r.mu.RLock()
	out := make([]*Account, 0, len(r.accs))
	for _, a := range r.accs {
		out = append(out, a)
	}
	r.mu.RUnlock()
	slices.SortFunc(out, func(a, b *Account) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// noteSlowConsumer counts c, about to be closed as a slow consumer.
func (c *client) noteSlowConsumer() {
	c.srv.stats.slowConsumers.Add(1)
	c.mu.Lock()
	acc := c.acc
	c.mu.Unlock()
	if acc != nil {
		acc.stats.slowConsumers.Add(1)
	}
}

// Accountz lists the accounts, or details the one named.
func (s *Server) Accountz(o *api.AccountzOptions) (*api.Accountz, error) {
	az := &api.Accountz{ID: s.id, Now: time.Now().UTC()}
	if s.sysAcc != nil {
		az.SystemAccount = s.sysAcc.Name
	}
	if o == nil || o.Account == "" {
		az.Accounts = []string{}
		for _, a := range s.accs.sorted() {
			az.Accounts = append(az.Accounts, a.Name)
		}
		return az, nil
	}
	a := s.LookupAccount(o.Account)
	if a == nil {
		return nil, fmt.Errorf("Account %s does not exist", o.Account)
	}
	st := sublistStats(a)
	exports, imports := s.accountLinks(a)
	az.Account = &api.AccountInfo{
		AccountName: a.Name,
		LastUpdate:  s.configLoadTime().UTC(),
		IsSystem:    a == s.sysAcc,
		JetStream:   s.js.Load() != nil && s.js.Load().AccountEnabled(a.Name),
		Complete:    true,
		ClientCnt:   a.NumClients(),
		SubCnt:      st.NumSubs,
		Exports:     exports,
		Imports:     imports,
		NameTag:     a.Name,
		Sublist:     &st,
	}
	return az, nil
}

// accountLinks lists a's exports and imports as /accountz shows them: the
// configured ones and, for every account but the system account, the
// $SYS services it gets without asking. In an import, Subject is the
// subject in the exporting account and LocalSubject the importer's.
func (s *Server) accountLinks(a *Account) ([]api.ExtExport, []api.ExtImport) {
	var exports []api.ExtExport
	var imports []api.ExtImport
	for _, ac := range s.getOpts().Accounts {
		if ac.Name != a.Name {
			continue
		}
		for _, ex := range ac.Exports {
			e := api.ExtExport{Subject: ex.Subject, Type: "stream", ApprovedAccounts: ex.Accounts}
			if ex.Service {
				e.Type, e.ResponseType, e.ResponseThreshold = "service", responseTypeName(ex.ResponseType), ex.ResponseThreshold
			}
			exports = append(exports, e)
		}
		for _, im := range ac.Imports {
			e := api.ExtImport{Subject: im.Subject, Account: im.Account, LocalSubject: im.Subject, Type: "stream"}
			switch {
			case im.Service:
				e.Type = "service"
				if im.To != "" {
					e.LocalSubject = im.To
				}
				e.To = e.LocalSubject
			case im.Prefix != "":
				e.LocalSubject = im.Prefix + "." + im.Subject
			case im.To != "":
				e.LocalSubject = im.To
			}
			imports = append(imports, e)
		}
	}
	if s.sysAcc != nil && a != s.sysAcc {
		sys := func(remote, local string, share bool) api.ExtImport {
			return api.ExtImport{Subject: remote, Account: s.sysAcc.Name, To: local, LocalSubject: local, Type: "service", Share: share}
		}
		imports = append(imports,
			sys("$SYS.REQ.ACCOUNT."+a.Name+".CONNZ", accountPingConnz, false),
			sys("$SYS.REQ.ACCOUNT."+a.Name+".CONNZ", serverPingConnz, false),
			sys("$SYS.REQ.ACCOUNT."+a.Name+".STATZ", accountPingStatz, false),
			sys("$SYS.REQ.USER."+a.Name+".INFO", userInfoSubj, true))
	}
	slices.SortStableFunc(imports, func(x, y api.ExtImport) int {
		return cmp.Or(cmp.Compare(x.Subject, y.Subject), cmp.Compare(x.LocalSubject, y.LocalSubject))
	})
	return exports, imports
}

// responseTypeName is a service export's response type as nats-server
// names it in /accountz.
func responseTypeName(t string) string {
	switch t {
	case ResponseStream:
		return "Streamed"
	case ResponseChunked:
		return "Chunked"
	}
	return "Singleton"
}

// AccountStatz reports traffic per account; accounts without connections
// are left out unless asked for.
func (s *Server) AccountStatz(o *api.AccountStatzOptions) (*api.AccountStatz, error) {
	if o == nil {
		o = &api.AccountStatzOptions{}
	}
	stz := &api.AccountStatz{ID: s.id, Now: time.Now().UTC(), Accounts: []*api.AccountStat{}}
	accs := s.accs.sorted()
	if len(o.Accounts) > 0 {
		accs = accs[:0]
		for _, name := range o.Accounts {
			if a := s.LookupAccount(name); a != nil {
				accs = append(accs, a)
			}
		}
	}
	for _, a := range accs {
		conns := a.NumClients()
		if conns == 0 && !o.IncludeUnused {
			continue
		}
		st := s.accountStat(a)
		stz.Accounts = append(stz.Accounts, &st)
	}
	return stz, nil
}

// Subsz reports the subscription index of every account (or one), and
// with Subscriptions a page of the client subscriptions, optionally only
// those a message on Test would reach.
func (s *Server) Subsz(o *api.SubszOptions) (*api.Subsz, error) {
	if o == nil {
		o = &api.SubszOptions{}
	}
	offset, limit := max(o.Offset, 0), o.Limit
	if limit <= 0 {
		limit = api.DefaultSubListSize
	}
	if o.Test != "" && !subject.ValidLiteral(o.Test) {
		return nil, fmt.Errorf("invalid test subject, must be valid publish subject: %s", o.Test)
	}
	sz := &api.Subsz{ID: s.id, Now: time.Now().UTC(), SublistStats: &api.SublistStats{}, Offset: offset, Limit: limit}
	var sum statsSum
	var details []api.SubDetail
	for _, a := range s.accs.sorted() {
		if o.Account != "" && a.Name != o.Account {
			continue
		}
		sum.add(a.sl.Stats())
		if !o.Subscriptions {
			continue
		}
		a.sl.All(func(subj, _ string, sub *subscription) {
			if sub.client == nil || o.Test != "" && !subject.Matches(o.Test, subj) {
				return
			}
			sub.client.mu.Lock()
			sd := subDetailLocked(sub)
			sub.client.mu.Unlock()
			sd.Account = a.Name
			details = append(details, sd)
		})
	}
	*sz.SublistStats = sum.stats()
	if o.Subscriptions {
		// A fixed order, so that pages do not overlap or skip.
		slices.SortFunc(details, func(a, b api.SubDetail) int {
			return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Subject, b.Subject),
				cmp.Compare(a.Cid, b.Cid), compareSid(a.Sid, b.Sid))
		})
		lo := min(offset, len(details))
		sz.Subs = details[lo : lo+min(limit, len(details)-lo)]
		sz.Total = len(details)
	}
	return sz, nil
}

func sublistStats(a *Account) api.SublistStats {
	var sum statsSum
	sum.add(a.sl.Stats())
	return sum.stats()
}

// statsSum adds up the index statistics of several accounts.
type statsSum struct {
	out       api.SublistStats
	hits      uint64
	caches    int
	fanoutSum float64
}

func (t *statsSum) add(st subject.Stats) {
	t.out.NumSubs += uint32(st.Count)
	t.out.NumCache += uint32(st.CacheEntries)
	t.out.NumInserts += st.Inserts
	t.out.NumRemoves += st.Removes
	t.out.NumMatches += st.Matches
	t.out.MaxFanout = max(t.out.MaxFanout, uint32(st.MaxFanout))
	t.hits += st.CacheHits
	t.fanoutSum += st.AvgFanout * float64(st.CacheEntries)
	t.caches += st.CacheEntries
}

func (t *statsSum) stats() api.SublistStats {
	st := t.out
	if st.NumMatches > 0 {
		st.CacheHitRate = float64(t.hits) / float64(st.NumMatches)
	}
	if t.caches > 0 {
		st.AvgFanout = t.fanoutSum / float64(t.caches)
	}
	return st
}
