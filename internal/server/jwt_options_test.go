package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/server"
)

// opTarget is a server in operator mode under test: its client and
// monitoring URLs.
type opTarget struct{ url, mon string }

// bothFromConf runs fn against sluice and nats-server v2.15.2 started
// from the same configuration text.
func bothFromConf(t *testing.T, conf string, fn func(t *testing.T, tg opTarget)) {
	t.Run("sluice", func(t *testing.T) {
		s := runConf(t, conf, func(o *server.Options) { o.HTTPHost, o.HTTPPort = "127.0.0.1", server.RandomPort })
		fn(t, opTarget{url: s.ClientURL(), mon: s.MonitorURL()})
	})
	t.Run("nats-server", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "ref.conf")
		text := conf + fmt.Sprintf("listen: \"127.0.0.1:-1\"\nhttp: \"127.0.0.1:-1\"\nports_file_dir: %q\n", dir)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		url := srvtest.StartProcess(t, srvtest.ReferenceBinary(), path, dir)
		b, _ := os.ReadFile(mustGlob(t, filepath.Join(dir, "*.ports")))
		var ports struct {
			Monitoring []string `json:"monitoring"`
		}
		json.Unmarshal(b, &ports)
		if len(ports.Monitoring) == 0 {
			t.Fatalf("no monitoring URL in %s", b)
		}
		fn(t, opTarget{url: url, mon: ports.Monitoring[0]})
	})
}

func mustGlob(t *testing.T, pattern string) string {
	t.Helper()
	m, _ := filepath.Glob(pattern)
	if len(m) != 1 {
		t.Fatalf("%s: %v", pattern, m)
	}
	return m[0]
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v: %s", url, err, b)
	}
}

// operatorConf is an operator mode configuration with a MEMORY resolver
// preloaded with accs, plus extra lines.
func operatorConf(op *tOperator, extra string, accs ...*tAccount) string {
	var b strings.Builder
	fmt.Fprintf(&b, "operator: %q\nsystem_account: %s\nresolver: MEMORY\nresolver_preload: {\n  %s: %q\n", op.jwt, op.sys.pub, op.sys.pub, op.sys.jwt)
	for _, a := range accs {
		fmt.Fprintf(&b, "  %s: %q\n", a.pub, a.jwt)
	}
	b.WriteString("}\n" + extra + "\n")
	return b.String()
}

// resolver_pinned_accounts and default_sentinel as nats-server runs them:
// users of an account not pinned are refused (and counted in /varz), the
// system account's always log in, and a client sending no JWT logs in as
// the sentinel. /connz?auth=1 shows the JWT fields nats-server shows.
func TestPinnedAccountsAndSentinelMatchReference(t *testing.T) {
	op := newOperator(t)
	a := op.account(t, "A", nil)
	b := op.account(t, "B", nil)
	sentinel, _ := a.user(t, "sentinel", func(uc *njwt.UserClaims) { uc.BearerToken = true })
	skp, _ := nkeys.CreateAccount()
	spub, _ := skp.PublicKey()
	a.sign(t, func(ac *njwt.AccountClaims) { ac.SigningKeys.Add(spub) })
	conf := operatorConf(op, fmt.Sprintf("resolver_pinned_accounts: [%s]\ndefault_sentinel: %q\n", a.pub, sentinel), a, b)
	utok, ukp := a.user(t, "alice", func(uc *njwt.UserClaims) { uc.Tags.Add("team:red", "tier:gold") })
	stok, skp2 := a.userSignedBy(t, skp, "bob", nil)
	btok, bkp := b.user(t, "carol", nil)
	systok, syskp := op.sys.user(t, "admin", nil)

	bothFromConf(t, conf, func(t *testing.T, tg opTarget) {
		connect := func(opts ...nats.Option) (*nats.Conn, error) {
			return nats.Connect(tg.url, append(opts, nats.MaxReconnects(0), nats.Timeout(5*time.Second))...)
		}
		for name, o := range map[string]nats.Option{"alice": creds(utok, ukp), "bob": creds(stok, skp2), "system": creds(systok, syskp)} {
			nc, err := connect(o, nats.Name(name))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			defer nc.Close()
		}
		if nc, err := connect(creds(btok, bkp)); err == nil {
			nc.Close()
			t.Fatal("user of an account not pinned logged in")
		} else if !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
			t.Fatalf("unpinned: %v", err)
		}
		anon, err := connect(nats.Name("anon"))
		if err != nil {
			t.Fatalf("no JWT, default sentinel: %v", err)
		}
		defer anon.Close()
		if got, _ := anon.GetClientID(); got == 0 {
			t.Fatal("no client id")
		}

		var v struct {
			PinnedFails uint64 `json:"pinned_account_fails"`
		}
		getJSON(t, tg.mon+"/varz", &v)
		if v.PinnedFails != 1 {
			t.Errorf("pinned_account_fails %d, want 1", v.PinnedFails)
		}

		var cz struct {
			Conns []struct {
				Name      string   `json:"name"`
				User      string   `json:"authorized_user"`
				Account   string   `json:"account"`
				JWT       string   `json:"jwt"`
				IssuerKey string   `json:"issuer_key"`
				NameTag   string   `json:"name_tag"`
				Tags      []string `json:"tags"`
			} `json:"connections"`
		}
		getJSON(t, tg.mon+"/connz?auth=1", &cz)
		got := map[string]string{}
		for _, c := range cz.Conns {
			got[c.Name] = fmt.Sprintf("user=%s acc=%s jwt=%v issuer=%s tag=%s tags=%v", c.User, c.Account, c.JWT != "", c.IssuerKey, c.NameTag, c.Tags)
		}
		alicePub, _ := ukp.PublicKey()
		bobPub, _ := skp2.PublicKey()
		sysPub, _ := syskp.PublicKey()
		sentUC, _ := njwt.DecodeUserClaims(sentinel)
		want := map[string]string{
			"alice":  fmt.Sprintf("user=%s acc=%s jwt=true issuer=%s tag=A tags=[team:red tier:gold]", alicePub, a.pub, a.pub),
			"bob":    fmt.Sprintf("user=%s acc=%s jwt=true issuer=%s tag=A tags=[]", bobPub, a.pub, spub),
			"system": fmt.Sprintf("user=%s acc=%s jwt=true issuer=%s tag=SYS tags=[]", sysPub, op.sys.pub, op.sys.pub),
			"anon":   fmt.Sprintf("user=%s acc=%s jwt=false issuer=%s tag=A tags=[]", sentUC.Subject, a.pub, a.pub),
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s:\n got %s\nwant %s", k, got[k], w)
			}
		}
	})
}

