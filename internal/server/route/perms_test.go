package route_test

import (
	"testing"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/auth"
)

// Route permissions: import limits the interest a server announces (what
// it receives), export the interest it accepts (what it sends).
func TestRoutePermissions(t *testing.T) {
	s1 := node(t, "s1", func(o *server.Options) {
		o.Cluster.Import = &auth.SubjectPermission{Allow: []string{"allowed.>", "_INBOX.>"}}
		o.Cluster.Export = &auth.SubjectPermission{Deny: []string{"secret.>"}}
	})
	s2 := node(t, "s2", nil, s1)
	waitMesh(t, s1, s2)
	c1, c2 := connect(t, s1), connect(t, s2)

	in, _ := c1.SubscribeSync("allowed.x")
	out, _ := c1.SubscribeSync("other.x")
	c1.Flush()
	waitInterest(t, s2, "allowed.x", 1)
	c2.Publish("other.x", nil) // s2 has no interest from s1 in it: stays on s2
	c2.Publish("allowed.x", nil)
	c2.Flush()
	next(t, in)
	noMore(t, out)
	if n := s2.GlobalAccount().Match("other.x"); n != 0 {
		t.Fatalf("s1 announced other.x, which it may not import (%d matches)", n)
	}

	sec, _ := c2.SubscribeSync("secret.x")
	pub, _ := c2.SubscribeSync("public.x")
	c2.Flush()
	waitInterest(t, s1, "public.x", 1)
	if n := s1.GlobalAccount().Match("secret.x"); n != 0 {
		t.Fatalf("s1 took interest in secret.x, which it may not export")
	}
	c1.Publish("secret.x", nil)
	c1.Publish("public.x", nil)
	c1.Flush()
	next(t, pub)
	noMore(t, sec)
	rz, _ := s1.Routez(nil)
	if rz.Import == nil || rz.Export == nil || rz.Export.Deny[0] != "secret.>" {
		t.Fatalf("routez permissions %+v %+v", rz.Import, rz.Export)
	}
}
