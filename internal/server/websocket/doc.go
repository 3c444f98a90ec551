// Package websocket is the broker's WebSocket listener: the websocket {}
// configuration block, the HTTP upgrade handshake (method, headers, key,
// version, allowed origins, same origin, permessage-deflate negotiation,
// cookies), and RFC 6455 framing in both directions.
//
// An upgraded connection is a *Conn, a net.Conn whose Read returns the
// client protocol carried in the client's frames (unmasked, inflated,
// control frames answered) and whose Write and WriteBuffers send binary
// frames. The broker runs it through the same read loop and writer as a
// TCP client, so every core feature works unchanged over it.
//
// The package knows nothing of clients, accounts or authentication: it
// hands each upgraded connection to the Broker and says, through the
// Conn, what the handshake carried (cookies, TLS state, client IP). It
// must not import internal/server.
package websocket
