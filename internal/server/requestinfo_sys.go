package server

import (
	"encoding/json"

	"github.com/sluicehq/sluice/pkg/api"
)

// The system account's end of $SYS.REQ.USER.INFO. Every account imports
// that subject from the system account as $SYS.REQ.USER.<acc>.INFO with
// its requesters' details shared; this subscription answers from the
// Nats-Request-Info the import wrote, as nats-server does. It describes
// the connection that asked, so it is answered on that connection's read
// loop and stays local: routes are not told of it, and only the
// requester's own server answers.
type sysUserInfo struct{}

func (sysUserInfo) forward(c *client, _, reply []byte, hdrLen int, msg []byte) bool {
	if len(reply) == 0 {
		return false
	}
	s := c.srv
	var ci api.ClientInfo
	if hdrLen > 0 {
		if v := headerValue(msg[:hdrLen], requestInfoHdr); v != nil {
			if err := json.Unmarshal(v, &ci); err != nil {
				s.respond(nil, string(reply), nil, &api.ServerAPIError{Code: 400})
				return true
			}
		}
	}
	// Who asked comes from the header; what they may do from the
	// connection that sent the request.
	info := c.userInfo()
	c.mu.Lock()
	own := c.acc.Name
	c.mu.Unlock()
	if ci.Account != own {
		info.AccountName = ci.Account
	}
	info.UserID, info.Account, info.UserName = ci.User, ci.Account, ci.NameTag
	s.respond(nil, string(reply), info, nil)
	return true
}

// registerUserInfoService subscribes the system account to the user info
// requests its imports bring.
func (s *Server) registerUserInfoService() {
	sub := &subscription{acc: s.sysAcc, subject: userInfoOf("*"), fwd: sysUserInfo{}}
	if err := s.sysAcc.sl.Insert(sub.subject, "", sub); err != nil {
		s.log.Errorf("$SYS service %s: %v", sub.subject, err)
	}
}
