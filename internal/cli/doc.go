// Package cli builds sluice's command tree and runs it. It picks the
// program's personality from argv[0]: invoked as nats-server it behaves as
// `sluice serve` with nats-server's own flags.
package cli
