// Package authcmd is `sluice auth`: nsc's commands for operators,
// accounts, users, keys and JWTs, on nsc's own store (internal/keystore).
// The verbs with objects (add, edit, delete, describe, list, generate,
// revocations) have a package each, one file per object.
package authcmd
