// Package auth holds the broker's authentication and authorization rules:
// the configured users (password, bcrypt hash or nkey), credential checks
// for a CONNECT, and compiled publish/subscribe permissions with the
// response permissions of allow_responses.
//
// It knows nothing of connections or accounts beyond their names: the
// server asks it questions and acts on the answers. It must not import
// internal/server.
package auth
