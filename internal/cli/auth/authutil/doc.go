// Package authutil is what the `sluice auth` commands share: opening the
// nsc-compatible store from flags and the environment, choosing the
// operator and account, finding the keys to sign with, parsing times and
// printing claims.
package authutil
