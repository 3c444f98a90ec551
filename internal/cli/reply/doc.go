// Package replycmd implements `sluice reply`: a responder that answers
// requests with a fixed body, an echo, or a command's output.
package replycmd
