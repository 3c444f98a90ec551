// Package cmdutil holds what every sluice command shares: the lazy factory,
// I/O streams, the --json helper, tables, prompts and typed errors that map
// to exit codes. It must not import any command package.
package cmdutil
