package cmdutil

import (
	"time"

	"github.com/spf13/pflag"
)

// Connection setting keys. Each is a global flag of the same name, bound
// in viper to its environment variable and to the selected context.
const (
	KeyServer         = "server"
	KeyUser           = "user"
	KeyPassword       = "password"
	KeyToken          = "token"
	KeyCreds          = "creds"
	KeyNKey           = "nkey"
	KeyJWT            = "jwt"
	KeySeed           = "seed"
	KeyTLSCert        = "tlscert"
	KeyTLSKey         = "tlskey"
	KeyTLSCA          = "tlsca"
	KeyTLSFirst       = "tlsfirst"
	KeyTimeout        = "timeout"
	KeyContext        = "context"
	KeyNoContext      = "no-context"
	KeyJSDomain       = "js-domain"
	KeyJSAPIPrefix    = "js-api-prefix"
	KeyInboxPrefix    = "inbox-prefix"
	KeyConnectionName = "connection-name"
)

// DefaultTimeout is how long commands wait for the server by default.
const DefaultTimeout = 5 * time.Second

// connFlag describes one global connection flag.
type connFlag struct {
	key, short, env, usage string
	isBool, isDuration     bool
}

// connFlags is the single list of global connection flags, in the order
// they appear in help. Environment variable names are natscli's.
var connFlags = []connFlag{
	{key: KeyServer, short: "s", env: "NATS_URL", usage: "NATS server `URLS`, comma separated"},
	{key: KeyContext, env: "NATS_CONTEXT", usage: "stored context to use: a `NAME`, or the path of a context file"},
	{key: KeyNoContext, isBool: true, usage: "ignore the selected context"},
	{key: KeyUser, env: "NATS_USER", usage: "`USER` name (taken as a token when no password is given)"},
	{key: KeyPassword, env: "NATS_PASSWORD", usage: "`PASSWORD` for --user"},
	{key: KeyToken, env: "NATS_TOKEN", usage: "authentication `TOKEN`"},
	{key: KeyCreds, env: "NATS_CREDS", usage: "user credentials `FILE` (or env://NAME, data:;base64,...)"},
	{key: KeyNKey, env: "NATS_NKEY", usage: "user nkey seed `FILE` (or env://NAME, data:;base64,...)"},
	{key: KeyJWT, env: "NATS_JWT", usage: "user `JWT`, signed with --seed"},
	{key: KeySeed, env: "NATS_SEED", usage: "user `SEED` that signs for --jwt"},
	{key: KeyTLSCert, env: "NATS_CERT", usage: "TLS client certificate `FILE`"},
	{key: KeyTLSKey, env: "NATS_KEY", usage: "TLS client private key `FILE`"},
	{key: KeyTLSCA, env: "NATS_CA", usage: "TLS certificate authority `FILE`"},
	{key: KeyTLSFirst, isBool: true, usage: "do the TLS handshake before the server's greeting"},
	{key: KeyTimeout, env: "NATS_TIMEOUT", isDuration: true, usage: "how long to wait for the server and for replies"},
	{key: KeyJSDomain, usage: "JetStream `DOMAIN`"},
	{key: KeyJSAPIPrefix, usage: "JetStream API subject `PREFIX`"},
	{key: KeyInboxPrefix, usage: "subject `PREFIX` of reply inboxes"},
	{key: KeyConnectionName, usage: "connection `NAME` the server shows"},
}

// authKeys are the settings that together say who the user is. Setting
// any of them by flag or environment replaces the context's credentials
// as a whole, so a context's user never mixes with a flag's creds.
var authKeys = []string{KeyUser, KeyPassword, KeyToken, KeyCreds, KeyNKey, KeyJWT, KeySeed}

// EnvVar returns the environment variable bound to a connection setting,
// "" when it has none.
func EnvVar(key string) string {
	for _, f := range connFlags {
		if f.key == key {
			return f.env
		}
	}
	return ""
}

// addConnectionFlags defines the global connection flags on fs and binds
// them, and their environment variables, in the factory's viper.
func (f *Factory) addConnectionFlags(fs *pflag.FlagSet) {
	v := f.Viper()
	for _, cf := range connFlags {
		// pflag shows the back-quoted word of the usage as the value's name.
		usage := cf.usage
		if cf.env != "" {
			usage += " [$" + cf.env + "]"
		}
		switch {
		case cf.isBool:
			fs.BoolP(cf.key, cf.short, false, usage)
		case cf.isDuration:
			fs.DurationP(cf.key, cf.short, DefaultTimeout, usage)
		default:
			fs.StringP(cf.key, cf.short, "", usage)
		}
		fl := fs.Lookup(cf.key)
		_ = v.BindPFlag(cf.key, fl)
		if cf.env != "" {
			_ = v.BindEnv(cf.key, cf.env)
		}
	}
	v.SetDefault(KeyTimeout, DefaultTimeout)
	f.connFlags = fs
}
