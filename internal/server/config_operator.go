package server

import (
	"strings"

	"github.com/nats-io/nkeys"

	opjwt "github.com/sluicehq/sluice/internal/server/jwt"
	"github.com/sluicehq/sluice/pkg/conf"
)

// addOperatorKeys registers the operator mode keys: operator (a JWT file,
// an inline JWT, or a list of them), trusted_keys, resolver and
// resolver_preload. The jwt package reads the values.
func addOperatorKeys(m map[string]keyHandler) {
	alias(m, readOperators, "operator", "operators", "root", "roots", "root_operator", "root_operators")
	alias(m, readTrustedKeys, "trusted", "trusted_keys")
	alias(m, readResolver, "resolver", "account_resolver", "accounts_resolver")
	m["resolver_preload"] = readResolverPreload
	m["resolver_tls"] = readResolverTLS
	m["resolver_pinned_accounts"] = readPinnedAccounts
	m["default_sentinel"] = readDefaultSentinel
}

// readResolverTLS reads the tls {} block the URL resolver dials the
// account server with: a client context, so the certificate is optional
// and the CAs verify the server.
func readResolverTLS(r *configReader, key string, it *conf.Item) {
	if _, ok := r.block(key, it); !ok {
		return
	}
	sub := &configReader{opts: &Options{}, strict: r.strict, tlsClient: true}
	readTLS(sub, key, it)
	r.warns = append(r.warns, sub.warns...)
	r.errs = append(r.errs, sub.errs...)
	if len(sub.errs) == 0 {
		r.opts.ResolverTLS = sub.opts.TLSConfig
	}
}

// readPinnedAccounts reads resolver_pinned_accounts: one account key or
// a list; only users of these accounts (and the system account's) log in.
func readPinnedAccounts(r *configReader, key string, it *conf.Item) {
	switch v := it.Value.(type) {
	case string:
		r.opts.ResolverPinnedAccounts = []string{v}
	case []any:
		r.opts.ResolverPinnedAccounts = []string{}
		for _, el := range v {
			e := asItem(el)
			s, ok := e.Value.(string)
			if !ok {
				r.errorf(e.Pos, "error parsing resolver_pinned_accounts: unsupported type in array %s", typeName(e.Value))
				continue
			}
			r.opts.ResolverPinnedAccounts = append(r.opts.ResolverPinnedAccounts, s)
		}
	default:
		r.errorf(it.Pos, "error parsing resolver_pinned_accounts: unsupported type %s", typeName(it.Value))
	}
}

// readDefaultSentinel reads the user JWT that stands in for clients
// sending none (checked with the other operator options).
func readDefaultSentinel(r *configReader, key string, it *conf.Item) {
	if s, ok := r.str(key, it); ok {
		r.opts.DefaultSentinel = strings.TrimSpace(s)
	}
}

func readOperators(r *configReader, key string, it *conf.Item) {
	for _, s := range r.stringList(key, it) {
		tok, oc, err := opjwt.ReadOperator(s)
		if err != nil {
			r.errorf(it.Pos, "error parsing operator JWT: %v", err)
			continue
		}
		r.opts.TrustedOperators = append(r.opts.TrustedOperators, tok)
		// As nats-server: a single operator names the system account
		// and account server unless the file says otherwise.
		if r.opts.SystemAccount == "" && oc.SystemAccount != "" {
			r.opts.SystemAccount = oc.SystemAccount
		}
		if u := oc.AccountServerURL; r.opts.AccountResolver == nil && (strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")) {
			r.opts.AccountResolver = &opjwt.ResolverConfig{Kind: "URL", URL: strings.TrimSuffix(oc.AccountServerURL, "/") + "/accounts"}
		}
	}
}

func readTrustedKeys(r *configReader, key string, it *conf.Item) {
	for _, k := range r.stringList(key, it) {
		if !nkeys.IsValidPublicOperatorKey(k) {
			r.errorf(it.Pos, "trusted Keys %q are required to be a valid public operator nkey", k)
			continue
		}
		r.opts.TrustedKeys = append(r.opts.TrustedKeys, k)
	}
}

func readResolver(r *configReader, key string, it *conf.Item) {
	rc, err := opjwt.ParseResolver(it.Value, func(v any) any { return asItem(v).Value })
	if err != nil {
		r.errorf(it.Pos, "%v", err)
		return
	}
	r.opts.AccountResolver = rc
}

func readResolverPreload(r *configReader, key string, it *conf.Item) {
	m, ok := it.Value.(map[string]any)
	if !ok {
		r.errorf(it.Pos, "preload should be a map of account_public_key:account_jwt")
		return
	}
	if r.opts.ResolverPreload == nil {
		r.opts.ResolverPreload = map[string]string{}
	}
	for _, e := range sortedEntries(m) {
		tok, ok := e.item.Value.(string)
		if !ok {
			r.errorf(e.item.Pos, "preload map value should be a string JWT")
			continue
		}
		if err := opjwt.CheckPreload(e.key, tok); err != nil {
			r.errorf(e.item.Pos, "%v", err)
			continue
		}
		r.opts.ResolverPreload[e.key] = strings.TrimSpace(tok)
	}
}
