// Package servercmd builds `sluice server`: the commands that inspect and
// steer running servers through their $SYS services (list, ping, info,
// check, report, request, config reload, kick) and the offline helpers
// (passwd, mappings). Each verb lives in its own package below this one;
// this package only assembles them. Like every client command, they talk
// to servers over the wire and never import internal/server.
package servercmd
