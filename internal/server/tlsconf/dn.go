package tlsconf

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// DN is a distinguished name in the order RFC 4514 writes it: the most
// specific RDN (e.g. CN) first. It is how a verify_and_map user written
// as "CN=app,OU=ops,O=Acme" is compared with a certificate's subject
// attribute by attribute instead of as text.
type DN []RDN

// RDN is one relative distinguished name: a set of attributes, usually
// one, several when written joined with '+'. Their order does not matter.
type RDN []Attr

// Attr is one type=value pair. Types compare without regard to case,
// values exactly.
type Attr struct {
	Type, Value string
}

// attrNames are the attribute types a certificate subject may hold for it
// to be compared as a DN, by the short names users write. A subject with
// any other attribute is matched only as text, as in nats-server.
var attrNames = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.5":                    "SERIALNUMBER",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "STREET",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.17":                   "POSTALCODE",
	"0.9.2342.19200300.100.1.25": "DC",
}

// SubjectDN reads a certificate's raw subject (cert.RawSubject) as a DN,
// keeping every attribute, multi-valued RDNs and DC included, which Go's
// pkix.Name would drop or reorder.
func SubjectDN(raw []byte) (DN, error) {
	var seq pkix.RDNSequence
	rest, err := asn1.Unmarshal(raw, &seq)
	if err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	if len(rest) > 0 {
		return nil, errors.New("subject: trailing data")
	}
	dn := make(DN, 0, len(seq))
	// The certificate lists the least specific RDN first.
	for i := len(seq) - 1; i >= 0; i-- {
		if len(seq[i]) == 0 {
			continue
		}
		rdn := make(RDN, 0, len(seq[i]))
		for _, atv := range seq[i] {
			name, ok := attrNames[atv.Type.String()]
			if !ok {
				return nil, fmt.Errorf("subject: attribute type %s has no short name", atv.Type)
			}
			v, ok := atv.Value.(string)
			if !ok {
				return nil, fmt.Errorf("subject: %s value is not a string", name)
			}
			rdn = append(rdn, Attr{Type: name, Value: v})
		}
		dn = append(dn, rdn)
	}
	return dn, nil
}

// ParseDN reads a DN written as RFC 4514 has it: RDNs separated by ',',
// attributes of one RDN by '+', each "type=value". In a value a '\'
// escapes a special character or introduces two hex digits; unescaped
// spaces around a type or value are dropped. Values in '#' hex (BER)
// form are not supported.
func ParseDN(s string) (DN, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("empty DN")
	}
	var (
		dn   DN
		rdn  RDN
		attr Attr
		buf  []byte
		// inValue: after the '='. trail counts the unescaped spaces at
		// the end of buf, which are not part of the value.
		inValue bool
		trail   int
	)
	take := func() string {
		v := string(buf[:len(buf)-trail])
		buf, trail = buf[:0], 0
		return v
	}
	endAttr := func() error {
		if !inValue {
			return fmt.Errorf("%q has no '=' in %q", strings.TrimSpace(string(buf)), s)
		}
		attr.Value = take()
		rdn = append(rdn, attr)
		attr, inValue = Attr{}, false
		return nil
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\\':
			if !inValue {
				return nil, fmt.Errorf("escape in an attribute type in %q", s)
			}
			if i+1 >= len(s) {
				return nil, fmt.Errorf("%q ends in a lone '\\'", s)
			}
			next := s[i+1]
			if strings.IndexByte(` "#+,;<=>\`, next) >= 0 {
				buf = append(buf, next)
				i++
			} else {
				if i+2 >= len(s) {
					return nil, fmt.Errorf("incomplete hex escape in %q", s)
				}
				b, err := hex.DecodeString(s[i+1 : i+3])
				if err != nil {
					return nil, fmt.Errorf("bad escape \\%s in %q", s[i+1:i+3], s)
				}
				buf = append(buf, b[0])
				i += 2
			}
			trail = 0
		case ch == '=' && !inValue:
			attr.Type = take()
			if attr.Type == "" {
				return nil, fmt.Errorf("attribute without a type in %q", s)
			}
			inValue = true
			// Skip leading spaces now, so a '#' after them is seen.
			for i+1 < len(s) && s[i+1] == ' ' {
				i++
			}
			if i+1 < len(s) && s[i+1] == '#' {
				return nil, fmt.Errorf("hex (BER) attribute values are not supported in %q", s)
			}
		case ch == ',' || ch == '+':
			if err := endAttr(); err != nil {
				return nil, err
			}
			if ch == ',' {
				dn, rdn = append(dn, rdn), nil
			}
		case ch == ' ' && len(buf) == 0:
			// leading space
		default:
			buf = append(buf, ch)
			if ch == ' ' {
				trail++
			} else {
				trail = 0
			}
		}
	}
	if err := endAttr(); err != nil {
		return nil, err
	}
	return append(dn, rdn), nil
}

// Equal reports whether d and o name the same entry: the same RDNs in the
// same order (distinguishedNameMatch, RFC 4517).
func (d DN) Equal(o DN) bool {
	if len(d) != len(o) {
		return false
	}
	for i := range d {
		if !d[i].Equal(o[i]) {
			return false
		}
	}
	return true
}

// SameRDNs reports whether d and o hold the same RDNs in any order: how a
// user written with its RDNs in another order than the certificate's
// still matches.
func (d DN) SameRDNs(o DN) bool {
	if len(d) != len(o) {
		return false
	}
	used := make([]bool, len(o))
next:
	for _, r := range d {
		for j, q := range o {
			if !used[j] && r.Equal(q) {
				used[j] = true
				continue next
			}
		}
		return false
	}
	return true
}

// Equal reports whether r and o hold the same attributes in any order.
func (r RDN) Equal(o RDN) bool {
	return len(r) == len(o) && r.holdsAll(o) && o.holdsAll(r)
}

func (r RDN) holdsAll(attrs RDN) bool {
next:
	for _, a := range attrs {
		for _, b := range r {
			if strings.EqualFold(a.Type, b.Type) && a.Value == b.Value {
				continue next
			}
		}
		return false
	}
	return true
}
