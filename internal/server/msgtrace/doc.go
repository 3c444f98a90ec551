// Package msgtrace builds message trace events as nats-server publishes
// them: a message published with a Nats-Trace-Dest header (or a sampled
// W3C traceparent header in an account with a trace destination) makes the
// server report each step it took with the message (ingress, subject
// mapping, stream exports, service imports, JetStream, egress per
// subscription or route; a server the message reaches over a route reports
// its own part) to the trace destination, in nats-server's JSON.
//
// It owns the header parsing and the event document; it knows nothing of
// connections or accounts. The server records steps through an Event and
// publishes the encoded result in the tracer's account.
package msgtrace
