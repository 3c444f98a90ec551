// Package protocol parses and encodes the NATS client protocol. The Parser
// is a byte state machine that takes whatever the socket delivered and calls
// a Handler once per complete operation; it never allocates per message and
// never touches a socket. Encoding helpers append server operations (MSG,
// HMSG, INFO, -ERR) to caller-owned buffers.
//
// What counts as an unknown operation rather than bad arguments follows
// nats-server's parser, because clients see the difference (-ERR against
// a silent close): a blank must follow names that take arguments
// ("PUB\r\n" is unknown), CONNECT and INFO need none ("CONNECT{}" is
// fine), and PING, PONG and +OK ignore the rest of their line ("PINGX"
// is a PING).
//
// The package knows nothing of subjects, JSON or accounts; the handler
// validates what it is given.
package protocol
