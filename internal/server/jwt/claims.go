package jwt

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// Subjects of the claims services of the NATS resolver.
const (
	SubjClaimsUpdate  = "$SYS.REQ.CLAIMS.UPDATE"
	SubjClaimsList    = "$SYS.REQ.CLAIMS.LIST"
	SubjClaimsDelete  = "$SYS.REQ.CLAIMS.DELETE"
	SubjClaimsPack    = "$SYS.REQ.CLAIMS.PACK"
	SubjAccountUpdate = "$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE"
	SubjAccountLookup = "$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP"
	// SubjUpdateEvent is the older form of an update, still sent by
	// account servers and nsc.
	SubjUpdateEvent = "$SYS.ACCOUNT.*.CLAIMS.UPDATE"
)

// MaxClaimsRequest bounds the size of a claims request accepted.
const MaxClaimsRequest = 1 << 20

// Applier puts a stored account JWT in force; the broker implements it.
type Applier interface {
	// AccountUpdated is called once a new JWT for pub is stored.
	AccountUpdated(pub, tok string, ac *njwt.AccountClaims)
	// AccountDeleted is called once pub's JWT is deleted.
	AccountDeleted(pub string)
	// SystemAccount is the system account's public key.
	SystemAccount() string
	// AccountKnown reports whether the server has loaded the account.
	AccountKnown(pub string) bool
}

// Logger is what the claims services log to.
type Logger interface {
	Debugf(format string, v ...any)
	Errorf(format string, v ...any)
}

// Claims answers the claims requests for one resolver.
type Claims struct {
	Trust    *Trust
	Resolver Resolver
	Apply    Applier
	Log      Logger
}

