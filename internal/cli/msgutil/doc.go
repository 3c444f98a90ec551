// Package msgutil holds what the messaging commands (pub, sub, request,
// reply, bench) share about messages: body and header templates, header
// flags, and how a received message is shown to people and as JSON. It
// knows nothing about cobra or connections.
package msgutil
