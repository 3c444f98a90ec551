package jetstream_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/server/srvtest"
	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/testutil"
	"github.com/sluicehq/sluice/internal/testutil/refbin"
)

// bothWithConfig runs fn against sluice (in-process) and nats-server,
// each started from the same configuration text; %s in conf is replaced
// by a store directory. Users: sys/sys in SYS, a/a in A.
func bothWithConfig(t *testing.T, conf string, fn func(t *testing.T, url string)) {
	write := func(t *testing.T) (string, string) {
		dir := t.TempDir()
		cf := filepath.Join(dir, "s.conf")
		text := fmt.Sprintf("listen: \"127.0.0.1:-1\"\nports_file_dir: %q\n", dir) + strings.ReplaceAll(conf, "%s", filepath.Join(dir, "js"))
		if err := os.WriteFile(cf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return cf, dir
	}
	t.Run("nats-server", func(t *testing.T) {
		cf, dir := write(t)
		fn(t, srvtest.StartProcess(t, refbin.NATSServer(t), cf, dir))
	})
	t.Run("sluice", func(t *testing.T) {
		cf, _ := write(t)
		var opts server.Options
		if _, err := opts.ProcessConfigFile(cf, true); err != nil {
			t.Fatal(err)
		}
		opts.Host, opts.Port, opts.PortsFileDir = "127.0.0.1", server.RandomPort, ""
		s := testutil.RunServer(t, func(o *server.Options) { *o = opts })
		fn(t, s.ClientURL())
	})
}

const accountsConf = `accounts { SYS { users: [{user: sys, password: sys}] }, A { users: [{user: a, password: a}], jetstream: enabled } }
system_account: SYS
`

// TestRequestQueueLimit: an API queue reaching request_queue_limit is
// emptied, the requests go unanswered and the system account gets an
// api_limit_reached advisory. A limit of 1 drops every request.
func TestRequestQueueLimit(t *testing.T) {
	bothWithConfig(t, "jetstream { store_dir: \"%s\", request_queue_limit: 1 }\n"+accountsConf, func(t *testing.T, url string) {
		sys, err := nats.Connect(url, nats.UserInfo("sys", "sys"))
		if err != nil {
			t.Fatal(err)
		}
		defer sys.Close()
		adv, _ := sys.SubscribeSync("$JS.EVENT.ADVISORY.API.LIMIT_REACHED")
		sys.Flush()
		nc, err := nats.Connect(url, nats.UserInfo("a", "a"))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		// nats-server's workers may take a request before the queue is
		// emptied, so there only the advisory is certain; sluice empties
		// the queue before any worker sees it.
		_, err = nc.Request("$JS.API.INFO", nil, 300*time.Millisecond)
		if err == nil && !strings.Contains(t.Name(), "nats-server") {
			t.Fatal("request answered over the queue limit")
		}
		m, err := adv.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("no advisory: %v", err)
		}
		var ev struct {
			Type    string `json:"type"`
			Server  string `json:"server"`
			Dropped int64  `json:"dropped"`
		}
		if err := json.Unmarshal(m.Data, &ev); err != nil || ev.Type != "io.nats.jetstream.advisory.v1.api_limit_reached" || ev.Dropped > 1 || ev.Server == "" {
			t.Fatalf("advisory %s", m.Data)
		}
	})
}

// TestUniqueTagReported: unique_tag places replicas in a cluster; a
// single server only reports it (lower-cased), in /varz's jetstream
// config as nats-server does.
func TestUniqueTagReported(t *testing.T) {
	bothWithConfig(t, "jetstream { store_dir: \"%s\", unique_tag: \" AZ: \" }\n"+accountsConf, func(t *testing.T, url string) {
		sys, err := nats.Connect(url, nats.UserInfo("sys", "sys"))
		if err != nil {
			t.Fatal(err)
		}
		defer sys.Close()
		m, err := sys.Request("$SYS.REQ.SERVER.PING.VARZ", nil, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Data struct {
				JetStream struct {
					Config struct {
						UniqueTag string `json:"unique_tag"`
					} `json:"config"`
				} `json:"jetstream"`
			} `json:"data"`
		}
		if err := json.Unmarshal(m.Data, &v); err != nil || v.Data.JetStream.Config.UniqueTag != "az:" {
			t.Fatalf("varz unique_tag %q (%v)", v.Data.JetStream.Config.UniqueTag, err)
		}
	})
}
