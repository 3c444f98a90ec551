// Package benchcmd implements `sluice bench`: load generators for
// publish, subscribe and request-reply with nats bench's figures
// (messages and bytes per second, latency percentiles, several clients).
package benchcmd
