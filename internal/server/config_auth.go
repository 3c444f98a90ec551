package server

import (
	"cmp"
	"strings"

	"github.com/nats-io/nkeys"

	"github.com/sluicehq/sluice/internal/server/auth"
	"github.com/sluicehq/sluice/internal/server/callout"
	"github.com/sluicehq/sluice/pkg/conf"
)

// This file reads the security blocks: authorization {}, accounts {} and
// no_auth_user. Cross-references (a user's account, an import's export)
// are checked by Options.validateAuth, so options built in code get the
// same checks.

func readAuthorization(r *configReader, key string, it *conf.Item) {
	m, ok := r.block(key, it)
	if !ok {
		return
	}
	for _, e := range sortedEntries(m) {
		switch k := strings.ToLower(e.key); k {
		case "user", "username":
			if s, ok := r.str(e.key, e.item); ok {
				r.opts.Username, r.userKeyPos = s, e.item.KeyPos
			}
		case "pass", "password":
			if s, ok := r.str(e.key, e.item); ok {
				r.opts.Password = s
			}
		case "token":
			if s, ok := r.str(e.key, e.item); ok {
				r.opts.Authorization, r.tokenPos = s, e.item.KeyPos
			}
		case "timeout":
			if d, ok := r.seconds("authorization timeout", e.item); ok {
				r.opts.AuthTimeout = d
			}
		case "permissions", "permission":
			r.opts.Permissions = r.permissions(e.key, e.item)
		case "default_permission", "default_permissions":
			r.opts.DefaultPermissions = r.permissions(e.key, e.item)
		case "users":
			users, nks := r.users(e.key, e.item, "")
			r.opts.Users = append(r.opts.Users, users...)
			r.opts.Nkeys = append(r.opts.Nkeys, nks...)
			r.usersPos = e.item.KeyPos
		case "auth_callout", "auth_hook":
			if m, ok := r.block(e.key, e.item); ok {
				cfg, err := callout.Parse(m, func(v any) any { return asItem(v).Value })
				if err != nil {
					r.errorf(e.item.Pos, "%v", err)
					continue
				}
				r.opts.AuthCallout = cfg
			}
		default:
			if !r.refuse("authorization."+k, e.key, e.item) {
				r.unknown(e.key, e.item, "authorization")
			}
		}
	}
}

// unknown reports a key that has no meaning in a security block: always
// an error, lenient or not, since a misspelt restriction must not be
// dropped.
func (r *configReader) unknown(key string, it *conf.Item, block string) {
	if it.Referenced {
		return // defined only to be used as a $variable
	}
	r.errorf(it.KeyPos, "unknown field %q in %s", key, block)
}

// users reads a users list: maps with user/password or nkey, optional
// permissions and allowed_connection_types.
func (r *configReader) users(key string, it *conf.Item, account string) ([]*auth.User, []*auth.NkeyUser) {
	list, ok := it.Value.([]any)
	if !ok {
		r.errorf(it.Pos, "'%s' must be a list [...] of users, not %s", key, typeName(it.Value))
		return nil, nil
	}
	var users []*auth.User
	var nks []*auth.NkeyUser
	for _, v := range list {
		ui := asItem(v)
		m, ok := r.block("user entry", ui)
		if !ok {
			continue
		}
		u := &auth.User{Account: account}
		var nkey string
		for _, e := range sortedEntries(m) {
			switch strings.ToLower(e.key) {
			case "user", "username":
				u.Username, _ = r.str(e.key, e.item)
			case "pass", "password":
				u.Password, _ = r.str(e.key, e.item)
			case "nkey":
				if s, ok := r.str(e.key, e.item); ok {
					if !nkeys.IsValidPublicUserKey(s) {
						r.errorf(e.item.Pos, "Not a valid public nkey for a user: %q", s)
					}
					nkey = s
				}
			case "permission", "permissions", "authorization":
				u.Permissions = r.permissions(e.key, e.item)
			case "allowed_connection_types", "connection_types", "clients":
				u.AllowedConnectionTypes = r.connectionTypes(e.key, e.item)
			case "account":
				if s, ok := r.str(e.key, e.item); ok {
					u.Account = s
				}
			default:
				r.unknown(e.key, e.item, "user entry")
			}
		}
		if id := cmp.Or(nkey, u.Username); id != "" {
			if first, dup := r.userPos[id]; dup {
				r.errorf(ui.Pos, "duplicate user %q (first defined at %s)", id, first)
				continue
			}
			if r.userPos == nil {
				r.userPos = map[string]conf.Pos{}
			}
			r.userPos[id] = ui.Pos
		}
		switch {
		case nkey != "" && (u.Username != "" || u.Password != ""):
			r.errorf(ui.Pos, "a user entry has either nkey or user/password, not both")
		case nkey != "":
			nks = append(nks, &auth.NkeyUser{Nkey: nkey, Account: u.Account, Permissions: u.Permissions, AllowedConnectionTypes: u.AllowedConnectionTypes})
		case u.Username == "":
			r.errorf(ui.Pos, "a user entry needs 'user' (with 'password') or 'nkey'")
		default:
			users = append(users, u)
		}
	}
	return users, nks
}

