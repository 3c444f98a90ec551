package route_test

import (
	"testing"

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
