package server

import (
	"crypto/tls"
	"errors"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/server/tlsconf"
	"github.com/sluicehq/sluice/pkg/conf"
)

// readTLS reads the client tls {} block, loads the certificates it names
// and sets TLSConfig with the settings that go with it. Problems are
// reported at the key (or list element) they come from.
func readTLS(r *configReader, key string, it *conf.Item) {
	m, ok := r.block(key, it)
	if !ok {
		return
	}
	var (
		set      tlsconf.Settings
		pos      = map[string]conf.Pos{}
		insecure []string // insecure cipher suites asked for
		allowIns bool
		pins     tlsconf.PinnedCerts
		failed   = len(r.errs)
	)
	o := r.opts
	for _, e := range sortedEntries(m) {
		k := strings.ToLower(e.key)
		pos[k] = e.item.KeyPos
		switch k {
		case "cert_file":
			set.CertFile, _ = r.str(e.key, e.item)
		case "key_file":
			set.KeyFile, _ = r.str(e.key, e.item)
		case "ca_file":
			set.CaFile, _ = r.str(e.key, e.item)
		case "verify":
			set.Verify, _ = r.boolean(e.key, e.item)
		case "verify_and_map":
			b, _ := r.boolean(e.key, e.item)
			set.Map, set.Verify = b, set.Verify || b
		case "insecure":
			set.Insecure, _ = r.boolean(e.key, e.item)
		case "allow_insecure_cipher_suites":
			allowIns, _ = r.boolean(e.key, e.item)
		case "verify_cert_and_check_known_urls":
			if b, ok := r.boolean(e.key, e.item); ok && b {
				r.errorf(e.item.KeyPos, "verify_cert_and_check_known_urls not supported in this context")
			}
		case "cipher_suites":
			set.CipherSuites = []uint16{} // empty stays distinct from "not given"
			r.tlsList(e.key, e.item, func(el *conf.Item, s string) {
				cs, err := tlsconf.CipherSuite(s)
				if err != nil {
					r.errorf(el.Pos, "%v", err)
					return
				}
				set.CipherSuites = append(set.CipherSuites, cs.ID)
				if cs.Insecure {
					insecure = append(insecure, cs.Name)
				}
			})
		case "curve_preferences":
			set.CurvePreferences = []tls.CurveID{}
			r.tlsList(e.key, e.item, func(el *conf.Item, s string) {
				id, err := tlsconf.Curve(s)
				if err != nil {
					r.errorf(el.Pos, "%v", err)
					return
				}
				set.CurvePreferences = append(set.CurvePreferences, id)
			})
		case "pinned_certs":
			pins = tlsconf.PinnedCerts{}
			r.tlsList(e.key, e.item, func(el *conf.Item, s string) {
				p, err := tlsconf.ParsePin(s)
				if err != nil {
					r.errorf(el.Pos, "%v", err)
					return
				}
				pins[p] = struct{}{}
			})
		case "timeout":
			if d, ok := r.seconds("tls timeout", e.item); ok {
				o.TLSTimeout = d
			}
		case "handshake_first", "first", "immediate":
			r.handshakeFirst(e.key, e.item)
		case "min_version":
			if s, ok := r.str(e.key, e.item); ok {
				v, err := tlsconf.Version(s)
				if err != nil {
					r.errorf(e.item.Pos, "error parsing tls config: %v", err)
				}
				set.MinVersion = v
			}
		default:
			if r.refuse("tls."+k, e.key, e.item) {
				continue
			}
			r.errorf(e.item.KeyPos, "error parsing tls config, unknown field %q", e.key)
		}
	}
	if len(insecure) > 0 && !allowIns {
		r.errorf(pos["cipher_suites"], "insecure cipher suites configured without 'allow_insecure_cipher_suites' option set: %s", strings.Join(insecure, ", "))
	}
	if len(r.errs) > failed {
		return // files are not worth reading for a block already wrong
	}
	set.Client = r.tlsClient
	cfg, err := tlsconf.Build(set)
	if err != nil {
		p := it.KeyPos
		var fe *tlsconf.Error
		if errors.As(err, &fe) {
			if fp, ok := pos[fe.Field]; ok {
				p = fp
			}
		}
		r.errorf(p, "%v", err)
		return
	}
	o.TLSConfig, o.TLSPinnedCerts, o.TLSMap = cfg, pins, set.Map
	o.TLSCert, o.TLSKey, o.TLSCaCert, o.TLSVerify = set.CertFile, set.KeyFile, set.CaFile, set.Verify
}

// tlsList walks a list of strings, handing each element to f with its
// position. An empty list is an error, as in nats-server.
func (r *configReader) tlsList(key string, it *conf.Item, f func(el *conf.Item, s string)) {
	list, ok := it.Value.([]any)
	if !ok {
		r.errorf(it.Pos, "'%s' must be a list [...], not %s", key, typeName(it.Value))
		return
	}
	if len(list) == 0 {
		r.errorf(it.Pos, "error parsing tls config, '%s' cannot be empty", key)
		return
	}
	for _, v := range list {
		el, ok := v.(*conf.Item)
		if !ok {
			el = &conf.Item{Value: v, Pos: it.Pos}
		}
		if s, ok := r.str(key, el); ok {
			f(el, s)
		}
	}
}

// handshakeFirst reads handshake_first: a boolean, or a string that is a
// boolean, "auto" (fall back after the default delay) or a fallback delay.
func (r *configReader) handshakeFirst(key string, it *conf.Item) {
	o := r.opts
	switch v := it.Value.(type) {
	case bool:
		o.TLSHandshakeFirst = v
		return
	case string:
		switch strings.ToLower(v) {
		case "true", "on":
			o.TLSHandshakeFirst = true
			return
		case "false", "off":
			o.TLSHandshakeFirst = false
			return
		case "auto", "auto_fallback":
			o.TLSHandshakeFirst, o.TLSHandshakeFirstFallback = true, DefaultTLSHandshakeFirstFallback
			return
		}
		if d, err := time.ParseDuration(v); err == nil {
			o.TLSHandshakeFirst, o.TLSHandshakeFirstFallback = true, d
			return
		}
		r.errorf(it.Pos, "field %q's value %q is invalid", key, v)
		return
	}
	r.errorf(it.Pos, "field %q should be a boolean or a string, not %s", key, typeName(it.Value))
}