func (r *configReader) connectionTypes(key string, it *conf.Item) map[string]bool {
	names := r.stringList(key, it)
	if names == nil {
		return nil
	}
	types := make(map[string]bool, len(names))
	for _, n := range names {
		n = strings.ToUpper(n)
		if !auth.KnownConnectionTypes[n] {
			r.errorf(it.Pos, "unknown connection type %q (want STANDARD, WEBSOCKET, LEAFNODE, LEAFNODE_WS, MQTT, MQTT_WS or IN_PROCESS)", n)
			continue
		}
		types[n] = true
	}
	return types
}

// stringList reads a string or a list of strings.
func (r *configReader) stringList(key string, it *conf.Item) []string {
	switch v := it.Value.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := r.str(key, asItem(e)); ok {
				out = append(out, s)
			}
		}
		return out
	}
	r.errorf(it.Pos, "'%s' must be a string or a list of strings, not %s", key, typeName(it.Value))
	return nil
}

func asItem(v any) *conf.Item {
	if it, ok := v.(*conf.Item); ok {
		return it
	}
	return &conf.Item{Value: v}
}

// permissions reads publish/subscribe/allow_responses.
func (r *configReader) permissions(key string, it *conf.Item) *auth.Permissions {
	m, ok := r.block(key, it)
	if !ok {
		return nil
	}
	p := &auth.Permissions{}
	for _, e := range sortedEntries(m) {
		switch strings.ToLower(e.key) {
		case "pub", "publish", "import":
			p.Publish = r.subjectPermission(e.key, e.item, false)
		case "sub", "subscribe", "export":
			p.Subscribe = r.subjectPermission(e.key, e.item, true)
		case "publish_allow_responses", "allow_responses":
			p.Response = r.responsePermission(e.key, e.item)
		default:
			r.unknown(e.key, e.item, "permissions")
		}
	}
	p.Normalize()
	return p
}

// subjectPermission reads a list (allowed subjects) or {allow, deny}.
func (r *configReader) subjectPermission(key string, it *conf.Item, queues bool) *auth.SubjectPermission {
	sp := &auth.SubjectPermission{}
	if m, ok := it.Value.(map[string]any); ok {
		for _, e := range sortedEntries(m) {
			switch strings.ToLower(e.key) {
			case "allow":
				sp.Allow = r.permSubjects(e.key, e.item, queues)
			case "deny":
				sp.Deny = r.permSubjects(e.key, e.item, queues)
			default:
				r.unknown(e.key, e.item, key+" permissions")
			}
		}
		return sp
	}
	sp.Allow = r.permSubjects(key, it, queues)
	return sp
}

