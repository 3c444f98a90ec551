// Package route owns clustering by routes: the cluster {} configuration
// block, the route listener and dialer (connect_retries, backoff, gossip of
// members), and the route connections with their protocol as nats-server
// v2.15 speaks it (INFO/CONNECT, PING/PONG, RS+/RS-, LS+/LS-, RMSG/HMSG,
// route pools and pinned accounts).
//
// It keeps the table of local interest (per account, subject and queue,
// reference counted) that it announces to every peer, and hands what peers
// announce and send to the broker through the Broker and Peer interfaces,
// which the server package implements. It never touches accounts,
// subscriptions or client connections itself.
//
// Beyond the handshake: accounts pinned at runtime move to their own
// connections with nats-server's route_account/route_acc_add_reqid INFO
// (pinned.go), a generated cluster name gives way to a peer's (name.go),
// and a peer's later INFO with wider export permissions brings the
// interest it may now take again (peerperms.go).
//
// Lock order inside the package: Manager.mu, then Conn.mu. Neither is held
// while calling the broker, so the broker may call back (Send*, Interest)
// from any goroutine.
package route
