// Package jsutil holds what the JetStream commands (stream, consumer,
// account, bench js/kv) share: the JetStream client built from the
// factory's connection and context, errors mapped to exit codes, and the
// parsing of sizes and durations the way natscli reads them.
package jsutil

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// New returns the JetStream client on the factory's shared connection,
// honouring the context's jetstream_domain and jetstream_api_prefix.
func New(f *cmdutil.Factory) (jetstream.JetStream, error) {
	nc, err := f.Conn()
	if err != nil {
		return nil, err
	}
	return ForConn(f, nc)
}

// ForConn returns a JetStream client on nc with the factory's settings.
func ForConn(f *cmdutil.Factory, nc *nats.Conn, extra ...jetstream.JetStreamOpt) (jetstream.JetStream, error) {
	s, err := f.Settings()
	if err != nil {
		return nil, err
	}
	opts := append([]jetstream.JetStreamOpt{jetstream.WithDefaultTimeout(f.Timeout())}, extra...)
	switch {
	case s.Context.JSDomain != "":
		return jetstream.NewWithDomain(nc, s.Context.JSDomain, opts...)
	case s.Context.JSAPIPrefix != "":
		return jetstream.NewWithAPIPrefix(nc, s.Context.JSAPIPrefix, opts...)
	}
	return jetstream.New(nc, opts...)
}

// APIPrefix is the JetStream API subject prefix in use, "$JS.API" by default.
func APIPrefix(f *cmdutil.Factory) string {
	s, err := f.Settings()
	if err != nil {
		return "$JS.API"
	}
	switch {
	case s.Context.JSDomain != "":
		return "$JS." + s.Context.JSDomain + ".API"
	case s.Context.JSAPIPrefix != "":
		return strings.TrimSuffix(s.Context.JSAPIPrefix, ".")
	}
	return "$JS.API"
}

// Ctx bounds one API call by --timeout.
func Ctx(ctx context.Context, f *cmdutil.Factory) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, f.Timeout())
}

// Err turns a JetStream client error into one with the right exit code
// and a hint. what and name say what was asked for ("stream", "ORDERS").
func Err(err error, what, name string) error {
	if err == nil {
		return nil
	}
	var ce *cmdutil.Error
	var ue *cmdutil.UsageError
	if errors.As(err, &ce) || errors.As(err, &ue) {
		return err
	}
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		if what == "stream" || what == "" {
			return cmdutil.NotFound("stream", name, "list streams with 'sluice stream ls'")
		}
		return cmdutil.NotFound("stream", name, "")
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		return cmdutil.NotFound("consumer", name, "list consumers with 'sluice consumer ls STREAM'")
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return &cmdutil.Error{Code: cmdutil.ExitNotFound, Err: errors.New("no message found")}
	case errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
		return cmdutil.WithHint(cmdutil.ExitError, errors.New("JetStream is not enabled for this account"),
			"enable it for the account in the server configuration")
	case errors.Is(err, jetstream.ErrJetStreamNotEnabled):
		return cmdutil.WithHint(cmdutil.ExitError, errors.New("JetStream is not enabled on the server"),
			"start the server with JetStream (-js)")
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrNoStreamResponse):
		return cmdutil.WithHint(cmdutil.ExitNoResponders, errors.New("no JetStream API answered"),
			"is JetStream enabled on the server and for this account?")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return &cmdutil.Error{Code: cmdutil.ExitTimeout, Err: fmt.Errorf("JetStream did not answer in time: %w", err)}
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		if apiErr.Code == 404 {
			return &cmdutil.Error{Code: cmdutil.ExitNotFound, Err: fmt.Errorf("%s (error %d)", apiErr.Description, apiErr.ErrorCode)}
		}
		return fmt.Errorf("the server refused: %s (error %d)", apiErr.Description, apiErr.ErrorCode)
	}
	return err
}

var nameBad = regexp.MustCompile(`[\s.*>/\\]`)

// ValidName checks a stream or consumer name as the server would, so a
// bad name fails before anything is sent. flag names it in the error.
func ValidName(flag, name string) error {
	if name == "" {
		return cmdutil.FlagErrorf("%s must not be empty", flag)
	}
	if nameBad.MatchString(name) {
		return cmdutil.FlagErrorf("%s %q is not a valid name: it may not contain spaces, '.', '*', '>', '/' or '\\'", flag, name)
	}
	if len(name) > 255 {
		return cmdutil.FlagErrorf("%s is too long (%d bytes, at most 255)", flag, len(name))
	}
	return nil
}

var durRe = regexp.MustCompile(`^(\d+(?:\.\d+)?)(y|w|d|M|h|m|s|ms|us|µs|ns)`)

