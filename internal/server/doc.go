// Package server is the broker: the Server, its options and configuration
// reading, listeners, client connections, accounts, message delivery,
// internal subscriptions, $SYS services and the monitoring glue. Every
// subsystem with its own state (jetstream, store, monitor, auth, ...)
// lives in a subpackage that declares the small interface it needs; this
// package satisfies those interfaces and does the wiring only.
//
// Lock order. A goroutine holding one of these locks may take only locks
// further down the list, never one above it:
//
//  1. Server.mu
//  2. Account locks (accountRegistry.mu, then Account.imu)
//  3. client.mu
//  4. jetstream: JetStream.mu, then account (jsAccount.mu), then stream.mu
//  5. jetstream: consumer.mu (consumers issue)
//  6. route: Manager.mu, then routePeer.mu and the subscription index
//     (route.Manager.Interest is called with no server lock held), then
//     route.Conn.mu, taken last to queue output
//
// JetStream never calls back into the server (publish, subscribe) while
// holding a stream or consumer lock: internal publishes take client and
// account locks, which sit above them. Internal subscription callbacks run
// without any server lock held: on the server's internal queue goroutine,
// or, for inline ones (a stream's ingest, direct get), on the publishing
// client's read loop, which a stream with a full ingest queue may hold
// until it takes messages again (deliverOwning).
//
// A stored message's payload, once loaded, never changes (store.Msg): the
// internal publisher delivering a consumer's messages (c.stable) queues
// large ones to the receiver without a copy (outbound.borrow).
package server
