// Package consumercmd implements `sluice consumer`: JetStream consumer
// administration and reading with natscli's verbs and flag names.
package consumercmd