// UpdateStatus and UpdateError are the data or error of a reply, in
// nats-server's JSON.
type UpdateStatus struct {
	Account string `json:"account,omitempty"`
	Code    int    `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

type UpdateError struct {
	Account     string `json:"account,omitempty"`
	Code        int    `json:"code"`
	Description string `json:"description,omitempty"`
}

// Reply is a claims service's answer; Server is filled by the broker.
type Reply struct {
	Server any           `json:"server"`
	Data   *UpdateStatus `json:"data,omitempty"`
	Error  *UpdateError  `json:"error,omitempty"`
}

func (c *Claims) reply(acc, msg string, err error) *Reply {
	if err != nil {
		if acc == "" {
			c.Log.Errorf("%s - %v", msg, err)
		} else {
			c.Log.Errorf("%s - %s - %v", msg, acc, err)
		}
		return &Reply{Error: &UpdateError{Account: acc, Code: 500, Description: fmt.Sprintf("%s - %v", msg, err)}}
	}
	c.Log.Debugf("%s - %s", msg, acc)
	return &Reply{Data: &UpdateStatus{Account: acc, Code: 200, Message: msg}}
}

// AccountFromSubject is the <id> token of $SYS.REQ.ACCOUNT.<id>.CLAIMS.x
// or $SYS.ACCOUNT.<id>.CLAIMS.UPDATE, "" when the subject has neither form.
func AccountFromSubject(subj string) string {
	t := strings.Split(subj, ".")
	switch {
	case len(t) == 6 && t[1] == "REQ" && t[2] == "ACCOUNT":
		return t[3]
	case len(t) == 5 && t[1] == "ACCOUNT":
		return t[2]
	}
	return ""
}

// Update handles a pushed account JWT. subjAcc is the account named in
// the subject, "" for $SYS.REQ.CLAIMS.UPDATE.
func (c *Claims) Update(subjAcc string, msg []byte) *Reply {
	if len(msg) > MaxClaimsRequest {
		return c.reply("n/a", "jwt update resulted in error", errors.New("request too large"))
	}
	ac, err := c.Trust.DecodeAccount(string(msg))
	switch {
	case ac == nil:
		return c.reply("n/a", "jwt update resulted in error", err)
	case err != nil:
		return c.reply(ac.Subject, "jwt validation failed", err)
	case subjAcc != "" && ac.Subject != subjAcc:
		return c.reply(subjAcc, "jwt update resulted in error", errors.New("subject does not match jwt content"))
	}
	tok := strings.TrimSpace(string(msg))
	if _, isDir := c.Resolver.(*Dir); !isDir && !c.Apply.AccountKnown(ac.Subject) {
		// As nats-server: MEMORY and URL resolvers only update accounts
		// in use; the others are looked up when first needed.
		return c.reply(ac.Subject, "jwt update skipped", nil)
	}
	stored, err := c.Resolver.Store(ac.Subject, tok)
	if err != nil {
		return c.reply(ac.Subject, "jwt update resulted in error", err)
	}
	if stored {
		c.Apply.AccountUpdated(ac.Subject, tok, ac)
	}
	return c.reply(ac.Subject, "jwt updated", nil)
}

// Lookup returns the stored JWT of an account, empty when unknown (an
// empty reply tells other servers it is absent).
func (c *Claims) Lookup(pub string) []byte {
	tok, err := c.Resolver.Fetch(pub)
	if err != nil {
		return nil
	}
	return []byte(tok)
}

// ListReply is the answer to CLAIMS.LIST.
type ListReply struct {
	Server any      `json:"server"`
	Data   []string `json:"data"`
}

// List returns the stored accounts; ok is false for resolvers that
// cannot list (they do not answer).
func (c *Claims) List() (*ListReply, bool) {
	d, ok := c.Resolver.(*Dir)
	if !ok {
		return nil, false
	}
	return &ListReply{Data: d.List()}, true
}

// Pack answers a CLAIMS.PACK (nsc pull, and servers syncing): one
// message "<account>|<jwt>" per stored JWT and an empty one to end, or
// only the empty one when theirHash is the hash of what is stored.
func (c *Claims) Pack(theirHash []byte) ([][]byte, bool) {
	d, ok := c.Resolver.(*Dir)
	if !ok {
		return nil, false
	}
	var out [][]byte
	var hash [sha256.Size]byte
	for _, pub := range d.List() {
		tok, err := d.Fetch(pub)
		if err != nil {
			continue
		}
		sum := sha256.Sum256([]byte(tok))
		for i := range hash {
			hash[i] ^= sum[i]
		}
		out = append(out, []byte(pub+"|"+tok))
	}
	if bytes.Equal(theirHash, hash[:]) {
		out = nil
	}
	return append(out, []byte{}), true
}

// Delete handles a CLAIMS.DELETE: a generic JWT self-signed by a trusted
// operator key with data.accounts, the accounts to delete.
func (c *Claims) Delete(msg []byte) *Reply {
	d, ok := c.Resolver.(*Dir)
	if !ok {
		return c.reply("", "delete accounts request failed", errors.New("resolver does not support delete"))
	}
	var subj string
	accs, err := c.deleteList(d, msg, &subj)
	if err != nil {
		return c.reply("", fmt.Sprintf("delete accounts request by %s failed", subj), err)
	}
	var errs []string
	n := 0
	for _, a := range accs {
		if err := d.Delete(a); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		n++
		c.Apply.AccountDeleted(a)
	}
	if len(errs) > 0 {
		return c.reply("", fmt.Sprintf("deleted %d accounts, failed for %d", n, len(errs)), errors.New(strings.Join(errs, "\n")))
	}
	return c.reply("", fmt.Sprintf("deleted %d accounts", n), nil)
}

func (c *Claims) deleteList(d *Dir, msg []byte, subj *string) ([]string, error) {
	if len(msg) > MaxClaimsRequest {
		return nil, errors.New("request too large")
	}
	gc, err := njwt.DecodeGeneric(strings.TrimSpace(string(msg)))
	if err != nil {
		return nil, err
	}
	*subj = gc.Subject
	switch {
	case d.cfg.Delete == NoDelete:
		return nil, errors.New("delete must be enabled in server config")
	case gc.Subject != gc.Issuer:
		return nil, errors.New("not self signed")
	case !c.Trust.OperatorKeys()[gc.Issuer]:
		return nil, errors.New("not trusted")
	}
	raw, err := json.Marshal(gc.Data["accounts"])
	if err != nil {
		return nil, errors.New("malformed request")
	}
	var accs []string
	if err := json.Unmarshal(raw, &accs); err != nil || len(accs) == 0 {
		return nil, errors.New("malformed request")
	}
	for _, a := range accs {
		switch {
		case !nkeys.IsValidPublicAccountKey(a):
			return nil, errors.New("malformed request")
		case a == c.Apply.SystemAccount():
			return nil, errors.New("not allowed to delete system account")
		}
	}
	return accs, nil
}
