package server_test

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/server"
)

// Issue 11 #2: options of unbuilt features that guard the way in refuse
// to load, strict or lenient, rather than being ignored with a warning.
func TestConfigRefusesUnbuiltSecurityFeatures(t *testing.T) {
	cases := []struct{ text, want string }{
		{"authorization {\n  proxy_required: true\n}\n", `'proxy_required' is not supported yet`},
		{"gateway { port: 7222 }\n", `'gateway' is not supported yet (gateways)`},
		{"leafnodes { port: 7422 }\n", `'leafnodes' is not supported yet (leafnodes)`},
		{"gateway { name: g, port: 7222 }\n", `'gateway' is not supported yet (gateways)`},
		{"mqtt { port: 1883 }\n", `'mqtt' is not supported yet (MQTT)`},
		{"accounts { A { nkey: ABC } }\n", `'nkey' is not supported yet`},
		{"accounts { A { exports: [{service: a, account_token_position: 2}] } }\n", `'account_token_position' is not supported yet`},
		{"tls { ocsp_peer: true }\n", `'ocsp_peer' is not supported yet`},
	}
	for _, c := range cases {
		for _, strict := range []bool{true, false} {
			var o server.Options
			_, err := o.ProcessConfigFile(writeConf(t, c.text), strict)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%q (strict %v): got %v, want an error with %q", c.text, strict, err, c.want)
			}
		}
	}
}

// Unknown keys: errors by default; lenient makes top-level ones warnings
// but never unknown keys inside a security block.
func TestConfigUnknownKeys(t *testing.T) {
	typo := writeConf(t, "port: -1\nauthorisation { user: admin, password: s3cret }\n")
	var o server.Options
	_, err := o.ProcessConfigFile(typo, true)
	if err == nil || !strings.Contains(err.Error(), `2:1: unknown field "authorisation"; did you mean "authorization"?`) {
		t.Fatalf("strict typo: %v", err)
	}
	var lo server.Options
	warns, err := lo.ProcessConfigFile(typo, false)
	if err != nil || len(warns) != 1 || !strings.Contains(warns[0].String(), `unknown field "authorisation"; ignored`) {
		t.Fatalf("lenient typo: %v %v", warns, err)
	}
	for _, text := range []string{
		"authorization { user: a, password: b, tiemout: 2 }\n",
		"authorization { users: [{user: a, password: b, permisions: {publish: x}}] }\n",
		"authorization { users: [{user: a, password: b, permissions: {publsh: x}}] }\n",
		"authorization { users: [{user: a, password: b, permissions: {publish: {alow: x}}}] }\n",
		"accounts { A { users: [{user: a, password: b}], exprts: [] } }\n",
		"accounts { A { imports: [{stream: {account: B, subjct: x}}] } }\n",
		"tls { cert_fil: x }\n",
	} {
		for _, strict := range []bool{true, false} {
			var o server.Options
			_, err := o.ProcessConfigFile(writeConf(t, text), strict)
			if err == nil || !strings.Contains(err.Error(), "unknown field") {
				t.Errorf("%q (strict %v): got %v, want an unknown field error", text, strict, err)
			}
		}
	}
	// Keys of unbuilt features that cannot let anyone in still only warn.
	var jo server.Options
	warns, err = jo.ProcessConfigFile(writeConf(t, "server_tags: [a]\n"), true)
	if err != nil || len(warns) != 1 {
		t.Fatalf("server_tags: %v %v", warns, err)
	}
}
