package route_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/pkg/api"
)

func TestRoutezAndVarz(t *testing.T) {
	ss := mesh(t, 3, nil)
	nc := connect(t, ss[1])
	nc.SubscribeSync("seen.by.routez")
	nc.Flush()
	waitInterest(t, ss[0], "seen.by.routez", 1)
	rz, err := ss[0].Routez(&api.RoutezOptions{Subscriptions: true})
	if err != nil {
		t.Fatal(err)
	}
	// Two peers, each with a pool of 3 and the pinned $SYS connection.
	if rz.NumRoutes != 8 || len(rz.Routes) != 8 {
		t.Fatalf("%d routes, want 8", rz.NumRoutes)
	}
	found := false
	for _, r := range rz.Routes {
		if r.RemoteName == "" || r.RemoteID == "" || r.IP == "" {
			t.Fatalf("incomplete route %+v", r)
		}
		for _, s := range r.Subs {
			found = found || s == "seen.by.routez"
		}
	}
	if !found {
		t.Fatal("remote interest not listed")
	}
	v, err := ss[0].Varz()
	if err != nil {
		t.Fatal(err)
	}
	if v.Cluster.Name != "c" || v.Cluster.Port != ss[0].Routes().Port() || v.Cluster.PoolSize != 3 || v.Routes != 8 || v.Remotes != 2 {
		t.Fatalf("varz cluster %+v routes=%d remotes=%d", v.Cluster, v.Routes, v.Remotes)
	}
}

// /metrics counts the route connections /routez reports.
func TestMetricsCountRoutes(t *testing.T) {
	ss := mesh(t, 2, func(o *server.Options) { o.HTTPHost, o.HTTPPort = "127.0.0.1", server.RandomPort })
	rz, err := ss[0].Routez(nil)
	if err != nil || rz.NumRoutes == 0 {
		t.Fatalf("routez: %v, %d routes", err, rz.NumRoutes)
	}
	resp, err := http.Get(strings.TrimSuffix(ss[0].MonitorURL(), "/") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	want := fmt.Sprintf("} %d\n", rz.NumRoutes)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "gnatsd_routez_num_routes{") {
			if !strings.HasSuffix(line+"\n", want) {
				t.Fatalf("%q, want %d routes", line, rz.NumRoutes)
			}
			return
		}
	}
	t.Fatalf("no gnatsd_routez_num_routes in /metrics:\n%s", body)
}
