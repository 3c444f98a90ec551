package difftest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Headers and trace events carry values that differ between servers and
// runs (times, connection ids, RTTs, server identities). They are reduced
// to what a correct server must agree on before comparing.

// volatileInfo are the Nats-Request-Info fields whose values differ.
var volatileInfo = map[string]bool{"rtt": true, "start": true, "id": true, "host": true, "server": true, "cluster": true}

// normalizeHeader renders a header block as sorted "Name: value" lines,
// with Nats-Request-Info reduced to its stable fields.
func normalizeHeader(block string) string {
	lines := strings.Split(strings.TrimSpace(block), "\r\n")
	if len(lines) == 0 || lines[0] == "" {
		return ""
	}
	out := []string{lines[0]}
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			out = append(out, "?"+l)
			continue
		}
		v = strings.TrimSpace(v)
		if k == "Nats-Request-Info" {
			v = normalizeJSONObject(v, volatileInfo)
		}
		out = append(out, k+": "+v)
	}
	slices.Sort(out[1:])
	return strings.Join(out, "|")
}

// normalizeJSONObject keeps every key, replacing the values of volatile
// ones with "*".
func normalizeJSONObject(v string, volatile map[string]bool) string {
	var m map[string]any
	if json.Unmarshal([]byte(v), &m) != nil {
		return "unparsable " + v
	}
	var parts []string
	for k, x := range m {
		if volatile[k] {
			parts = append(parts, k+"=*")
		} else {
			parts = append(parts, fmt.Sprintf("%s=%v", k, x))
		}
	}
	slices.Sort(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

// normalizePayload reduces a message trace event to its steps: the
// ingress, then every other step sorted (the order in which one server
// visits matches is its own), each by the fields that must agree. Other
// payloads are returned as they are.
func normalizePayload(p string) string {
	if !strings.HasPrefix(p, `{"server":`) {
		return p
	}
	if api := normalizeAPIResponse(p); api != "" {
		return api
	}
	var ev struct {
		Request struct {
			Header  map[string][]string `json:"header"`
			MsgSize int                 `json:"msgsize"`
		} `json:"request"`
		Events []map[string]any `json:"events"`
	}
	if json.Unmarshal([]byte(p), &ev) != nil || len(ev.Events) == 0 {
		return p
	}
	var steps []string
	for _, e := range ev.Events {
		var b strings.Builder
		fmt.Fprint(&b, e["type"])
		for _, k := range []string{"acc", "subj", "from", "to", "sub", "queue", "error"} {
			if k == "sub" && e["queue"] != nil {
				continue // which member's subject took it is random
			}
			if x, ok := e[k]; ok {
				fmt.Fprintf(&b, " %s=%v", k, x)
			}
		}
		steps = append(steps, b.String())
	}
	slices.Sort(steps[1:])
	var hdr []string
	for k, vs := range ev.Request.Header {
		hdr = append(hdr, k+"="+strings.Join(vs, ","))
	}
	slices.Sort(hdr)
	return fmt.Sprintf("TRACE size=%d header=%s steps=[%s]", ev.Request.MsgSize, strings.Join(hdr, ";"), strings.Join(steps, "; "))
}

// normalizeAPIResponse reduces a $SYS API response (user info) to its
// data and error, keys sorted: the server part is the answering server's
// own. It returns "" for anything else.
func normalizeAPIResponse(p string) string {
	var r struct {
		Data  map[string]any `json:"data"`
		Error map[string]any `json:"error"`
	}
	if json.Unmarshal([]byte(p), &r) != nil || (r.Data == nil && r.Error == nil) {
		return ""
	}
	delete(r.Data, "expires") // a countdown
	sortPermLists(r.Data["permissions"])
	b, _ := json.Marshal(r) // map keys sorted
	return "API " + string(b)
}

// sortPermLists sorts the allow and deny lists of user info permissions:
// nats-server lists them in its sublist's walk order, which varies.
func sortPermLists(perms any) {
	m, _ := perms.(map[string]any)
	for _, dir := range m {
		d, _ := dir.(map[string]any)
		for _, list := range d {
			if l, ok := list.([]any); ok {
				slices.SortFunc(l, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
			}
		}
	}
}
