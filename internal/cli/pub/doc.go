// Package pubcmd implements `sluice pub`: publish messages, from an
// argument or stdin, with templates, headers and repeat counts.
package pubcmd
