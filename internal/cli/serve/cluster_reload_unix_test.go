//go:build !windows

package servecmd

import (
	"fmt"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

var routeListenRE = regexp.MustCompile(`Listening for route connections on ([0-9.]+:\d+)`)

func clusterConf(name, listen, routes string) string {
	return fmt.Sprintf("listen: \"127.0.0.1:-1\"\nserver_name: %s\ncluster {\n  name: c\n  listen: %q\n  %s\n}\n", name, listen, routes)
}

// SIGHUP reloads the cluster block: a route added joins the servers, a
// change of the cluster listener is refused with nats-server's words and
// changes nothing, and a route removed parts them.
func TestServeClusterReloadOnSIGHUP(t *testing.T) {
	bin := sluiceBinary(t)
	dir := t.TempDir()
	ca, cb := filepath.Join(dir, "a.conf"), filepath.Join(dir, "b.conf")
	writeFile(t, ca, clusterConf("A", "127.0.0.1:-1", ""))
	writeFile(t, cb, clusterConf("B", "127.0.0.1:-1", ""))
	pa, addrA := startServer(t, bin, "serve", "-c", ca)
	pb, addrB := startServer(t, bin, "serve", "-c", cb)
	m := routeListenRE.FindStringSubmatch(pa.Logs())
	if m == nil {
		t.Fatalf("no route listener logged:\n%s", pa.Logs())
	}
	routes := fmt.Sprintf("routes: [\"nats-route://%s\"]", m[1])

	writeFile(t, cb, clusterConf("B", "127.0.0.1:-1", routes))
	pb.cmd.Process.Signal(syscall.SIGHUP)
	pb.waitLog(t, "Reloaded: cluster routes")
	pa.waitLog(t, "Registered remote route")
	a, err := nats.Connect("nats://" + addrA)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := nats.Connect("nats://" + addrB)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sub, _ := a.SubscribeSync("over.route")
	a.Flush()
	waitFor(t, func() bool {
		b.Publish("over.route", nil)
		b.Flush()
		_, err := sub.NextMsg(50 * time.Millisecond)
		return err == nil
	}, "a message from B to A after the route was added")

	writeFile(t, cb, clusterConf("B", "127.0.0.1:7999", routes))
	pb.cmd.Process.Signal(syscall.SIGHUP)
	pb.waitLog(t, "config reload not supported for cluster port: old=-1, new=7999")
	b.Publish("over.route", []byte("still"))
	for { // earlier probes may come first
		msg, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("route lost after a refused reload: %v", err)
		}
		if string(msg.Data) == "still" {
			break
		}
	}

	writeFile(t, cb, clusterConf("B", "127.0.0.1:-1", ""))
	pb.cmd.Process.Signal(syscall.SIGHUP)
	// The route may close before the reload's summary line is logged.
	pb.waitLog(t, "removed [nats-route://"+m[1]+"]")
	pb.waitLog(t, "Route connection closed: Route Removed")
}
