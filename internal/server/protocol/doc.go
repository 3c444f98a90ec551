// Package protocol parses and encodes the NATS client protocol. The Parser
// is a byte state machine that takes whatever the socket delivered and calls
// a Handler once per complete operation; it never allocates per message and
// never touches a socket. Encoding helpers append server operations (MSG,
// HMSG, INFO, -ERR) to caller-owned buffers.
package protocol
