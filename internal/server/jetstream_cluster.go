package server

import "errors"

// JetStream and clustering: sluice's JetStream keeps its streams on one
// server (no RAFT meta group yet). nats-server turns JetStream on a server
// with a cluster into clustered JetStream, where the servers share one
// set of streams; several sluice servers each answering $JS.API for
// their own streams across the routes would give clients double, mixed
// answers, and a sluice server announcing JetStream would be taken for a
// meta group member by nats-server peers. So a server with both is
// refused at start (and at reload), after the checks nats-server makes,
// with their wording.

var errJetStreamClusterUnsupported = errors.New("clustered JetStream is not supported yet: " +
	"run JetStream on a server without a cluster block, or the cluster without JetStream")

// checkJetStreamCluster refuses JetStream together with clustering.
func (o *Options) checkJetStreamCluster() error {
	if o.JetStream == nil || !o.JetStream.Enabled || !o.Cluster.Enabled() {
		return nil
	}
	if o.Cluster.Port != 0 {
		if o.ServerName == "" {
			return errors.New("jetstream cluster requires `server_name` to be set")
		}
		if o.Cluster.Name == "" {
			return errors.New("jetstream cluster requires `cluster.name` to be set")
		}
		if len(o.Cluster.Routes) == 0 {
			return errors.New("JetStream cluster requires configured routes or solicited leafnode for the system account")
		}
	}
	return errJetStreamClusterUnsupported
}
