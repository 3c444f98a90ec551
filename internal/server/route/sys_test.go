package route_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/auth"
	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

func withSys(o *server.Options) {
	o.Accounts = append(o.Accounts, &server.AccountConfig{Name: "SYS"})
	o.Users = append(o.Users, &auth.User{Username: "sys", Password: "sys", Account: "SYS"})
	o.SystemAccount = "SYS"
}

// pingAll gathers the answers to $SYS.REQ.SERVER.PING until none comes
// for a while.
func pingAll(t *testing.T, nc *nats.Conn) []string {
	t.Helper()
	inbox := nats.NewInbox()
	sub, _ := nc.SubscribeSync(inbox)
	defer sub.Unsubscribe()
	nc.PublishRequest("$SYS.REQ.SERVER.PING", inbox, nil)
	var names []string
	for {
		m, err := sub.NextMsg(500 * time.Millisecond)
		if err != nil {
			break
		}
		var r struct {
			Server struct {
				Name string `json:"name"`
			} `json:"server"`
		}
		json.Unmarshal(m.Data, &r)
		names = append(names, r.Server.Name)
	}
	sort.Strings(names)
	return names
}

// $SYS.REQ.SERVER.PING from any server gathers every server of the
// cluster, sluice and nats-server alike.
func TestSysPingGathersCluster(t *testing.T) {
	s1 := node(t, "s1", withSys)
	dir := t.TempDir()
	conf := fmt.Sprintf(`listen: "127.0.0.1:-1"
server_name: ref1
ports_file_dir: %q
accounts { SYS { users: [{user: sys, password: sys}] } }
system_account: SYS
cluster { name: c, listen: "127.0.0.1:-1", routes: ["nats-route://127.0.0.1:%d"] }
`, dir, s1.Routes().Port())
	cf := filepath.Join(dir, "ref.conf")
	os.WriteFile(cf, []byte(conf), 0o600)
	ref := &refNode{t: t, bin: refbin.NATSServer(t), conf: cf, dir: dir}
	ref.start()
	t.Cleanup(ref.stop)
	s2 := node(t, "s2", withSys, s1)
	testutil.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		for _, s := range []*server.Server{s1, s2} {
			if n := len(s.Routes().Remotes()); n != 2 || !s.Routes().PoolsFull() {
				return fmt.Errorf("%s: %d peers", s.Name(), n)
			}
		}
		return nil
	})
	want := "ref1,s1,s2"
	for _, url := range []string{s1.ClientURL(), s2.ClientURL(), ref.url} {
		nc, err := nats.Connect(url, nats.UserInfo("sys", "sys"))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		testutil.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
			if got := strings.Join(pingAll(t, nc), ","); got != want {
				return fmt.Errorf("from %s: %s, want %s", url, got, want)
			}
			return nil
		})
	}
}
