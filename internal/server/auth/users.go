package auth

import (
	"crypto/subtle"
	"encoding/base64"
	"strings"

	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"
)

// Connection types a user may be limited to (allowed_connection_types).
const (
	ConnStandard   = "STANDARD"
	ConnWebsocket  = "WEBSOCKET"
	ConnLeafnode   = "LEAFNODE"
	ConnMQTT       = "MQTT"
	ConnLeafnodeWS = "LEAFNODE_WS"
	ConnMQTTWS     = "MQTT_WS"
	ConnInProcess  = "IN_PROCESS"
)

// KnownConnectionTypes are the names nats-server accepts.
var KnownConnectionTypes = map[string]bool{
	ConnStandard: true, ConnWebsocket: true, ConnLeafnode: true, ConnLeafnodeWS: true,
	ConnMQTT: true, ConnMQTTWS: true, ConnInProcess: true,
}

// User is a user authenticated by name and password (plain or bcrypt).
type User struct {
	Username    string
	Password    string
	Account     string // "" = the global account
	Permissions *Permissions
	// AllowedConnectionTypes, when not empty, limits how the user may connect.
	AllowedConnectionTypes map[string]bool
}

// NkeyUser is a user authenticated by signing the server's nonce.
type NkeyUser struct {
	Nkey                   string
	Account                string
	Permissions            *Permissions
	AllowedConnectionTypes map[string]bool
}

// IsBcrypt reports whether a configured password or token is a bcrypt hash.
func IsBcrypt(s string) bool {
	return strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2x$") || strings.HasPrefix(s, "$2y$")
}

// CheckPassword compares what a client sent with what is configured: a
// bcrypt hash is verified as such, anything else compared in constant time.
func CheckPassword(sent, configured string) bool {
	if IsBcrypt(configured) {
		return bcrypt.CompareHashAndPassword([]byte(configured), []byte(sent)) == nil
	}
	return subtle.ConstantTimeCompare([]byte(sent), []byte(configured)) == 1
}

// VerifyNonce checks that sig (base64, URL or standard alphabet, as
// clients send it) is nkey's signature of nonce.
func VerifyNonce(nkey, sig string, nonce []byte) bool {
	if sig == "" || len(nonce) == 0 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		if raw, err = base64.StdEncoding.DecodeString(sig); err != nil {
			return false
		}
	}
	pub, err := nkeys.FromPublicKey(nkey)
	if err != nil {
		return false
	}
	return pub.Verify(nonce, raw) == nil
}

// ConnectionTypeAllowed reports whether a user limited to allowed may
// connect as kind.
func ConnectionTypeAllowed(allowed map[string]bool, kind string) bool {
	return len(allowed) == 0 || allowed[kind]
}
