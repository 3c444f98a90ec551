package server

import (
	"strings"

	"github.com/sluicehq/sluice/pkg/conf"
)

// refusedKeys are options of features sluice has not built yet whose
// absence could let in clients the file means to keep out (another way in
// with its own authentication, or an authentication scheme of its own).
// Ignoring them with a warning would fail open, so a file that has one
// does not load, at start, with -t and at reload, lenient or not.
//
// Keys are lower case paths: "operator" at the top level,
// "authorization.auth_callout" inside a block. When a feature is built,
// its handler is registered (top-level handlers are looked up before this
// list) and its entries here are deleted.
var refusedKeys = map[string]string{
	"authorization.proxy_required": "trusted proxies",
	// listeners with their own authorization blocks
	"mqtt":    "MQTT",
	"gateway": "gateways",
	"leaf":    "leafnodes", "leafnodes": "leafnodes",
	// restrictions that would silently not apply
	"tls.ocsp_peer": "OCSP checks of client certificates", "tls.connection_rate_limit": "TLS rate limits",
	"tls.cert_store": "certificate stores", "tls.cert_match_by": "certificate stores",
	"tls.cert_match": "certificate stores", "tls.ca_certs_match": "certificate stores",
	"tls.cert_match_skip_invalid": "certificate stores",
	"tls.certs":                   "several TLS certificates", "tls.certificates": "several TLS certificates",
	"accounts.nkey":                 "account nkeys",
	"export.account_token_position": "export account tokens",
}

// refuse reports path (see refusedKeys) as a feature sluice cannot run
// safely without, if it is one, and says whether it did.
func (r *configReader) refuse(path, key string, it *conf.Item) bool {
	feature, ok := refusedKeys[strings.ToLower(path)]
	if !ok {
		return false
	}
	r.errorf(it.KeyPos, "'%s' is not supported yet (%s); sluice refuses to run without it rather than ignore it", key, feature)
	return true
}

// didYouMean suggests the known top-level key nearest to a misspelt one
// ("authorisation" -> "authorization"), or returns "".
func didYouMean(key string) string {
	best, bestDist := "", 3 // at most two edits away
	for k := range topLevelKeys {
		if d := editDistance(key, k); d < bestDist || (d == bestDist && k < best) {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return "; did you mean \"" + best + "\"?"
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