func (r *configReader) permSubjects(key string, it *conf.Item, queues bool) []string {
	list := r.stringList(key, it)
	for _, s := range list {
		if !auth.ValidEntry(s, queues) {
			r.errorf(it.Pos, "invalid subject %q in %s permissions", s, key)
		}
	}
	if list == nil {
		return []string{}
	}
	return list
}

func (r *configReader) responsePermission(key string, it *conf.Item) *auth.ResponsePermission {
	rp := &auth.ResponsePermission{MaxMsgs: auth.DefaultResponseMaxMsgs, Expires: auth.DefaultResponseExpires}
	switch v := it.Value.(type) {
	case bool:
		if !v {
			return nil
		}
		return rp
	case map[string]any:
		for _, e := range sortedEntries(v) {
			switch strings.ToLower(e.key) {
			case "max", "max_msgs", "max_messages", "max_responses":
				if n, ok := r.integer(e.key, e.item); ok {
					rp.MaxMsgs = int(n)
				}
			case "expires", "expiration", "ttl":
				if d, ok := r.duration(e.key, e.item); ok {
					rp.Expires = d
				}
			default:
				r.unknown(e.key, e.item, key)
			}
		}
		return rp
	}
	r.errorf(it.Pos, "'%s' must be true/false or a block {max, expires}, not %s", key, typeName(it.Value))
	return nil
}

// readAccounts reads accounts { NAME { users, exports, imports, ... } }.
func readAccounts(r *configReader, key string, it *conf.Item) {
	m, ok := r.block(key, it)
	if !ok {
		return
	}
	for _, e := range sortedEntries(m) {
		ac := &AccountConfig{Name: e.key}
		r.opts.Accounts = append(r.opts.Accounts, ac)
		am, ok := e.item.Value.(map[string]any)
		if !ok {
			r.errorf(e.item.Pos, "account %q must be a block {...}, not %s", e.key, typeName(e.item.Value))
			continue
		}
		for _, f := range sortedEntries(am) {
			switch strings.ToLower(f.key) {
			case "users":
				users, nks := r.users(f.key, f.item, ac.Name)
				r.opts.Users = append(r.opts.Users, users...)
				r.opts.Nkeys = append(r.opts.Nkeys, nks...)
			case "exports":
				ac.Exports = r.exports(f.item)
			case "imports":
				ac.Imports = r.imports(f.item)
			case "default_permissions":
				ac.DefaultPermissions = r.permissions(f.key, f.item)
			case "mappings", "maps":
				ac.Mappings = append(ac.Mappings, r.mappings(f.key, f.item)...)
			case "msg_trace", "trace_dest":
				r.accountMsgTrace(ac, f.key, f.item)
			case "limits":
				ac.Limits = r.accountLimits(ac.Name, f.item)
			case "jetstream":
				r.readAccountJetStream(ac.Name, f.item)
			default:
				if !r.refuse("accounts."+f.key, f.key, f.item) {
					r.unknown(f.key, f.item, "account "+ac.Name)
				}
			}
		}
	}
}

func (r *configReader) exports(it *conf.Item) []Export {
	list, ok := it.Value.([]any)
	if !ok {
		r.errorf(it.Pos, "'exports' must be a list [...], not %s", typeName(it.Value))
		return nil
	}
	var out []Export
	for _, v := range list {
		ei := asItem(v)
		m, ok := r.block("export", ei)
		if !ok {
			continue
		}
		var ex Export
		kinds := 0
		for _, e := range sortedEntries(m) {
			switch strings.ToLower(e.key) {
			case "stream":
				ex.Subject, _ = r.str(e.key, e.item)
				kinds++
			case "service":
				ex.Subject, _ = r.str(e.key, e.item)
				ex.Service = true
				kinds++
			case "response", "response_type":
				if s, ok := r.str(e.key, e.item); ok {
					switch strings.ToLower(s) {
					case "single", "singleton":
						ex.ResponseType = ResponseSingleton
					case "stream":
						ex.ResponseType = ResponseStream
					case "chunked", "chunk":
						ex.ResponseType = ResponseChunked
					default:
						r.errorf(e.item.Pos, "unknown response type %q (want single, stream or chunked)", s)
					}
				}
			case "threshold", "response_threshold", "response_max_time", "response_time":
				ex.ResponseThreshold, _ = r.duration(e.key, e.item)
			case "accounts":
				ex.Accounts = r.stringList(e.key, e.item)
			case "allow_trace":
				ex.AllowTrace, _ = r.boolean(e.key, e.item)
			case "latency", "advertise":
				r.warnf(e.item.KeyPos, "'%s' in an export is not supported yet; ignored", e.key)
			default:
				if !r.refuse("export."+e.key, e.key, e.item) {
					r.unknown(e.key, e.item, "export")
				}
			}
		}
		if kinds != 1 {
			r.errorf(ei.Pos, "an export needs exactly one of 'stream' or 'service'")
			continue
		}
		if !ex.Service && (ex.ResponseType != "" || ex.ResponseThreshold != 0) {
			r.errorf(ei.Pos, "response settings apply to service exports only")
		}
		out = append(out, ex)
	}
	return out
}

