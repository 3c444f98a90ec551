package server

import (
	"crypto/subtle"

	"github.com/sluicehq/sluice/pkg/api"
)

// authRequired reports whether clients must authenticate in CONNECT.
func (o *Options) authRequired() bool {
	return o.Username != "" || o.Authorization != ""
}

// checkAuth verifies the credentials of a CONNECT against the single
// configured user or token. Richer methods (users lists, nkeys, JWT) live
// with the security work; this is the minimum the core needs.
func (s *Server) checkAuth(ci *api.ConnectInfo) bool {
	o := s.getOpts()
	if o.Authorization != "" {
		return secureEqual(ci.Token, o.Authorization)
	}
	if o.Username != "" {
		return secureEqual(ci.User, o.Username) && secureEqual(ci.Pass, o.Password)
	}
	return true
}

func secureEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
