package servecmd

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/server/route"
)

// applyClusterFlags puts --cluster, --cluster-name, --routes,
// --cluster-advertise, --no-advertise and --connect-retries over the
// file's cluster {} block.
func (o *serveOptions) applyClusterFlags(opts *server.Options) error {
	given := func(n string) bool { return o.changed[n] || o.changed[strings.ReplaceAll(n, "-", "_")] }
	any := false
	for _, n := range []string{"cluster", "cluster-name", "routes", "cluster-advertise", "no-advertise", "connect-retries"} {
		any = any || given(n)
	}
	if !any {
		return nil
	}
	var c route.Config
	if opts.Cluster != nil {
		c = *opts.Cluster
	}
	if given("cluster") && o.cluster != "" {
		host, port, err := clusterListen(o.cluster)
		if err != nil {
			return err
		}
		c.Host, c.Port = host, port
	}
	if given("cluster-name") {
		if err := route.CheckName(o.clusterName); err != nil {
			return fmt.Errorf("--cluster_name: %w", err)
		}
		c.Name = o.clusterName
	}
	if given("routes") {
		rs, err := route.ParseRoutes(o.routes)
		if err != nil {
			return fmt.Errorf("--routes: %w", err)
		}
		c.Routes = rs
	}
	if given("cluster-advertise") {
		c.Advertise = o.clusterAdvertise
	}
	if given("no-advertise") {
		c.NoAdvertise = o.noAdvertise
	}
	if given("connect-retries") {
		c.ConnectRetries = o.connectRetries
	}
	opts.Cluster = &c
	return nil
}

// clusterListen reads --cluster: nats://host:port, host:port or a port
// (-1 for a random one).
func clusterListen(s string) (string, int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return "0.0.0.0", n, nil
	}
	hp := s
	if i := strings.Index(hp, "://"); i >= 0 {
		hp = hp[i+3:]
	}
	if i := strings.LastIndex(hp, "@"); i >= 0 {
		hp = hp[i+1:] // credentials go in the cluster authorization block
	}
	hp = strings.TrimSuffix(hp, "/")
	host, p, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, fmt.Errorf("--cluster: want [nats://]host:port, got %q", s)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < -1 || port > 65535 {
		return "", 0, fmt.Errorf("--cluster: invalid port %q", p)
	}
	return host, port, nil
}
