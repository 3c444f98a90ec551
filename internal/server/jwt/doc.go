// Package jwt is operator mode: the trust chain operator -> account ->
// user of NATS JWTs signed with nkeys. It owns the trusted operators
// (operator, trusted_keys), the account resolvers (MEMORY with
// resolver_preload, URL, and the full/cache NATS resolver storing account
// JWTs in a directory), the $SYS.REQ.CLAIMS.* services of the NATS
// resolver, the translation of an account JWT into account settings
// (limits, exports, imports with activations, mappings, default
// permissions) and the verification of a user JWT at login (issuer,
// signing keys and scope templates, expiry, revocations, bearer, source
// networks, time windows, connection types, the nonce signature).
//
// It never touches connections or delivery: the broker hands it claims
// and asks questions, or implements the small Host interface the claims
// services need. It must not import internal/server.
package jwt
