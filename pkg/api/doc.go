// Package api holds the wire types shared by the sluice server and its CLI:
// INFO and CONNECT, and later JetStream requests and responses, monitoring
// and $SYS payloads. It depends on nothing else in sluice, so both sides
// marshal the very same structs.
package api