// Outside operator mode /connz?auth=1 shows the account's name tag (the
// global account's too) and, for nkey users, their account as issuer.
func TestConnzAuthFieldsConfigModeMatchReference(t *testing.T) {
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	conf := fmt.Sprintf("accounts { X { users: [{user: x, password: p}, {nkey: %s}] } }\nauthorization { users: [{user: g, password: p}] }\n", upub)
	bothFromConf(t, conf, func(t *testing.T, tg opTarget) {
		for name, o := range map[string]nats.Option{"x": nats.UserInfo("x", "p"), "g": nats.UserInfo("g", "p"), "n": nats.Nkey(upub, ukp.Sign)} {
			nc, err := nats.Connect(tg.url, o, nats.Name(name), nats.MaxReconnects(0))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			defer nc.Close()
		}
		var cz struct {
			Conns []struct {
				Name      string `json:"name"`
				User      string `json:"authorized_user"`
				Account   string `json:"account"`
				IssuerKey string `json:"issuer_key"`
				NameTag   string `json:"name_tag"`
			} `json:"connections"`
		}
		getJSON(t, tg.mon+"/connz?auth=1", &cz)
		got := map[string]string{}
		for _, c := range cz.Conns {
			got[c.Name] = fmt.Sprintf("user=%s acc=%s issuer=%s tag=%s", c.User, c.Account, c.IssuerKey, c.NameTag)
		}
		want := map[string]string{
			"x": "user=x acc=X issuer= tag=X",
			"g": "user=g acc= issuer= tag=$G",
			"n": fmt.Sprintf("user=%s acc=X issuer=X tag=X", upub),
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s:\n got %s\nwant %s", k, got[k], w)
			}
		}
	})
}

// An account JWT's data limit (limits.data, and a user's data) is not
// enforced by nats-server v2.15.2 (nothing in it reads the field); sluice
// does the same, so a JWT that works there works here.
func TestAccountDataLimitAsReference(t *testing.T) {
	op := newOperator(t)
	a := op.account(t, "A", func(ac *njwt.AccountClaims) { ac.Limits.Data = 100 })
	tok, kp := a.user(t, "u", func(uc *njwt.UserClaims) { uc.Limits.Data = 100 })
	bothFromConf(t, operatorConf(op, "", a), func(t *testing.T, tg opTarget) {
		nc, err := nats.Connect(tg.url, creds(tok, kp), nats.MaxReconnects(0))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		sub, _ := nc.SubscribeSync("d")
		for range 10 {
			nc.Publish("d", make([]byte, 100))
		}
		for i := range 10 {
			if _, err := sub.NextMsg(2 * time.Second); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
		}
	})
}

// The connect event of a JWT login names its JWT, issuer, tags and the
// account's name tag, as nats-server's does.
func TestConnectEventJWTFieldsMatchReference(t *testing.T) {
	op := newOperator(t)
	a := op.account(t, "A", nil)
	utok, ukp := a.user(t, "alice", func(uc *njwt.UserClaims) { uc.Tags.Add("team:red") })
	systok, syskp := op.sys.user(t, "admin", nil)
	bothFromConf(t, operatorConf(op, "", a), func(t *testing.T, tg opTarget) {
		sys, err := nats.Connect(tg.url, creds(systok, syskp))
		if err != nil {
			t.Fatal(err)
		}
		defer sys.Close()
		evs, _ := sys.SubscribeSync("$SYS.ACCOUNT." + a.pub + ".CONNECT")
		sys.Flush()
		nc, err := nats.Connect(tg.url, creds(utok, ukp), nats.Name("alice-app"))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		m, err := evs.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var ev struct {
			Client map[string]any `json:"client"`
		}
		json.Unmarshal(m.Data, &ev)
		upub, _ := ukp.PublicKey()
		c := ev.Client
		got := fmt.Sprintf("user=%v jwt=%v issuer=%v tag=%v tags=%v", c["user"], c["jwt"] == utok, c["issuer_key"], c["name_tag"], c["tags"])
		if want := fmt.Sprintf("user=%s jwt=true issuer=%s tag=A tags=[team:red]", upub, a.pub); got != want {
			t.Errorf("connect event client:\n got %s\nwant %s", got, want)
		}
	})
}
