// Package keystore reads and writes nsc's store of operators, accounts,
// users and their keys, in nsc's own layout, so that a store nsc made
// works with `sluice auth` and the other way round.
//
// Three directories, each overridable:
//
//	config  $NSC_HOME, else $XDG_CONFIG_HOME/nats/nsc (~/.config/nats/nsc,
//	        or ~/.nsc when only that exists)
//	        nsc.json    {"store_root", "operator", "account", ...}: the
//	                    current context
//	data    nsc.json's store_root, else $XDG_DATA_HOME/nats/nsc/stores
//	        <operator>/.nsc                      {"name","kind":"operator","version":"1"}
//	        <operator>/<operator>.jwt
//	        <operator>/accounts/<account>/<account>.jwt
//	        <operator>/accounts/<account>/users/<user>.jwt
//	keys    $NKEYS_PATH, else $XDG_DATA_HOME/nats/nsc/keys
//	        keys/<kind letter>/<2nd-3rd letters>/<public key>.nk   (seed)
//	        creds/<operator>/<account>/<user>.creds
//	        .gitignore
//
// Every file is written to a temporary file in its directory and renamed
// into place, so a failed command leaves the store as it was. Seeds and
// creds are 0600, directories 0700.
package keystore
