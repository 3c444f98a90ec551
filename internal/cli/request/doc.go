// Package requestcmd implements `sluice request`: send requests and show
// the replies, waiting for one or many.
package requestcmd