// ParseDuration reads durations as natscli does: Go's form plus y, M
// (months of 30 days), w and d, e.g. "1d12h" or "1y". "-1" and "" are 0
// (unlimited).
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "-1" || s == "0" {
		return 0, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return 0, fmt.Errorf("%q is negative", s)
		}
		return d, nil
	}
	var total time.Duration
	rest := s
	for rest != "" {
		m := durRe.FindStringSubmatch(rest)
		if m == nil {
			return 0, fmt.Errorf("%q is not a duration; write e.g. 90s, 1h30m, 2d or 1y", s)
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		unit := map[string]time.Duration{
			"y": 365 * 24 * time.Hour, "M": 30 * 24 * time.Hour, "w": 7 * 24 * time.Hour, "d": 24 * time.Hour,
			"h": time.Hour, "m": time.Minute, "s": time.Second, "ms": time.Millisecond,
			"us": time.Microsecond, "µs": time.Microsecond, "ns": time.Nanosecond,
		}[m[2]]
		total += time.Duration(v * float64(unit))
		rest = rest[len(m[0]):]
	}
	return total, nil
}

// ParseSize reads a size such as 1GB or 512MiB; "-1" is unlimited (-1).
func ParseSize(s string) (int64, error) {
	if strings.TrimSpace(s) == "-1" {
		return -1, nil
	}
	return cmdutil.ParseBytes(s)
}

// HumanDuration shows a duration as natscli does: "1d2h3m4s", or "unlimited" for 0.
func HumanDuration(d time.Duration) string {
	if d <= 0 {
		return "unlimited"
	}
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	d = d.Round(time.Second)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	var b strings.Builder
	if days >= 365 {
		fmt.Fprintf(&b, "%dy", days/365)
		days %= 365
	}
	if days > 0 {
		fmt.Fprintf(&b, "%dd", days)
	}
	h, m, sec := d/time.Hour, (d%time.Hour)/time.Minute, (d%time.Minute)/time.Second
	if h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if sec > 0 {
		fmt.Fprintf(&b, "%ds", sec)
	}
	return b.String()
}

// Limit shows a count limit, "unlimited" when negative or zero.
func Limit(n int64) string {
	if n <= 0 {
		return "unlimited"
	}
	return cmdutil.Comma(n)
}

// SizeLimit shows a byte limit, "unlimited" when negative or zero.
func SizeLimit(n int64) string {
	if n <= 0 || n == math.MaxInt64 {
		return "unlimited"
	}
	return cmdutil.IBytes(uint64(n))
}

// Since shows how long ago t was, "never" for the zero time.
func Since(t time.Time) string {
	if t.IsZero() || t.Unix() <= 0 {
		return "never"
	}
	return HumanDuration(time.Since(t)) + " ago"
}

// StreamNames lists the stream names, sorted.
func StreamNames(ctx context.Context, f *cmdutil.Factory, js jetstream.JetStream, subject string) ([]string, error) {
	var opts []jetstream.StreamListOpt
	if subject != "" {
		opts = append(opts, jetstream.WithStreamListSubject(subject))
	}
	l := js.StreamNames(ctx, opts...)
	var names []string
	for n := range l.Name() {
		names = append(names, n)
	}
	if err := l.Err(); err != nil {
		return nil, Err(err, "", "")
	}
	sort.Strings(names)
	return names, nil
}

// IsInternalStream reports streams that back other things: KV and
// object store buckets and MQTT state, hidden from listings unless --all.
func IsInternalStream(name string) bool {
	return strings.HasPrefix(name, "KV_") || strings.HasPrefix(name, "OBJ_") || strings.HasPrefix(name, "$MQTT_")
}

// PickStream fills *name when it is empty: on a terminal it offers the
// streams to choose from, otherwise it is a usage error naming STREAM.
func PickStream(ctx context.Context, f *cmdutil.Factory, js jetstream.JetStream, name *string) error {
	if *name != "" {
		return ValidName("STREAM", *name)
	}
	p := f.Prompt()
	if p == nil {
		return cmdutil.FlagErrorf("missing STREAM argument")
	}
	names, err := StreamNames(ctx, f, js, "")
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return cmdutil.WithHint(cmdutil.ExitNotFound, errors.New("there are no streams"), "create one with 'sluice stream add'")
	}
	i, err := p.Select("Select a Stream", names, "")
	if err != nil {
		return err
	}
	*name = names[i]
	return nil
}

// PickConsumer fills *name when it is empty, as PickStream does.
func PickConsumer(ctx context.Context, f *cmdutil.Factory, s jetstream.Stream, name *string) error {
	if *name != "" {
		return ValidName("CONSUMER", *name)
	}
	p := f.Prompt()
	if p == nil {
		return cmdutil.FlagErrorf("missing CONSUMER argument")
	}
	var names []string
	l := s.ConsumerNames(ctx)
	for n := range l.Name() {
		names = append(names, n)
	}
	if err := l.Err(); err != nil {
		return Err(err, "", "")
	}
	if len(names) == 0 {
		return cmdutil.WithHint(cmdutil.ExitNotFound, errors.New("the stream has no consumers"), "create one with 'sluice consumer add'")
	}
	sort.Strings(names)
	i, err := p.Select("Select a Consumer", names, "")
	if err != nil {
		return err
	}
	*name = names[i]
	return nil
}