func (r *configReader) imports(it *conf.Item) []Import {
	list, ok := it.Value.([]any)
	if !ok {
		r.errorf(it.Pos, "'imports' must be a list [...], not %s", typeName(it.Value))
		return nil
	}
	var out []Import
	for _, v := range list {
		ii := asItem(v)
		m, ok := r.block("import", ii)
		if !ok {
			continue
		}
		var im Import
		kinds := 0
		for _, e := range sortedEntries(m) {
			switch strings.ToLower(e.key) {
			case "stream", "service":
				kinds++
				im.Service = strings.EqualFold(e.key, "service")
				src, ok := r.block(e.key, e.item)
				if !ok {
					continue
				}
				for _, f := range sortedEntries(src) {
					switch strings.ToLower(f.key) {
					case "account":
						im.Account, _ = r.str(f.key, f.item)
					case "subject":
						im.Subject, _ = r.str(f.key, f.item)
					default:
						r.unknown(f.key, f.item, e.key+" import")
					}
				}
			case "prefix":
				im.Prefix, _ = r.str(e.key, e.item)
			case "to":
				im.To, _ = r.str(e.key, e.item)
			case "share":
				im.Share, _ = r.boolean(e.key, e.item)
			case "allow_trace":
				im.AllowTrace, _ = r.boolean(e.key, e.item)
			default:
				r.unknown(e.key, e.item, "import")
			}
		}
		switch {
		case kinds != 1:
			r.errorf(ii.Pos, "an import needs exactly one of 'stream' or 'service'")
		case im.Account == "" || im.Subject == "":
			r.errorf(ii.Pos, "an import needs 'account' and 'subject'")
		case im.Service && im.Prefix != "":
			r.errorf(ii.Pos, "'prefix' applies to stream imports; use 'to' for services")
		default:
			out = append(out, im)
		}
	}
	return out
}

// accountLimits reads an account's limits {} block.
func (r *configReader) accountLimits(account string, it *conf.Item) *AccountLimits {
	m, ok := r.block("limits", it)
	if !ok {
		return nil
	}
	l := Unlimited
	for _, e := range sortedEntries(m) {
		var dst *int32
		switch strings.ToLower(e.key) {
		case "max_connections", "max_conn":
			dst = &l.MaxConnections
		case "max_subscriptions", "max_subs":
			dst = &l.MaxSubscriptions
		case "max_payload", "max_pay":
			dst = &l.MaxPayload
		case "max_leafnodes", "max_leafs":
			dst = &l.MaxLeafNodes
		default:
			r.unknown(e.key, e.item, "limits of account "+account)
			continue
		}
		if n, ok := r.integer(e.key, e.item); ok {
			if n < NoLimit || n > maxInt32 {
				r.errorf(e.item.Pos, "'%s' must be between -1 (no limit) and %d, got %d", e.key, maxInt32, n)
				continue
			}
			*dst = int32(n)
		}
	}
	return &l
}
