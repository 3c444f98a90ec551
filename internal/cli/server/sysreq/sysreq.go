package sysreq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/pkg/api"
)

// Subjects of the server services.
const (
	// PingSubject is answered by every server with its STATSZ.
	PingSubject = "$SYS.REQ.SERVER.PING"
	pingPrefix  = "$SYS.REQ.SERVER.PING."
	serverFmt   = "$SYS.REQ.SERVER.%s.%s"
)

// DefaultIdle is how long Stream waits for one more answer after the
// last one when it does not know how many to expect (natscli's figure).
const DefaultIdle = 300 * time.Millisecond

// PingAll is the subject on which every server answers endpoint (VARZ,
// CONNZ, ...).
func PingAll(endpoint string) string { return pingPrefix + endpoint }

// ServerSubject is the subject on which the one server id answers
// endpoint.
func ServerSubject(id, endpoint string) string { return fmt.Sprintf(serverFmt, id, endpoint) }

// Request is one $SYS request and how to gather its answers.
type Request struct {
	Subject string
	// Body is marshalled as JSON; nil sends an empty body. A []byte is
	// sent as it is.
	Body any
	// Expect is the number of answers to wait for; 0 means unknown.
	Expect int
	// Timeout bounds the whole gathering.
	Timeout time.Duration
	// Idle, when Expect is unknown, ends the gathering this long after
	// the last answer. 0 means DefaultIdle; negative waits for Timeout.
	Idle time.Duration
	// Learn, when Expect is unknown, may read the expected number from
	// the first answer (STATSZ has active_servers); 0 keeps it unknown.
	Learn func(*nats.Msg) int
}

// Reply is one answer and when it came.
type Reply struct {
	Msg *nats.Msg
	RTT time.Duration
}

// ErrNoSystemAccess is returned when nobody answers a $SYS subject at
// once: the user is not in the system account (or lacks permission).
var ErrNoSystemAccess = errors.New("no server answers $SYS requests for this user")

// noAccess wraps the no-responders case with what to do about it. A
// request to one server id may also have found no such server.
func noAccess(subject string) error {
	hint := "connect as a user of the system account, e.g. with --user/--password, --creds or a context that has one"
	if id, ok := targetID(subject); ok {
		return cmdutil.WithHint(cmdutil.ExitNoResponders,
			fmt.Errorf("nobody answers %s: no server has the id %s, or %w: %w", subject, id, ErrNoSystemAccess, nats.ErrNoResponders),
			"check the id with 'sluice server list', and %s", hint)
	}
	return cmdutil.WithHint(cmdutil.ExitNoResponders, fmt.Errorf("%w (%s): %w", ErrNoSystemAccess, subject, nats.ErrNoResponders), "%s", hint)
}

// targetID returns the server id of a $SYS.REQ.SERVER.<id>.<NAME> subject.
func targetID(subject string) (string, bool) {
	rest, ok := strings.CutPrefix(subject, "$SYS.REQ.SERVER.")
	if !ok || strings.HasPrefix(rest, "PING") {
		return "", false
	}
	id, _, ok := strings.Cut(rest, ".")
	return id, ok
}

// Stream sends req and calls each for every answer as it arrives, from
// one goroutine at a time. It returns the number of answers. An error
// from each stops the gathering and is returned.
func Stream(ctx context.Context, nc *nats.Conn, req Request, each func(Reply) error) (int, error) {
	body, err := encode(req.Body)
	if err != nil {
		return 0, err
	}
	if req.Timeout <= 0 {
		req.Timeout = cmdutil.DefaultTimeout
	}
	idle := req.Idle
	if idle == 0 {
		idle = DefaultIdle
	}
	ch := make(chan *nats.Msg, 4096) // roomy: a large cluster answers at once
	inbox := nc.NewRespInbox()
	sub, err := nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return 0, err
	}
	defer sub.Unsubscribe()
	msg := &nats.Msg{Subject: req.Subject, Reply: inbox, Data: body}
	start := time.Now()
	if err := nc.PublishMsg(msg); err != nil {
		return 0, fmt.Errorf("cannot send the request to %s: %w", req.Subject, err)
	}
	deadline := time.NewTimer(req.Timeout)
	defer deadline.Stop()
	var idleC <-chan time.Time
	var idleT *time.Timer
	defer func() {
		if idleT != nil {
			idleT.Stop()
		}
	}()
	expect, n := req.Expect, 0
	for expect <= 0 || n < expect {
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-deadline.C:
			return n, nil
		case <-idleC:
			return n, nil
		case m := <-ch:
			if isNoResponders(m) {
				if n == 0 {
					return 0, noAccess(req.Subject)
				}
				continue
			}
			if n == 0 && expect <= 0 && req.Learn != nil {
				expect = req.Learn(m)
			}
			n++
			if err := each(Reply{Msg: m, RTT: time.Since(start)}); err != nil {
				return n, err
			}
			if expect <= 0 && idle > 0 {
				if idleT == nil {
					idleT = time.NewTimer(idle)
					idleC = idleT.C
				} else {
					idleT.Reset(idle)
				}
			}
		}
	}
	return n, nil
}

