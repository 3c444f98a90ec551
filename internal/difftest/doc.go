// Package difftest is a differential test harness: it generates small,
// seeded configurations (users, publish/subscribe permissions with allow,
// deny and queue entries, allow_responses, accounts with stream and
// service imports and exports, subject mappings) and client scenarios
// (subscriptions with and without queues and wildcards, publishes,
// requests answered by auto-replying clients), plays each scenario over
// the raw client protocol against two servers, and reports the first
// difference in what a client received or the errors it got.
//
// It compares sluice with the reference nats-server; it knows nothing of
// either (a Target starts a server from a configuration file), so it can
// grow with JetStream and operator-mode scenarios. A case is reproducible
// from its seed and index alone.
//
// Scenarios are built so that the outcome is deterministic on a correct
// server: every step is followed by a PING/PONG round on every client,
// a queue group in an account has members on one client only (which
// member takes a message is random, which client is not), and what one
// client receives within a step is compared as a sorted multiset.
package difftest
