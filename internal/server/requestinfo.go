package server

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/sluicehq/sluice/pkg/api"
)

// requestInfoHdr carries who asked across a service import, as
// nats-server writes it: the requester's account and RTT always, the
// rest of its client info when the import shares it (`share: true`) or
// the request enters the system account.
const requestInfoHdr = "Nats-Request-Info"

const hdrPreamble = "NATS/1.0\r\n"

// stampRequestInfo returns msg with the Nats-Request-Info header set for a
// request entering si's exporter. A client's own header of that name is
// replaced, so nobody can claim another account; along a chain of imports
// the first hop's header is kept and names the service account it passed.
func (c *client) stampRequestInfo(si *serviceImport, hdrLen int, msg []byte) (int, []byte) {
	intoSys := si.from == c.srv.sysAcc
	var ci *api.ClientInfo
	if c.svcHops > 0 && hdrLen > 0 {
		var prev api.ClientInfo
		if v := headerValue(msg[:hdrLen], requestInfoHdr); v != nil && json.Unmarshal(v, &prev) == nil {
			ci = &prev
			ci.Service = si.importer.Name
			if !c.svcShared && (si.share || intoSys) {
				c.addServerInfo(ci)
			}
		}
	}
	if ci == nil {
		ci = c.requestInfo(si.share)
		if !si.share && intoSys {
			c.addServerInfo(ci)
		}
	}
	b, err := json.Marshal(ci)
	if err != nil {
		return hdrLen, msg
	}
	return setHeader(hdrLen, msg, requestInfoHdr, b)
}

// requestInfo is the requester's client info: account and RTT, or all of
// it when detailed.
func (c *client) requestInfo(detailed bool) *api.ClientInfo {
	if detailed {
		ci := c.clientInfo()
		ci.NameTag = "" // events name the account there; requests the user's JWT name
		c.mu.Lock()
		if jl := c.mu.jwt; jl != nil && jl.userKey != "" {
			ci.NameTag = jl.userName
		}
		c.mu.Unlock()
		c.addServerInfo(&ci)
		return &ci
	}
	c.mu.Lock()
	acc := c.acc.Name
	c.mu.Unlock()
	return &api.ClientInfo{Account: acc, RTT: time.Duration(c.rtt.Load())}
}

func (c *client) addServerInfo(ci *api.ClientInfo) {
	ci.Server = c.srv.Name()
	ci.Cluster = c.srv.ClusterName()
}

// headerValue is the value of key in a NATS header block, or nil.
func headerValue(hdr []byte, key string) []byte {
	for _, line := range bytes.Split(hdr, []byte("\r\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && string(bytes.TrimSpace(k)) == key {
			return bytes.TrimSpace(v)
		}
	}
	return nil
}

// setHeader returns a copy of the message with key set to value: any
// earlier line for key is dropped and the new one goes last, as
// nats-server does. A message without headers gains a header block.
func setHeader(hdrLen int, msg []byte, key string, value []byte) (int, []byte) {
	var b bytes.Buffer
	b.Grow(len(msg) + len(key) + len(value) + len(hdrPreamble) + 6)
	payload := msg
	if hdrLen > 0 {
		payload = msg[hdrLen:]
		block := bytes.TrimSuffix(msg[:hdrLen], []byte("\r\n\r\n"))
		for i, line := range bytes.Split(block, []byte("\r\n")) {
			if i > 0 {
				if k, _, ok := bytes.Cut(line, []byte(":")); ok && string(bytes.TrimSpace(k)) == key {
					continue
				}
			}
			b.Write(line)
			b.WriteString("\r\n")
		}
	} else {
		b.WriteString(hdrPreamble)
	}
	b.WriteString(key)
	b.WriteString(": ")
	b.Write(value)
	b.WriteString("\r\n\r\n")
	n := b.Len()
	b.Write(payload)
	return n, b.Bytes()
}
