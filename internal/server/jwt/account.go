package jwt

import (
	"fmt"
	"sort"
	"time"

	njwt "github.com/nats-io/jwt/v2"

	"github.com/sluicehq/sluice/internal/server/auth"
	"github.com/sluicehq/sluice/internal/server/subject"
)

// Limits are an account JWT's connection and traffic limits; -1 is no
// limit, as in the JWT.
type Limits struct {
	Conn, LeafConn       int64
	Subs, Data, Payload  int64
	Imports, Exports     int64
	WildcardExports      bool
	DisallowBearer       bool
	JetStream            njwt.JetStreamLimits
	JetStreamTiered      njwt.JetStreamTieredLimits
	JetStreamEnabledFlag bool
}

// Export is an export of an account JWT, as the broker wires it.
type Export struct {
	Subject      string
	Service      bool
	ResponseType string // Singleton, Stream or Chunked
	Threshold    time.Duration
	TokenReq     bool
	// Accounts, for exports needing an activation token, are the
	// importers holding a valid one (filled by Link).
	Accounts []string
}

// Import is an import of an account JWT, as the broker wires it:
// Subject is the subject in the exporter, To the rewritten local subject
// (service: where the importer publishes; stream: where messages land),
// Prefix the stream prefix of the deprecated 'to' form.
type Import struct {
	Account string
	Subject string
	Service bool
	To      string
	Prefix  string
}

// Spec is everything the broker applies from one account JWT.
type Spec struct {
	Name               string
	Claims             *njwt.AccountClaims
	Limits             Limits
	Exports            []Export
	Imports            []Import
	Mappings           []subject.Mapping
	DefaultPermissions *auth.Permissions
	// NextExpiry is the earliest time something in the spec expires (an
	// activation), zero when nothing does: the broker links again then.
	NextExpiry time.Time
}

// LimitsOf extracts the limits of an account JWT.
func LimitsOf(ac *njwt.AccountClaims) Limits {
	l := ac.Limits
	return Limits{
		Conn: l.Conn, LeafConn: l.LeafNodeConn,
		Subs: l.Subs, Data: l.Data, Payload: l.Payload,
		Imports: l.Imports, Exports: l.Exports,
		WildcardExports: l.WildcardExports, DisallowBearer: l.DisallowBearer,
		JetStream: l.JetStreamLimits, JetStreamTiered: l.JetStreamTieredLimits,
		JetStreamEnabledFlag: l.IsJSEnabled(),
	}
}

// Permissions converts JWT permissions: an empty allow list in a JWT
// allows everything, nil in sluice's model.
func Permissions(p njwt.Permissions) *auth.Permissions {
	if len(p.Pub.Allow) == 0 && len(p.Pub.Deny) == 0 && len(p.Sub.Allow) == 0 && len(p.Sub.Deny) == 0 && p.Resp == nil {
		return nil
	}
	out := &auth.Permissions{Publish: subjPerm(p.Pub), Subscribe: subjPerm(p.Sub)}
	if p.Resp != nil {
		rp := &auth.ResponsePermission{MaxMsgs: p.Resp.MaxMsgs, Expires: p.Resp.Expires}
		if rp.MaxMsgs == 0 {
			rp.MaxMsgs = auth.DefaultResponseMaxMsgs
		}
		if rp.Expires == 0 {
			rp.Expires = auth.DefaultResponseExpires
		}
		out.Response = rp
	}
	out.Normalize()
	return out
}

func subjPerm(p njwt.Permission) *auth.SubjectPermission {
	if len(p.Allow) == 0 && len(p.Deny) == 0 {
		return nil
	}
	sp := &auth.SubjectPermission{}
	if len(p.Allow) > 0 {
		sp.Allow = append([]string(nil), p.Allow...)
	}
	if len(p.Deny) > 0 {
		sp.Deny = append([]string(nil), p.Deny...)
	}
	return sp
}

func responseType(rt njwt.ResponseType) string {
	switch rt {
	case njwt.ResponseTypeStream:
		return "Stream"
	case njwt.ResponseTypeChunked:
		return "Chunked"
	}
	return "Singleton"
}

