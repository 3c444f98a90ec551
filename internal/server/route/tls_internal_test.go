package route

import (
	"net/url"
	"testing"
)

func TestDNSNameMatches(t *testing.T) {
	u := func(s string) *url.URL { x, _ := url.Parse(s); return x }
	urls := []*url.URL{nil, u("nats-route://Node1.Example.net:6222"), u("nats-route://10.0.0.1:6222")}
	for name, want := range map[string]bool{
		"node1.example.net": true, "NODE1.example.NET": true, "*.example.net": true,
		"node2.example.net": false, "example.net": false, "*.*.net": false, "node1.*.net": false,
		"a.node1.example.net": false, "*.node1.example.net": false, "10.0.0.1": true, "*.0.0.1": true,
	} {
		if got := dnsNameMatches(name, urls); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
}
