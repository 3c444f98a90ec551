// Package natscontext reads and writes stored connection contexts in the
// same files natscli uses, and turns a context into nats.go options.
//
// Layout, under $XDG_CONFIG_HOME (or ~/.config when it is unset):
//
//	nats/context/<name>.json     one context per file, mode 0600
//	nats/context.txt             the name of the selected context
//	nats/previous-context.txt    the context selected before it
//
// A context file is a flat JSON object. Every field natscli knows is
// kept, written in natscli's order and form (two-space indent, no
// trailing newline), and fields this package does not know are carried
// through a load and save unchanged, so a file natscli wrote works here
// and a file written here works in natscli.
//
// Credential fields (creds, nkey, user_jwt, user_seed, token, password)
// may hold a file path, a file:// URI, env://NAME or an inline
// data:;base64,... value; see Resolve.
//
// The package knows nothing about flags, environment precedence or
// commands: that is internal/cli/cmdutil's job. All writes are atomic
// (temporary file, fsync, rename).
package natscontext