// Collect is Stream gathering the answers in a slice.
func Collect(ctx context.Context, nc *nats.Conn, req Request) ([]Reply, error) {
	var out []Reply
	_, err := Stream(ctx, nc, req, func(r Reply) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

func isNoResponders(m *nats.Msg) bool {
	return len(m.Data) == 0 && m.Header.Get("Status") == "503"
}

func encode(body any) ([]byte, error) {
	switch b := body.(type) {
	case nil:
		return nil, nil
	case []byte:
		return b, nil
	case string:
		return []byte(b), nil
	}
	return json.Marshal(body)
}

// Response is the envelope of enveloped $SYS answers, with its data
// decoded as T.
type Response[T any] struct {
	Server *api.EventServer    `json:"server"`
	Data   *T                  `json:"data,omitempty"`
	Error  *api.ServerAPIError `json:"error,omitempty"`
}

// Decode reads an enveloped answer. An error answer becomes an error
// naming the server.
func Decode[T any](m *nats.Msg) (*Response[T], error) {
	var r Response[T]
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return nil, fmt.Errorf("cannot decode the answer to %s: %w", m.Subject, err)
	}
	if r.Error != nil {
		return &r, APIError(r.Server, r.Error)
	}
	if r.Data == nil {
		return &r, fmt.Errorf("%s answered without data", serverName(r.Server))
	}
	return &r, nil
}

// APIError turns the error of an answer into a Go error.
func APIError(srv *api.EventServer, e *api.ServerAPIError) error {
	return fmt.Errorf("%s: %s (code %d)", serverName(srv), e.Description, e.Code)
}

func serverName(srv *api.EventServer) string {
	if srv == nil {
		return "server"
	}
	if srv.Name != "" && srv.Name != srv.ID {
		return fmt.Sprintf("server %s (%s)", srv.Name, srv.ID)
	}
	return "server " + srv.ID
}

// StatsMsg is a STATSZ answer, with the parts of nats-server's that
// pkg/api does not model yet.
type StatsMsg struct {
	Server api.EventServer `json:"server"`
	Stats  Stats           `json:"statsz"`
}

// Stats is api.ServerStats plus routes, gateways and slow-consumer
// detail.
type Stats struct {
	api.ServerStats
	SlowConsumersStats *api.SlowConsumersStats `json:"slow_consumer_stats,omitempty"`
	Routes             []RouteStat             `json:"routes,omitempty"`
	Gateways           []GatewayStat           `json:"gateways,omitempty"`
}

// RouteStat is one route in STATSZ.
type RouteStat struct {
	ID   uint64 `json:"rid"`
	Name string `json:"name,omitempty"`
}

// GatewayStat is one gateway in STATSZ.
type GatewayStat struct {
	ID         uint64 `json:"gwid"`
	Name       string `json:"name"`
	NumInbound int    `json:"inbound_connections"`
}

// ActiveServers reads active_servers from a STATSZ answer, for
// Request.Learn.
func ActiveServers(m *nats.Msg) int {
	var s StatsMsg
	if json.Unmarshal(m.Data, &s) != nil {
		return 0
	}
	return s.Stats.ActiveServers
}

// Ping gathers the STATSZ of every server: expect of them, or as many as
// the first says are active.
func Ping(ctx context.Context, nc *nats.Conn, expect int, timeout time.Duration, each func(*StatsMsg, time.Duration) error) (int, error) {
	return Stream(ctx, nc, Request{Subject: PingSubject, Expect: expect, Timeout: timeout, Learn: ActiveServers},
		func(r Reply) error {
			var s StatsMsg
			if err := json.Unmarshal(r.Msg.Data, &s); err != nil {
				return fmt.Errorf("cannot decode a STATSZ answer: %w", err)
			}
			return each(&s, r.RTT)
		})
}

// CountServers asks one server how many servers are active, so that a
// request to all can stop once they all answered. It returns 0 when the
// answer does not say.
func CountServers(ctx context.Context, nc *nats.Conn, timeout time.Duration) (int, error) {
	var n int
	_, err := Stream(ctx, nc, Request{Subject: PingSubject, Expect: 1, Timeout: timeout}, func(r Reply) error {
		n = ActiveServers(r.Msg)
		return nil
	})
	return n, err
}

// LooksLikeServerID reports whether s has the shape of a server id: a
// 56-character upper-case public nkey starting with N.
func LooksLikeServerID(s string) bool {
	return len(s) == 56 && s[0] == 'N' && strings.ToUpper(s) == s
}

// ResolveServer turns a server name or id into the id and name. An id is
// taken as it is (name ""); a name is looked up by pinging every server.
func ResolveServer(ctx context.Context, nc *nats.Conn, ref string, timeout time.Duration) (id, name string, err error) {
	if LooksLikeServerID(ref) {
		return ref, "", nil
	}
	var mu sync.Mutex
	var names []string
	errFound := errors.New("found")
	_, err = Ping(ctx, nc, 0, timeout, func(s *StatsMsg, _ time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		if s.Server.Name == ref {
			id, name = s.Server.ID, s.Server.Name
			return errFound
		}
		names = append(names, s.Server.Name)
		return nil
	})
	if errors.Is(err, errFound) {
		return id, name, nil
	}
	if err != nil {
		return "", "", err
	}
	hint := "list servers with 'sluice server list'"
	if len(names) > 0 && len(names) <= 5 {
		hint = "known servers: " + strings.Join(names, ", ")
	}
	return "", "", cmdutil.NotFound("server", ref, hint)
}

// NoAnswer is the error when a request got no answer in time.
func NoAnswer(subject string, timeout time.Duration) error {
	return cmdutil.WithHint(cmdutil.ExitTimeout, fmt.Errorf("no server answered %s within %s", subject, timeout),
		"check the server name or id, or raise --timeout")
}

// One sends a request that one server answers and returns the answer;
// no answer within timeout is an ExitTimeout error.
func One(ctx context.Context, nc *nats.Conn, subject string, body any, timeout time.Duration) (*nats.Msg, error) {
	var got *nats.Msg
	_, err := Stream(ctx, nc, Request{Subject: subject, Body: body, Expect: 1, Timeout: timeout}, func(r Reply) error {
		got = r.Msg
		return nil
	})
	if err != nil {
		return nil, err
	}
	if got == nil {
		return nil, NoAnswer(subject, timeout)
	}
	return got, nil
}

// Target is the server a command acts on.
type Target struct {
	ID, Name string
}

// ResolveTarget finds the server ref names: the connected server when
// ref is empty, an id as it is, or a name looked up by ping.
func ResolveTarget(ctx context.Context, nc *nats.Conn, ref string, timeout time.Duration) (Target, error) {
	if ref == "" {
		return Target{ID: nc.ConnectedServerId(), Name: nc.ConnectedServerName()}, nil
	}
	id, name, err := ResolveServer(ctx, nc, ref, timeout)
	return Target{ID: id, Name: name}, err
}

// String names the target for messages.
func (t Target) String() string {
	if t.Name != "" && t.Name != t.ID {
		return fmt.Sprintf("%s (%s)", t.Name, t.ID)
	}
	return t.ID
}

// Control asks server id to act (RELOAD, KICK, LDM) and returns its
// answer as sent; an error answer becomes an error. Such answers carry
// no data when all went well.
func Control(ctx context.Context, nc *nats.Conn, id, endpoint string, body any, timeout time.Duration) (json.RawMessage, error) {
	m, err := One(ctx, nc, ServerSubject(id, endpoint), body, timeout)
	if err != nil {
		return nil, err
	}
	var r Response[json.RawMessage]
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return nil, fmt.Errorf("cannot decode the answer to %s: %w", endpoint, err)
	}
	if r.Error != nil {
		return m.Data, APIError(r.Server, r.Error)
	}
	return m.Data, nil
}

