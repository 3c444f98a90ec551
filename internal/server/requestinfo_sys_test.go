package server_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/route"
	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/pkg/api"
)

const sysImportConf = `
server_name: ri1
system_account: SYS
accounts {
  SYS { users: [{user: sys, password: sys}] }
  A { users: [{user: a, password: a}] }
}
`

// The requests every account sends to the system account's services
// cross into it as service imports, as in nats-server v2.15.2: a
// subscriber in the system account sees each under the requester's own
// subject with a _R_ reply and the Nats-Request-Info nats-server writes
// (the requester's details for user info, account, RTT and server for the
// others), byte for byte once the run-dependent values are masked; the
// requester gets the answer.
func TestSysImportRequestInfoMatchesReference(t *testing.T) {
	type result struct {
		seen    []string
		answers []map[string]any
	}
	results := map[string]*result{}
	bothFromConf(t, sysImportConf, func(t *testing.T, tg opTarget) {
		addr := strings.TrimPrefix(tg.url, "nats://")
		sys := rawDial(t, addr, `{"user":"sys","pass":"sys","headers":true,"verbose":false,"protocol":1,"name":"nsys"}`)
		sys.send(t, "SUB $SYS.REQ.USER.*.INFO 1\r\nSUB $SYS.REQ.ACCOUNT.*.CONNZ 2\r\nSUB $SYS.REQ.ACCOUNT.*.STATZ 3\r\nPING\r\n")
		sys.expect(t, "PONG\r\n")
		nc, err := nats.Connect(tg.url, nats.UserInfo("a", "a"), nats.Name("na"))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		res := &result{}
		for _, subj := range []string{"$SYS.REQ.USER.INFO", "$SYS.REQ.ACCOUNT.PING.CONNZ", "$SYS.REQ.ACCOUNT.PING.STATZ", "$SYS.REQ.SERVER.PING.CONNZ"} {
			m := nats.NewMsg(subj)
			m.Header.Set("Nats-Request-Info", `{"acc":"EVIL"}`)
			m.Header.Set("X", "1")
			resp, err := nc.RequestMsg(m, 5*time.Second)
			if err != nil {
				t.Fatalf("%s: %v", subj, err)
			}
			var env struct {
				Data  map[string]any `json:"data"`
				Error any            `json:"error"`
			}
			if err := json.Unmarshal(resp.Data, &env); err != nil || env.Data == nil {
				t.Fatalf("%s: answer %s: %v", subj, resp.Data, err)
			}
			res.answers = append(res.answers, env.Data)
			res.seen = append(res.seen, sys.readHMsg(t))
		}
		// The system account's own users reach their info the same way.
		sysnc, err := nats.Connect(tg.url, nats.UserInfo("sys", "sys"), nats.Name("nsys2"))
		if err != nil {
			t.Fatal(err)
		}
		defer sysnc.Close()
		m := nats.NewMsg("$SYS.REQ.USER.INFO")
		m.Header.Set("X", "1")
		resp, err := sysnc.RequestMsg(m, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var env struct {
			Data map[string]any `json:"data"`
		}
		json.Unmarshal(resp.Data, &env)
		res.answers = append(res.answers, env.Data)
		res.seen = append(res.seen, sys.readHMsg(t))
		results[t.Name()] = res
	})
	s, r := results["TestSysImportRequestInfoMatchesReference/sluice"], results["TestSysImportRequestInfoMatchesReference/nats-server"]
	if s == nil || r == nil {
		t.Fatal("missing results")
	}
	for i := range r.seen {
		if s.seen[i] != r.seen[i] {
			t.Errorf("system account subscriber, request %d:\n sluice      %q\n nats-server %q", i, s.seen[i], r.seen[i])
		}
	}
	for _, i := range []int{0, 4} { // user info: deterministic
		if fmt.Sprint(s.answers[i]) != fmt.Sprint(r.answers[i]) {
			t.Errorf("user info %d:\n sluice      %v\n nats-server %v", i, s.answers[i], r.answers[i])
		}
	}
	for _, res := range []*result{s, r} {
		conns, _ := res.answers[1]["connections"].([]any)
		stz, _ := res.answers[2]["account_statz"].([]any)
		if len(conns) != 1 || conns[0].(map[string]any)["name"] != "na" || len(stz) != 1 ||
			stz[0].(map[string]any)["acc"] != "A" {
			t.Errorf("account CONNZ/STATZ answers: %v %v", res.answers[1], res.answers[2])
		}
	}
}

// In a cluster the imported request reaches every server's $SYS
// services, so an account's PING.CONNZ gathers one answer per server, as
// with nats-server (its CONNZ and STATZ imports stream their responses).
func TestSysImportAccountConnzAcrossCluster(t *testing.T) {
	t.Parallel()
	s1, s2 := sysCluster(t)
	connzAcross(t, s1.ClientURL(), s2.ClientURL())
}

// The same in a mixed cluster, asked on either side.
func TestSysImportAccountConnzMixedCluster(t *testing.T) {
	s1 := sluiceClusterNodeConf(t, sysImportAccounts, "c1", 0)
	u2, _ := refClusterNodeConf(t, sysImportAccounts, "c2", s1.Routes().Port())
	t.Run("asked on sluice", func(t *testing.T) { connzAcross(t, s1.ClientURL(), u2) })
	t.Run("asked on nats-server", func(t *testing.T) {
		servers := connzAcrossFrom(t, u2, s1.ClientURL())
		if servers["c1"] != "on2" || servers["c2"] != "on1" {
			t.Fatalf("answers by server: %v, want c1:on2 c2:on1", servers)
		}
	})
}

const sysImportAccounts = `
system_account: SYS
accounts {
  SYS { users: [{user: sys, password: sys}] }
  A { users: [{user: a, password: a}] }
}
`

// connzAcross asks $SYS.REQ.ACCOUNT.PING.CONNZ on the server at url1 (c1)
// and wants an answer from it and from the one at url2 (c2), each naming
// the account's connection there.
func connzAcross(t *testing.T, url1, url2 string) {
	t.Helper()
	servers := connzAcrossFrom(t, url1, url2)
	if servers["c1"] != "on1" || servers["c2"] != "on2" {
		t.Fatalf("answers by server: %v, want c1:on1 c2:on2", servers)
	}
}

// connzAcrossFrom connects "on1" to url1 (and asks there) and "on2" to
// url2, and returns the connection each answering server named.
func connzAcrossFrom(t *testing.T, url1, url2 string) map[string]string {
	t.Helper()
	dial := func(url, name string) *nats.Conn {
		nc, err := nats.Connect(url, nats.UserInfo("a", "a"), nats.Name(name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	a1 := dial(url1, "on1")
	a2 := dial(url2, "on2")
	a2.Flush()
	inbox := nats.NewInbox()
	sub, _ := a1.SubscribeSync(inbox)
	a1.Flush()
	servers := map[string]string{}
	deadline := time.Now().Add(10 * time.Second)
	for (servers["c1"] == "" || servers["c2"] == "") && time.Now().Before(deadline) {
		a1.PublishRequest("$SYS.REQ.ACCOUNT.PING.CONNZ", inbox, nil)
		for {
			m, err := sub.NextMsg(500 * time.Millisecond)
			if err != nil {
				break
			}
			var env struct {
				Server api.EventServer `json:"server"`
				Data   api.Connz       `json:"data"`
			}
			json.Unmarshal(m.Data, &env)
			for _, c := range env.Data.Conns {
				servers[env.Server.Name] = c.Name
			}
		}
	}
	return servers
}

// sysCluster runs two servers of sysImportConf in one cluster.
func sysCluster(t *testing.T) (*server.Server, *server.Server) {
	t.Helper()
	return clusterPair(t, sysImportConf)
}

// clusterPair runs two servers (c1, c2) of conf routed to each other and
// waits until each has the other as a peer.
func clusterPair(t *testing.T, conf string) (*server.Server, *server.Server) {
	t.Helper()
	at := func(name string, seed *server.Server) func(*server.Options) {
		return func(o *server.Options) {
			o.ServerName = name
			o.Cluster = &route.Config{Name: "cl", Host: "127.0.0.1", Port: -1, ReconnectDelay: 50 * time.Millisecond}
			if seed != nil {
				u, _ := url.Parse("nats-route://127.0.0.1:" + strconv.Itoa(seed.Routes().Port()))
				o.Cluster.Routes = []*url.URL{u}
			}
		}
	}
	s1 := runConf(t, conf, at("c1", nil))
	s2 := runConf(t, conf, at("c2", s1))
	testutil.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		for _, s := range []*server.Server{s1, s2} {
			if len(s.Routes().Remotes()) != 1 || !s.Routes().PoolsFull() {
				return fmt.Errorf("%s: routes not up", s.Name())
			}
		}
		return nil
	})
	return s1, s2
}
