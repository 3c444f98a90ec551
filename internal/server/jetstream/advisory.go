package jetstream

import (
	"crypto/rand"
	"encoding/json"
	"time"

	"github.com/sluicehq/sluice/pkg/api"
)

// streamAdvisory publishes a stream_action advisory in the account.
func (js *JetStream) streamAdvisory(a *jsAccount, stream, action string) {
	subj := map[string]string{"create": "CREATED", "delete": "DELETED", "modify": "UPDATED"}[action]
	ev := api.JSStreamActionAdvisory{
		TypedEvent: api.TypedEvent{Type: api.JSStreamActionAdvisoryType, ID: eventID(), Time: time.Now().UTC()},
		Stream:     stream, Action: action, Domain: js.cfg.Domain,
	}
	js.publishEvent(a.name, "$JS.EVENT.ADVISORY.STREAM."+subj+"."+stream, ev)
}

// audit publishes the api_audit advisory of one API request.
func (js *JetStream) audit(r *apiReq, response []byte) {
	ev := api.JSAPIAudit{
		TypedEvent: api.TypedEvent{Type: api.JSAPIAuditType, ID: eventID(), Time: time.Now().UTC()},
		Server:     js.b.ServerName(), Subject: r.subj, Request: string(r.msg), Response: string(response),
		Domain: js.cfg.Domain,
	}
	js.publishEvent(r.account, "$JS.EVENT.ADVISORY.API", ev)
}

// interestBroker is what a Broker may add to skip advisories nobody
// listens to (as nats-server does).
type interestBroker interface {
	HasInterest(account, subj string) bool
}

func (js *JetStream) publishEvent(account, subj string, ev any) {
	if ib, ok := js.b.(interestBroker); ok && !ib.HasInterest(account, subj) {
		return
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	js.b.Publish(account, subj, "", nil, b)
}

// eventID is a random 22-character id, as nats-server's nuids look.
func eventID() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b [22]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}
