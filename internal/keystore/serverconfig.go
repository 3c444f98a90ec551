package keystore

import (
	"fmt"
	"sort"
	"strings"
)

// ServerConfig describes the operator-mode configuration to write.
type ServerConfig struct {
	OperatorName  string
	OperatorJWT   string
	SystemAccount string // public key; "" for none
	// Accounts maps public keys to names and JWTs, preloaded into the
	// resolver.
	Accounts []ConfigAccount
	// Full makes a `resolver { type: full }` block (nats-resolver) with
	// JWTs kept in Dir; otherwise the MEMORY resolver.
	Full bool
	Dir  string
	// AllowDelete lets `push --prune` delete accounts (nats resolver).
	AllowDelete bool
}

// ConfigAccount is one preloaded account.
type ConfigAccount struct {
	Name, PublicKey, JWT string
}

// Render returns the configuration text that nats-server and
// `sluice serve` read.
func (c *ServerConfig) Render() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Operator %q\noperator: %s\n\n", c.OperatorName, c.OperatorJWT)
	if c.SystemAccount != "" {
		fmt.Fprintf(&b, "# System Account %q\nsystem_account: %s\n\n", c.nameOf(c.SystemAccount), c.SystemAccount)
	}
	if c.Full {
		dir := c.Dir
		if dir == "" {
			dir = "./jwt"
		}
		fmt.Fprintf(&b, `# configuration of the nats based resolver
resolver {
    type: full
    # Directory in which the account jwt will be stored
    dir: %q
    # In order to support jwt deletion, set to true
    # If the resolver type is full delete will rename the jwt.
    # This is to allow manual restoration in case of inadvertent deletion.
    # To restore a jwt, remove the added suffix .delete and restart or send a reload signal.
    # To free up storage you must manually delete files with the suffix .delete.
    allow_delete: %t
    # Interval at which a nats-server with a nats based account resolver will compare
    # it's state with one random nats based account resolver in the cluster and if needed,
    # exchange jwt and converge on the same set of jwt.
    interval: "2m"
    # Timeout for lookup requests in case an account does not exist locally.
    timeout: "1.9s"
}

`, dir, c.AllowDelete)
	} else {
		b.WriteString("# configuration of the memory resolver\nresolver: MEMORY\n\n")
	}
	accs := append([]ConfigAccount(nil), c.Accounts...)
	sort.Slice(accs, func(i, j int) bool { return accs[i].Name < accs[j].Name })
	b.WriteString("# Preload the resolver with account JWTs\nresolver_preload: {\n")
	for _, a := range accs {
		fmt.Fprintf(&b, "    # Account %q\n    %s: %s\n\n", a.Name, a.PublicKey, a.JWT)
	}
	b.WriteString("}\n")
	return b.String()
}

func (c *ServerConfig) nameOf(pub string) string {
	for _, a := range c.Accounts {
		if a.PublicKey == pub {
			return a.Name
		}
	}
	return pub
}
