package monitor

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/pkg/api"
)

// query decodes typed parameters, remembering the first error. The error
// texts are nats-server's, so scripts that match on them keep working.
type query struct {
	v   url.Values
	err error
}

func newQuery(v url.Values) *query { return &query{v: v} }

func (q *query) str(name string) string { return q.v.Get(name) }

func (q *query) bool(name string) bool {
	s := q.v.Get(name)
	if s == "" || q.err != nil {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		q.err = fmt.Errorf("Error decoding boolean for '%s': %v", name, err)
	}
	return b
}

func (q *query) int(name string) int {
	s := q.v.Get(name)
	if s == "" || q.err != nil {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		q.err = fmt.Errorf("Error decoding int for '%s': %v", name, err)
	}
	return n
}

func (q *query) uint64(name string) uint64 {
	s := q.v.Get(name)
	if s == "" || q.err != nil {
		return 0
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		q.err = fmt.Errorf("Error decoding uint64 for '%s': %v", name, err)
	}
	return n
}

// subs reads "subs", which is a boolean or "detail".
func (q *query) subs() (subs, detail bool) {
	if strings.EqualFold(q.v.Get("subs"), "detail") {
		return false, true
	}
	return q.bool("subs"), false
}

func (q *query) state() api.ConnState {
	s := q.v.Get("state")
	if q.err != nil {
		return api.ConnOpen
	}
	switch strings.ToLower(s) {
	case "", "open":
		return api.ConnOpen
	case "closed":
		return api.ConnClosed
	case "any", "all":
		return api.ConnAll
	}
	q.err = fmt.Errorf("Error decoding state for %s", s)
	return api.ConnOpen
}

// ParseConnzOptions reads /connz's query: sort, auth, subs, offset, limit,
// cid, state, user, acc, mqtt_client, filter_subject. The sort order is
// checked by the Source, which knows the defaults.
func ParseConnzOptions(v url.Values) (*api.ConnzOptions, error) {
	q := newQuery(v)
	o := &api.ConnzOptions{Sort: api.SortOpt(q.str("sort"))}
	o.Username = q.bool("auth")
	o.Subscriptions, o.SubscriptionsDetail = q.subs()
	o.Offset = q.int("offset")
	o.Limit = q.int("limit")
	o.CID = q.uint64("cid")
	o.State = q.state()
	o.User = q.str("user")
	o.Account = q.str("acc")
	o.MQTTClient = q.str("mqtt_client")
	o.FilterSubject = q.str("filter_subject")
	return o, q.err
}

// ParseJSzOptions reads /jsz's query.
func ParseJSzOptions(v url.Values) (*api.JSzOptions, error) {
	q := newQuery(v)
	o := &api.JSzOptions{
		Account:          q.str("acc"),
		Accounts:         q.bool("accounts"),
		Streams:          q.bool("streams"),
		Consumer:         q.bool("consumers"),
		DirectConsumer:   q.bool("direct-consumers"),
		Config:           q.bool("config"),
		Offset:           q.int("offset"),
		Limit:            q.int("limit"),
		LeaderOnly:       q.bool("leader-only"),
		RaftGroups:       q.bool("raft"),
		StreamLeaderOnly: q.bool("stream-leader-only"),
	}
	return o, q.err
}

// ParseHealthzOptions reads /healthz's query.
func ParseHealthzOptions(v url.Values) (*api.HealthzOptions, error) {
	q := newQuery(v)
	o := &api.HealthzOptions{
		JSEnabled:     q.bool("js-enabled"),
		JSEnabledOnly: q.bool("js-enabled-only"),
		JSServerOnly:  q.bool("js-server-only"),
		JSMetaOnly:    q.bool("js-meta-only"),
		Details:       q.bool("details"),
		Account:       q.str("account"),
		Stream:        q.str("stream"),
		Consumer:      q.str("consumer"),
	}
	return o, q.err
}
