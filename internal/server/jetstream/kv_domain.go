package jetstream

import "strings"

// With a JetStream domain, nats.go writes KV keys through the domain's API
// prefix: $JS.<domain>.API.$KV.<bucket>.<key>. nats-server maps that
// subject space (and $OBJ) back onto $KV.> and $OBJ.>; so does this.
var kvDomainSpaces = []string{"$KV.", "$OBJ."}

// kvDomainSubjects are the subjects to listen on for domain d.
func kvDomainSubjects(d string) []string {
	var out []string
	for _, sp := range kvDomainSpaces {
		out = append(out, "$JS."+d+".API."+sp+">")
	}
	return out
}

// forwardKVDomain republishes a domain-prefixed KV or object subject on
// its own subject space, reply and headers kept, and reports whether subj
// was one.
func (js *JetStream) forwardKVDomain(account, subj, reply string, hdr, msg []byte) bool {
	d := js.cfg.Domain
	if d == "" {
		return false
	}
	pre := "$JS." + d + ".API."
	if !strings.HasPrefix(subj, pre) {
		return false
	}
	rest := subj[len(pre):]
	for _, sp := range kvDomainSpaces {
		if strings.HasPrefix(rest, sp) {
			js.b.Publish(account, rest, reply, hdr, msg)
			return true
		}
	}
	return false
}