// Identify asks server id who it is (IDZ), to confirm it exists and to
// name it in messages.
func Identify(ctx context.Context, nc *nats.Conn, id string, timeout time.Duration) (*api.ServerID, error) {
	m, err := One(ctx, nc, ServerSubject(id, "IDZ"), nil, timeout)
	if err != nil {
		return nil, err
	}
	var sid api.ServerID
	if err := json.Unmarshal(m.Data, &sid); err != nil {
		return nil, fmt.Errorf("cannot decode the IDZ of %s: %w", id, err)
	}
	return &sid, nil
}

// ResolveNamed is ResolveTarget that also learns the name of a server
// given by id, confirming that it exists.
func ResolveNamed(ctx context.Context, nc *nats.Conn, ref string, timeout time.Duration) (Target, error) {
	t, err := ResolveTarget(ctx, nc, ref, timeout)
	if err != nil || t.Name != "" {
		return t, err
	}
	sid, err := Identify(ctx, nc, t.ID, timeout)
	if err != nil {
		return t, err
	}
	t.Name = sid.Name
	return t, nil
}

// WithFilter puts endpoint options and a server filter in one JSON
// object, the shape of nats-server's *EventOptions request types.
func WithFilter(opts any, filter api.EventFilterOptions) ([]byte, error) {
	merged := map[string]json.RawMessage{}
	for _, part := range []any{opts, filter} {
		b, err := json.Marshal(part)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &merged); err != nil {
			return nil, err
		}
	}
	return json.Marshal(merged)
}
