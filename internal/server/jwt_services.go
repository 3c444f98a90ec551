package server

import (
	"encoding/json"

	opjwt "github.com/sluicehq/sluice/internal/server/jwt"
)

// registerClaimsServices subscribes the claims services of operator
// mode in the system account: updates for every resolver (the MEMORY and
// URL resolvers apply them to accounts they already know), and for the
// full/cache NATS resolver lookups, listing and deletion.
func (s *Server) registerClaimsServices() {
	if s.op == nil || s.sysAcc == nil {
		return
	}
	c := s.op.claims
	sub := func(subj string, cb MsgHandler) {
		if _, err := s.SubscribeInternal(s.sysAcc, subj, "", cb); err != nil {
			s.log.Errorf("claims service %s: %v", subj, err)
		}
	}
	update := func(subj, reply string, _, msg []byte) {
		acc := opjwt.AccountFromSubject(subj)
		if acc == "" && subj != opjwt.SubjClaimsUpdate {
			return
		}
		s.claimsReply(reply, c.Update(acc, msg))
	}
	sub(opjwt.SubjClaimsUpdate, update)
	sub(opjwt.SubjAccountUpdate, update)
	sub(opjwt.SubjUpdateEvent, update)
	if _, ok := s.op.res.(*opjwt.Dir); !ok {
		return
	}
	sub(opjwt.SubjAccountLookup, func(subj, reply string, _, _ []byte) {
		if reply == "" {
			return
		}
		s.PublishInternal(s.sysAcc, reply, "", nil, c.Lookup(opjwt.AccountFromSubject(subj)))
	})
	sub(opjwt.SubjClaimsList, func(_, reply string, _, _ []byte) {
		if lr, ok := c.List(); ok && reply != "" {
			lr.Server = s.sysEventServer()
			s.claimsReply(reply, lr)
		}
	})
	if _, err := s.SubscribeInternal(s.sysAcc, opjwt.SubjClaimsPack, "responder", func(_, reply string, _, msg []byte) {
		msgs, ok := c.Pack(msg)
		if !ok || reply == "" {
			return
		}
		for _, m := range msgs {
			s.PublishInternal(s.sysAcc, reply, "", nil, m)
		}
	}); err != nil {
		s.log.Errorf("claims service %s: %v", opjwt.SubjClaimsPack, err)
	}
	sub(opjwt.SubjClaimsDelete, func(_, reply string, _, msg []byte) {
		s.claimsReply(reply, c.Delete(msg))
	})
}

func (s *Server) claimsReply(reply string, v any) {
	if reply == "" {
		return
	}
	if r, ok := v.(*opjwt.Reply); ok {
		r.Server = s.sysEventServer()
	}
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Errorf("claims reply: %v", err)
		return
	}
	s.PublishInternal(s.sysAcc, reply, "", nil, b)
}