// Link builds the specs of a set of accounts, checking each import of a
// token-requiring export against its activation token. Imports from
// accounts not in the set are kept: the broker skips what it cannot
// wire, as nats-server does with incomplete imports.
func Link(accs map[string]*njwt.AccountClaims, now time.Time) (map[string]*Spec, []error) {
	specs := make(map[string]*Spec, len(accs))
	var errs []error
	names := make([]string, 0, len(accs))
	for name := range accs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ac := accs[name]
		sp := &Spec{Name: name, Claims: ac, Limits: LimitsOf(ac), DefaultPermissions: Permissions(ac.DefaultPermissions)}
		for _, ex := range ac.Exports {
			sp.Exports = append(sp.Exports, Export{
				Subject: string(ex.Subject), Service: ex.IsService(), ResponseType: responseType(ex.ResponseType),
				Threshold: ex.ResponseThreshold, TokenReq: ex.TokenReq,
			})
		}
		for src, dests := range ac.Mappings {
			m := subject.Mapping{Source: string(src)}
			for _, d := range dests {
				m.Dests = append(m.Dests, subject.MapDest{Subject: string(d.Subject), Weight: d.GetWeight(), Cluster: d.Cluster})
			}
			sp.Mappings = append(sp.Mappings, m)
		}
		sort.Slice(sp.Mappings, func(i, j int) bool { return sp.Mappings[i].Source < sp.Mappings[j].Source })
		specs[name] = sp
	}
	for _, name := range names {
		ac, sp := accs[name], specs[name]
		for _, im := range ac.Imports {
			if im == nil {
				continue
			}
			imp := importOf(im)
			if exp := accs[im.Account]; exp != nil {
				ex, idx := findExport(exp, im)
				if ex == nil {
					errs = append(errs, fmt.Errorf("account %s: import of %q from %s: no matching export", name, im.Subject, im.Account))
					continue
				}
				if ex.TokenReq {
					act, err := CheckActivation(exp, ex, name, im, now)
					if err != nil {
						errs = append(errs, fmt.Errorf("account %s: import of %q from %s: %w", name, im.Subject, im.Account, err))
						continue
					}
					es := specs[im.Account]
					es.Exports[idx].Accounts = append(es.Exports[idx].Accounts, name)
					if act.Expires > 0 {
						sp.noteExpiry(time.Unix(act.Expires, 0))
					}
				}
			}
			sp.Imports = append(sp.Imports, imp)
		}
	}
	return specs, errs
}

func (sp *Spec) noteExpiry(t time.Time) {
	if sp.NextExpiry.IsZero() || t.Before(sp.NextExpiry) {
		sp.NextExpiry = t
	}
}

func importOf(im *njwt.Import) Import {
	out := Import{Account: im.Account, Service: im.IsService(), Subject: string(im.Subject)}
	switch {
	case im.LocalSubject != "":
		out.To = string(im.LocalSubject) // $N references are the broker's to resolve
	case im.IsService() && im.To != "":
		// Deprecated form: Subject is local, To is the exporter's.
		out.Subject, out.To = string(im.To), string(im.Subject)
	case im.To != "":
		out.Prefix = string(im.To)
	}
	return out
}

// findExport returns the exporter's export covering the import (and its
// index), nil when none does.
func findExport(exp *njwt.AccountClaims, im *njwt.Import) (*njwt.Export, int) {
	subj := string(im.Subject)
	if im.IsService() && im.LocalSubject == "" && im.To != "" {
		subj = string(im.To)
	}
	for i, ex := range exp.Exports {
		if ex == nil || ex.Type != im.Type {
			continue
		}
		if subject.SubsetOf(subj, string(ex.Subject)) {
			return ex, i
		}
	}
	return nil, -1
}

// CheckActivation verifies the activation token of an import of a
// private export: signed by the exporter (or one of its signing keys),
// issued to the importer, covering the subject, unexpired and not
// revoked.
func CheckActivation(exp *njwt.AccountClaims, ex *njwt.Export, importer string, im *njwt.Import, now time.Time) (*njwt.ActivationClaims, error) {
	if im.Token == "" {
		return nil, fmt.Errorf("activation token required")
	}
	act, err := njwt.DecodeActivationClaims(im.Token)
	if err != nil {
		return nil, fmt.Errorf("activation token: %w", err)
	}
	switch {
	case act.Issuer == exp.Subject:
	case exp.SigningKeys.Contains(act.Issuer) && act.IssuerAccount == exp.Subject:
	default:
		return nil, fmt.Errorf("activation token not issued by the exporting account")
	}
	if act.Subject != importer {
		return nil, fmt.Errorf("activation token issued to another account")
	}
	if act.ImportType != ex.Type || !subject.SubsetOf(string(im.Subject), string(act.ImportSubject)) && !subject.SubsetOf(string(act.ImportSubject), string(im.Subject)) {
		return nil, fmt.Errorf("activation token does not cover the import")
	}
	if Expired(act.Expires, now) {
		return nil, fmt.Errorf("activation token expired")
	}
	if act.NotBefore > 0 && now.Unix() < act.NotBefore {
		return nil, fmt.Errorf("activation token not yet valid")
	}
	if ex.IsClaimRevoked(act) {
		return nil, fmt.Errorf("activation token revoked")
	}
	return act, nil
}
