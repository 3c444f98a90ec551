// Package subcmd implements `sluice sub`: subscribe to subjects and show
// the messages, for people or as JSON lines.
package subcmd
