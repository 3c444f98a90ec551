package server_test

// /connz: every query parameter, against connections whose figures are
// known because the test made the traffic.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/tlsconf"
	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/pkg/api"
)

const connzConf = `
accounts {
  A { users: [{user: a, password: a}, {user: a2, password: a2}] }
  B { users: [{user: b, password: b}] }
}`

// connzSetup is three connections with known traffic:
//
//	pub  (A, user a)  published 5 messages of 8 bytes on "foo", no subs
//	sub  (A, user a2) subs "foo" and "bar.>", received the 5 messages
//	idle (B, user b)  one queue sub "baz" in group "g", no traffic
type connzSetup struct {
	s              *server.Server
	pub, sub, idle *nats.Conn
	pubID, subID   uint64
	idleID         uint64
}

func newConnzSetup(t *testing.T, mutate ...func(*server.Options)) *connzSetup {
	t.Helper()
	cs := &connzSetup{s: runConf(t, connzConf, append([]func(*server.Options){withMonitor}, mutate...)...)}
	cs.pub = mustDial(t, cs.s, nats.UserInfo("a", "a"), nats.Name("pub"))
	cs.sub = mustDial(t, cs.s, nats.UserInfo("a2", "a2"), nats.Name("sub"))
	cs.idle = mustDial(t, cs.s, nats.UserInfo("b", "b"), nats.Name("idle"))
	foo, err := cs.sub.SubscribeSync("foo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.sub.SubscribeSync("bar.>"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.idle.QueueSubscribeSync("baz", "g"); err != nil {
		t.Fatal(err)
	}
	for _, nc := range []*nats.Conn{cs.sub, cs.idle} {
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	traffic(t, cs.pub, foo, "foo", 5, "12345678")
	cs.pubID, cs.subID, cs.idleID = clientID(t, cs.pub), clientID(t, cs.sub), clientID(t, cs.idle)
	return cs
}

func clientID(t *testing.T, nc *nats.Conn) uint64 {
	t.Helper()
	id, err := nc.GetClientID()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (cs *connzSetup) connz(t *testing.T, query string) api.Connz {
	t.Helper()
	return monJSON[api.Connz](t, cs.s, "/connz"+query)
}

func cids(cz api.Connz) []uint64 {
	out := make([]uint64, 0, len(cz.Conns))
	for _, c := range cz.Conns {
		out = append(out, c.Cid)
	}
	return out
}

func connByID(t *testing.T, cz api.Connz, cid uint64) *api.ConnInfo {
	t.Helper()
	for _, c := range cz.Conns {
		if c.Cid == cid {
			return c
		}
	}
	t.Fatalf("connection %d not in connz (%v)", cid, cids(cz))
	return nil
}

func TestConnzValues(t *testing.T) {
	t.Parallel()
	cs := newConnzSetup(t)
	// A PONG may still sit in a client's output for a moment under load.
	var cz api.Connz
	testutil.CheckFor(t, waitLong, pollStep, func() error {
		cz = cs.connz(t, "")
		for _, ci := range cz.Conns {
			if ci.Pending != 0 {
				return fmt.Errorf("cid %d has %d bytes pending", ci.Cid, ci.Pending)
			}
		}
		return nil
	})
	if cz.ID != cs.s.ID() || cz.NumConns != 3 || cz.Total != 3 || cz.Offset != 0 || cz.Limit != api.DefaultConnListSize {
		t.Fatalf("header: id %q num %d total %d offset %d limit %d", cz.ID, cz.NumConns, cz.Total, cz.Offset, cz.Limit)
	}
	if want := []uint64{cs.pubID, cs.subID, cs.idleID}; !slices.Equal(cids(cz), want) {
		t.Errorf("default order %v, want by cid %v", cids(cz), want)
	}
	for _, c := range []struct {
		cid               uint64
		name              string
		subs              uint32
		inMsgs, outMsgs   int64
		inBytes, outBytes int64
	}{
		{cs.pubID, "pub", 0, 5, 0, 40, 0},
		{cs.subID, "sub", 2, 0, 5, 0, 40},
		{cs.idleID, "idle", 1, 0, 0, 0, 0},
	} {
		ci := connByID(t, cz, c.cid)
		if ci.Name != c.name || ci.NumSubs != c.subs || ci.InMsgs != c.inMsgs || ci.OutMsgs != c.outMsgs ||
			ci.InBytes != c.inBytes || ci.OutBytes != c.outBytes {
			t.Errorf("%s: name %q subs %d in %d/%dB out %d/%dB, want subs %d in %d/%dB out %d/%dB", c.name,
				ci.Name, ci.NumSubs, ci.InMsgs, ci.InBytes, ci.OutMsgs, ci.OutBytes, c.subs, c.inMsgs, c.inBytes, c.outMsgs, c.outBytes)
		}
		if ci.Kind != "Client" || ci.Type != "nats" || ci.Lang != "go" || ci.Version != nats.Version ||
			ci.IP != "127.0.0.1" || ci.Port == 0 || ci.Uptime == "" || ci.Idle == "" || ci.Pending != 0 {
			t.Errorf("%s: %+v", c.name, ci)
		}
		if ci.Start.IsZero() || ci.LastActivity.Before(ci.Start) || ci.Start.After(cz.Now) {
			t.Errorf("%s: start %v last_activity %v now %v", c.name, ci.Start, ci.LastActivity, cz.Now)
		}
		if ci.AuthorizedUser != "" || ci.Account != "" || ci.Subs != nil || ci.SubsDetail != nil || ci.Stop != nil || ci.Reason != "" {
			t.Errorf("%s: shows what was not asked for: %+v", c.name, ci)
		}
	}
	// Looking measures the round trip; a later look shows it.
	testutil.CheckFor(t, waitLong, pollStep, func() error {
		ci := connByID(t, cs.connz(t, "?cid="+strconv.FormatUint(cs.subID, 10)), cs.subID)
		if d, err := time.ParseDuration(ci.RTT); err != nil || d <= 0 {
			return fmt.Errorf("rtt %q", ci.RTT)
		}
		return nil
	})
}

func TestConnzSort(t *testing.T) {
	t.Parallel()
	cs := newConnzSetup(t)
	p, s, i := cs.pubID, cs.subID, cs.idleID
	for _, c := range []struct {
		sort string
		want []uint64
	}{
		{"cid", []uint64{p, s, i}},
		{"start", []uint64{p, s, i}},
		{"subs", []uint64{s, i, p}},
		{"msgs_to", []uint64{s, p, i}},
		{"bytes_to", []uint64{s, p, i}},
		{"msgs_from", []uint64{p, s, i}},
		{"bytes_from", []uint64{p, s, i}},
		{"uptime", []uint64{i, s, p}}, // shortest first
	} {
		if got := cids(cs.connz(t, "?sort="+c.sort)); !slices.Equal(got, c.want) {
			t.Errorf("sort=%s: %v, want %v", c.sort, got, c.want)
		}
	}
	// Orders that depend on timing: the answer must be sorted by its own figures.
	for _, c := range []struct {
		sort string
		key  func(*api.ConnInfo) int64
	}{
		{"last", func(ci *api.ConnInfo) int64 { return ci.LastActivity.UnixNano() }},
		{"idle", func(ci *api.ConnInfo) int64 { return -ci.LastActivity.UnixNano() }},
		{"pending", func(ci *api.ConnInfo) int64 { return int64(ci.Pending) }},
		{"rtt", func(ci *api.ConnInfo) int64 { d, _ := time.ParseDuration(ci.RTT); return int64(d) }},
	} {
		cz := cs.connz(t, "?sort="+c.sort)
		if cz.NumConns != 3 {
			t.Fatalf("sort=%s: %d connections", c.sort, cz.NumConns)
		}
		for k := 1; k < len(cz.Conns); k++ {
			if c.key(cz.Conns[k-1]) < c.key(cz.Conns[k]) {
				t.Errorf("sort=%s: not descending at %d: %v", c.sort, k, cids(cz))
			}
		}
	}
	monBad(t, cs.s, "/connz?sort=bogus", "invalid sorting option: bogus")
	monBad(t, cs.s, "/connz?sort=stop", "sort by stop only valid on closed connections")
	monBad(t, cs.s, "/connz?sort=reason&state=all", "sort by reason only valid on closed connections")
}

func TestConnzPaging(t *testing.T) {
	t.Parallel()
	cs := newConnzSetup(t)
	for _, c := range []struct {
		q                    string
		want                 []uint64
		offset, limit, total int
	}{
		{"?offset=1&limit=1", []uint64{cs.subID}, 1, 1, 3},
		{"?offset=1", []uint64{cs.subID, cs.idleID}, 1, api.DefaultConnListSize, 3},
		{"?limit=2", []uint64{cs.pubID, cs.subID}, 0, 2, 3},
		{"?offset=3", []uint64{}, 3, api.DefaultConnListSize, 3},
		{"?offset=10&limit=5", []uint64{}, 10, 5, 3},
		{"?offset=-4&limit=0", []uint64{cs.pubID, cs.subID, cs.idleID}, 0, api.DefaultConnListSize, 3},
		{"?sort=subs&offset=1&limit=1", []uint64{cs.idleID}, 1, 1, 3},
	} {
		cz := cs.connz(t, c.q)
		if !slices.Equal(cids(cz), c.want) || cz.Offset != c.offset || cz.Limit != c.limit || cz.Total != c.total || cz.NumConns != len(c.want) {
			t.Errorf("%s: conns %v offset %d limit %d total %d num %d; want %v %d %d %d", c.q,
				cids(cz), cz.Offset, cz.Limit, cz.Total, cz.NumConns, c.want, c.offset, c.limit, c.total)
		}
	}
	monBad(t, cs.s, "/connz?offset=x", `Error decoding int for 'offset': strconv.Atoi: parsing "x": invalid syntax`)
	monBad(t, cs.s, "/connz?limit=1.5", `Error decoding int for 'limit': strconv.Atoi: parsing "1.5": invalid syntax`)
}

func TestConnzSubsAndAuth(t *testing.T) {
	t.Parallel()
	cs := newConnzSetup(t)
	q := "?cid=" + strconv.FormatUint(cs.subID, 10)
	ci := connByID(t, cs.connz(t, q+"&subs=1"), cs.subID)
	if !slices.Equal(ci.Subs, []string{"bar.>", "foo"}) || ci.SubsDetail != nil {
		t.Errorf("subs=1: list %v detail %v", ci.Subs, ci.SubsDetail)
	}
	ci = connByID(t, cs.connz(t, q+"&subs=detail"), cs.subID)
	want := []api.SubDetail{
		{Subject: "foo", Sid: "1", Msgs: 5, Cid: cs.subID},
		{Subject: "bar.>", Sid: "2", Msgs: 0, Cid: cs.subID},
	}
	if ci.Subs != nil || !slices.Equal(ci.SubsDetail, want) {
		t.Errorf("subs=detail: list %v detail %+v, want %+v", ci.Subs, ci.SubsDetail, want)
	}
	qd := connByID(t, cs.connz(t, "?subs=detail&acc=B"), cs.idleID).SubsDetail
	if len(qd) != 1 || qd[0].Subject != "baz" || qd[0].Queue != "g" {
		t.Errorf("queue sub detail: %+v", qd)
	}
	if ci := connByID(t, cs.connz(t, q+"&subs=false"), cs.subID); ci.Subs != nil {
		t.Errorf("subs=false lists %v", ci.Subs)
	}

	cz := cs.connz(t, "?auth=true")
	for cid, want := range map[uint64][2]string{cs.pubID: {"a", "A"}, cs.subID: {"a2", "A"}, cs.idleID: {"b", "B"}} {
		ci := connByID(t, cz, cid)
		if ci.AuthorizedUser != want[0] || ci.Account != want[1] {
			t.Errorf("auth=true, cid %d: user %q account %q, want %q %q", cid, ci.AuthorizedUser, ci.Account, want[0], want[1])
		}
	}
	monBad(t, cs.s, "/connz?subs=maybe", `Error decoding boolean for 'subs': strconv.ParseBool: parsing "maybe": invalid syntax`)
	monBad(t, cs.s, "/connz?auth=2", `Error decoding boolean for 'auth': strconv.ParseBool: parsing "2": invalid syntax`)
}

func TestConnzFilters(t *testing.T) {
	t.Parallel()
	cs := newConnzSetup(t)
	for _, c := range []struct {
		q     string
		want  []uint64
		total int
	}{
		{"?cid=" + strconv.FormatUint(cs.idleID, 10), []uint64{cs.idleID}, 3},
		{"?cid=99999", []uint64{}, 3},
		{"?user=a2", []uint64{cs.subID}, 3},
		{"?user=nobody", []uint64{}, 3},
		{"?acc=A", []uint64{cs.pubID, cs.subID}, 2},
		{"?acc=B", []uint64{cs.idleID}, 1},
		{"?acc=NOPE", []uint64{}, 0},
		{"?acc=A&user=a", []uint64{cs.pubID}, 2},
		{"?acc=A&filter_subject=foo", []uint64{cs.subID}, 2},
		{"?acc=A&filter_subject=bar.*", []uint64{cs.subID}, 2},
		{"?acc=A&filter_subject=>", []uint64{cs.pubID, cs.subID}, 2},
		{"?acc=B&filter_subject=foo", []uint64{}, 1},
		{"?mqtt_client=x", []uint64{}, 3},
	} {
		cz := cs.connz(t, c.q)
		if !slices.Equal(cids(cz), c.want) || cz.Total != c.total {
			t.Errorf("%s: %v total %d, want %v total %d", c.q, cids(cz), cz.Total, c.want, c.total)
		}
	}
	if cz := cs.connz(t, "?cid="+strconv.FormatUint(cs.subID, 10)); cz.Limit != 1 {
		t.Errorf("cid: limit %d, want 1", cz.Limit)
	}
	monBad(t, cs.s, "/connz?cid=-1", `Error decoding uint64 for 'cid': strconv.ParseUint: parsing "-1": invalid syntax`)
	monBad(t, cs.s, "/connz?filter_subject=foo", "filter by subject only valid with account filtering")
}

func TestConnzClosedState(t *testing.T) {
	t.Parallel()
	cs := newConnzSetup(t)
	// A failed login, then an orderly close: two closed connections with
	// different reasons.
	if _, err := dial(cs.s, nats.UserInfo("a", "wrong")); err == nil {
		t.Fatal("bad password accepted")
	}
	// The refused connection is closed by the server after its -ERR: wait
	// for that, so that the subscriber is closed last (sort=stop below).
	testutil.CheckFor(t, waitLong, pollStep, func() error {
		if n := cs.connz(t, "?state=closed").NumConns; n != 1 {
			return fmt.Errorf("%d closed connections", n)
		}
		return nil
	})
	subID := cs.subID
	cs.sub.Close()
	var closed api.Connz
	testutil.CheckFor(t, waitLong, pollStep, func() error {
		closed = cs.connz(t, "?state=closed")
		if closed.NumConns != 2 {
			return fmt.Errorf("%d closed connections", closed.NumConns)
		}
		return nil
	})
	// By cid: the subscriber came first.
	if closed.Conns[0].Cid != subID {
		t.Errorf("closed order %v, want by cid", cids(closed))
	}
	failed := closed.Conns[1]
	if failed.Cid <= cs.idleID || failed.Reason != "Authentication Failure" || failed.Stop == nil {
		t.Errorf("failed login entry: %+v", failed)
	}
	sub := connByID(t, closed, subID)
	if sub.Reason != "Client Closed" || sub.Stop == nil || sub.Stop.Before(sub.Start) || sub.Name != "sub" ||
		sub.OutMsgs != 5 || sub.OutBytes != 40 || sub.NumSubs != 2 || sub.Subs != nil || sub.AuthorizedUser != "" {
		t.Errorf("closed sub entry: %+v", sub)
	}
	sub = connByID(t, cs.connz(t, "?state=closed&subs=1&auth=1"), subID)
	if !slices.Equal(sub.Subs, []string{"bar.>", "foo"}) || sub.AuthorizedUser != "a2" || sub.Account != "A" {
		t.Errorf("closed with subs and auth: subs %v user %q account %q", sub.Subs, sub.AuthorizedUser, sub.Account)
	}
	if d := connByID(t, cs.connz(t, "?state=closed&subs=detail"), subID).SubsDetail; len(d) != 2 || d[0].Account != "A" {
		t.Errorf("closed subs detail: %+v", d)
	}

	if got := cids(cs.connz(t, "?state=open")); !slices.Equal(got, []uint64{cs.pubID, cs.idleID}) {
		t.Errorf("state=open: %v", got)
	}
	for _, st := range []string{"all", "any", "ALL"} {
		cz := cs.connz(t, "?state="+st)
		if cz.Total != 4 || cz.NumConns != 4 {
			t.Errorf("state=%s: total %d num %d, want 4", st, cz.Total, cz.NumConns)
		}
	}
	if got := cids(cs.connz(t, "?state=closed&sort=reason")); got[0] != failed.Cid {
		t.Errorf("sort=reason: %v, want the authentication failure first", got)
	}
	if got := cids(cs.connz(t, "?state=closed&sort=stop")); got[0] != subID {
		t.Errorf("sort=stop: %v, want the last closed first", got)
	}
	if got := cids(cs.connz(t, "?state=closed&cid="+strconv.FormatUint(subID, 10))); !slices.Equal(got, []uint64{subID}) {
		t.Errorf("closed by cid: %v", got)
	}
	if got := cids(cs.connz(t, "?state=closed&acc=A&user=a2")); !slices.Equal(got, []uint64{subID}) {
		t.Errorf("closed by account and user: %v", got)
	}
	if got := cids(cs.connz(t, "?state=closed&acc=A&filter_subject=bar.x")); !slices.Equal(got, []uint64{subID}) {
		t.Errorf("closed by subject: %v", got)
	}
	monBad(t, cs.s, "/connz?state=bogus", "Error decoding state for bogus")
}

func TestConnzClosedRingKeepsNewest(t *testing.T) {
	t.Parallel()
	s := runMonitored(t, func(o *server.Options) { o.MaxClosedClients = 2 })
	var ids []uint64
	for i := 0; i < 4; i++ {
		nc := testutil.Connect(t, s)
		ids = append(ids, clientID(t, nc))
		nc.Close()
	}
	var got []uint64
	testutil.CheckFor(t, waitLong, pollStep, func() error {
		got = cids(monJSON[api.Connz](t, s, "/connz?state=closed"))
		if !slices.Equal(got, ids[2:]) {
			return fmt.Errorf("closed %v, want the newest two of %v", got, ids)
		}
		return nil
	})
}

func TestConnzThroughServerAPI(t *testing.T) {
	t.Parallel()
	cs := newConnzSetup(t)
	// The Go API checks what the HTTP layer does not parse.
	for _, c := range []struct {
		o    api.ConnzOptions
		want string
	}{
		{api.ConnzOptions{Sort: "nope"}, "invalid sorting option: nope"},
		{api.ConnzOptions{Sort: api.ByStop, State: api.ConnAll}, "sort by stop only valid on closed connections"},
	} {
		if _, err := cs.s.Connz(&c.o); err == nil || err.Error() != c.want {
			t.Errorf("%+v: %v, want %q", c.o, err, c.want)
		}
	}
	cz, err := cs.s.Connz(nil)
	if err != nil || cz.NumConns != 3 {
		t.Errorf("Connz(nil): %v, %d connections", err, cz.NumConns)
	}
	r := monGet(t, cs.s, "/connz")
	if r.code != http.StatusOK {
		t.Errorf("status %d", r.code)
	}
}

func TestConnzTLS(t *testing.T) {
	t.Parallel()
	p := newTLSPKI(t)
	cfg := p.config(t, func(s *tlsconf.Settings) { s.Verify = true })
	s, _ := runTLS(t, cfg, withMonitor)
	plain := monJSON[api.Varz](t, s, "/varz")
	if !plain.TLSRequired || !plain.TLSVerify || !plain.TLSCertNotAfter.Equal(p.server.Cert.NotAfter) {
		t.Errorf("varz tls_required %v tls_verify %v tls_cert_not_after %v", plain.TLSRequired, plain.TLSVerify, plain.TLSCertNotAfter)
	}
	nc := testutil.Connect(t, s, p.withCert()...)
	cid := clientID(t, nc)
	ci := connByID(t, monJSON[api.Connz](t, s, "/connz"), cid)
	if ci.TLSVersion != "1.3" || ci.TLSCipher == "" || ci.TLSFirst || ci.TLSPeerCerts != nil {
		t.Errorf("tls: version %q cipher %q first %v certs %v", ci.TLSVersion, ci.TLSCipher, ci.TLSFirst, ci.TLSPeerCerts)
	}
	sum := sha256.Sum256(p.client.Cert.Raw)
	wantCert := api.TLSPeerCert{Subject: "CN=client", CertSha256: hex.EncodeToString(sum[:])}
	check := func(what string, certs []*api.TLSPeerCert) {
		t.Helper()
		if len(certs) != 1 || certs[0].Subject != wantCert.Subject || certs[0].CertSha256 != wantCert.CertSha256 || len(certs[0].SubjectPKISha256) != 64 {
			t.Errorf("%s: peer certs %+v, want %+v", what, certs, wantCert)
		}
	}
	check("open", connByID(t, monJSON[api.Connz](t, s, "/connz?auth=1"), cid).TLSPeerCerts)
	nc.Close()
	testutil.CheckFor(t, waitLong, pollStep, func() error {
		if monJSON[api.Connz](t, s, "/connz?state=closed").NumConns != 1 {
			return fmt.Errorf("not closed yet")
		}
		return nil
	})
	closed := connByID(t, monJSON[api.Connz](t, s, "/connz?state=closed&auth=1"), cid)
	check("closed", closed.TLSPeerCerts)
	if closed.TLSVersion != "1.3" {
		t.Errorf("closed: tls_version %q", closed.TLSVersion)
	}
}
