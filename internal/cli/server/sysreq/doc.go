// Package sysreq asks the $SYS services of running servers and gathers
// their answers, for the `sluice server` commands. One request may be
// answered by every server of a cluster, so answers are collected until
// the expected number arrived, the timeout passed, or (when the number
// is unknown) the answers stopped coming.
//
// It speaks only the wire: requests and replies are pkg/api types, and
// it must not import internal/server.
package sysreq
