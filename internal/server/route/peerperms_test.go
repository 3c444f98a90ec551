package route_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server/route"
)

// nats-server denies exporting secret.> and so ignores sluice's interest
// in it; when a reload lifts the deny, it announces its new permissions
// and sluice sends that interest again: the messages now arrive.
func TestPeerPermissionsWidenWithNATSServer(t *testing.T) {
	s1 := node(t, "s1", nil)
	conf := func(port, perms string) string {
		return fmt.Sprintf(`listen: "127.0.0.1:-1"
server_name: ref1
cluster {
  name: c, listen: "127.0.0.1:%s", routes: ["nats-route://127.0.0.1:%d"]
  %s
}
`, port, s1.Routes().Port(), perms)
	}
	ref := startRefConf(t, conf("-1", `permissions { export { deny: "secret.>" } }`))
	testutilWait(t, func() error {
		if len(s1.Routes().Remotes()) != 1 || !s1.Routes().PoolsFull() {
			return fmt.Errorf("not meshed")
		}
		return nil
	})
	rc := ref.connect(t)
	c1 := connect(t, s1)
	secret, _ := c1.SubscribeSync("secret.x")
	open, _ := c1.SubscribeSync("open.x")
	c1.Flush()
	flows(t, rc, c1, "open.y", ref.logs.String)
	rc.Publish("secret.x", nil)
	rc.Publish("open.x", nil)
	rc.Flush()
	next(t, open)
	if _, err := secret.NextMsg(200 * time.Millisecond); err == nil {
		t.Fatal("nats-server forwarded a subject it may not export")
	}

	ru, err := route.ParseURL(ref.route)
	if err != nil {
		t.Fatal(err)
	}
	ref.rewrite(conf(ru.Port(), ""))
	ref.reload()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rc.Publish("secret.x", nil)
		rc.Flush()
		if _, err := secret.NextMsg(100 * time.Millisecond); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("interest in secret.x not sent again after nats-server widened its export\n%s", ref.logs.String())
		}
	}
}
