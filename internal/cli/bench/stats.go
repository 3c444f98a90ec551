package benchcmd

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// Sample is what one client did: how many messages and payload bytes
// it moved between start and end, and, for requests, the round trip of
// each one.
type Sample struct {
	Msgs      int64
	Bytes     int64
	Start     time.Time
	End       time.Time
	Latencies []time.Duration
	// IOMsgs and IOBytes are the connection's own counters, in and out,
	// for the CSV file (nats bench reports them there).
	IOMsgs, IOBytes uint64
}

// Duration is how long the client was busy.
func (s *Sample) Duration() time.Duration { return s.End.Sub(s.Start) }

// rate is n per second over d, 0 when d is not positive.
func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// MsgRate is messages per second.
func (s *Sample) MsgRate() float64 { return rate(s.Msgs, s.Duration()) }

// ByteRate is payload bytes per second.
func (s *Sample) ByteRate() float64 { return rate(s.Bytes, s.Duration()) }

// Latency summarises round trips. Durations are nanoseconds in JSON.
type Latency struct {
	Min    time.Duration `json:"min_ns"`
	Avg    time.Duration `json:"avg_ns"`
	Max    time.Duration `json:"max_ns"`
	StdDev time.Duration `json:"stddev_ns"`
	P50    time.Duration `json:"p50_ns"`
	P90    time.Duration `json:"p90_ns"`
	P99    time.Duration `json:"p99_ns"`
	P999   time.Duration `json:"p99_9_ns"`
}

// summarize sorts ls in place and returns its figures, nil for none.
func summarize(ls []time.Duration) *Latency {
	if len(ls) == 0 {
		return nil
	}
	slices.Sort(ls)
	var sum float64
	for _, l := range ls {
		sum += float64(l)
	}
	avg := sum / float64(len(ls))
	var sq float64
	for _, l := range ls {
		d := float64(l) - avg
		sq += d * d
	}
	return &Latency{
		Min: ls[0], Max: ls[len(ls)-1], Avg: time.Duration(avg),
		StdDev: time.Duration(math.Sqrt(sq / float64(len(ls)))),
		P50:    percentile(ls, 50), P90: percentile(ls, 90),
		P99: percentile(ls, 99), P999: percentile(ls, 99.9),
	}
}

// percentile is the nearest-rank percentile of sorted ls: the smallest
// value with at least p% of the values at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	// The epsilon keeps 99.9% of 1000 at rank 999 despite rounding.
	i := int(math.Ceil(p/100*float64(len(sorted))-1e-9)) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Spread is the minimum, average, maximum and standard deviation of the
// clients' message rates.
type Spread struct {
	Min    float64 `json:"min"`
	Avg    float64 `json:"avg"`
	Max    float64 `json:"max"`
	StdDev float64 `json:"stddev"`
}

func spread(vs []float64) Spread {
	if len(vs) == 0 {
		return Spread{}
	}
	s := Spread{Min: vs[0], Max: vs[0]}
	var sum float64
	for _, v := range vs {
		s.Min, s.Max = min(s.Min, v), max(s.Max, v)
		sum += v
	}
	s.Avg = sum / float64(len(vs))
	var sq float64
	for _, v := range vs {
		sq += (v - s.Avg) * (v - s.Avg)
	}
	s.StdDev = math.Sqrt(sq / float64(len(vs)))
	return s
}

// ClientResult is one client's line of the report.
type ClientResult struct {
	Client      int           `json:"client"`
	Messages    int64         `json:"messages"`
	Bytes       int64         `json:"bytes"`
	Duration    time.Duration `json:"duration_ns"`
	MsgsPerSec  float64       `json:"msgs_per_sec"`
	BytesPerSec float64       `json:"bytes_per_sec"`
	Latency     *Latency      `json:"latency,omitempty"`
}

// Result is a whole run, as --json prints it. Fields are only ever
// added.
type Result struct {
	Kind        string         `json:"kind"`
	Subject     string         `json:"subject"`
	Clients     []ClientResult `json:"clients"`
	Messages    int64          `json:"messages"`
	Bytes       int64          `json:"bytes"`
	Duration    time.Duration  `json:"duration_ns"`
	MsgsPerSec  float64        `json:"msgs_per_sec"`
	BytesPerSec float64        `json:"bytes_per_sec"`
	// MsgRates spreads the clients' rates; set with more than one client.
	MsgRates *Spread `json:"msg_rates,omitempty"`
	// Latency covers every request of every client.
	Latency *Latency `json:"latency,omitempty"`

	samples []*Sample
}

// NewResult aggregates samples, in client order, into a result. The
// aggregate rate is all messages over the span from the first start to
// the last end.
func NewResult(kind, subject string, samples []*Sample) *Result {
	r := &Result{Kind: kind, Subject: subject, Clients: []ClientResult{}, samples: samples}
	var first, last time.Time
	var all []time.Duration
	var rates []float64
	for i, s := range samples {
		// A responder that answered nothing has no span of its own.
		if s.Msgs > 0 && (first.IsZero() || s.Start.Before(first)) {
			first = s.Start
		}
		if s.Msgs > 0 && s.End.After(last) {
			last = s.End
		}
		r.Messages += s.Msgs
		r.Bytes += s.Bytes
		all = append(all, s.Latencies...)
		rates = append(rates, s.MsgRate())
		r.Clients = append(r.Clients, ClientResult{
			Client: i + 1, Messages: s.Msgs, Bytes: s.Bytes, Duration: s.Duration(),
			MsgsPerSec: s.MsgRate(), BytesPerSec: s.ByteRate(), Latency: summarize(s.Latencies),
		})
	}
	r.Duration = last.Sub(first)
	r.MsgsPerSec, r.BytesPerSec = rate(r.Messages, r.Duration), rate(r.Bytes, r.Duration)
	if len(samples) > 1 {
		sp := spread(rates)
		r.MsgRates = &sp
	}
	r.Latency = summarize(all)
	return r
}

// label names a kind of benchmark the way nats bench does, so that
// scripts reading "... publisher stats: N msgs/sec" work with both.
func label(kind string) string {
	switch kind {
	case kindPub:
		return "Core NATS publisher"
	case kindSub:
		return "Core NATS subscriber"
	case kindRequest:
		return "Core NATS service requester"
	case kindReply:
		return "Core NATS service server"
	}
	return jsLabel(kind)
}

// micros formats a duration as microseconds with two decimals.
func micros(d time.Duration) string {
	return cmdutil.CommaFloat(float64(d)/float64(time.Microsecond), 2) + "us"
}

func rates(msgs, bytes float64) string {
	return fmt.Sprintf("%s msgs/sec ~ %s/sec", cmdutil.Comma(int64(msgs)), cmdutil.IBytes(uint64(bytes)))
}

func (l *Latency) String() string {
	return fmt.Sprintf("min %s | avg %s | max %s | stddev %s | P50 %s | P90 %s | P99 %s | P99.9 %s",
		micros(l.Min), micros(l.Avg), micros(l.Max), micros(l.StdDev),
		micros(l.P50), micros(l.P90), micros(l.P99), micros(l.P999))
}

// WriteReport prints the figures for people.
func (r *Result) WriteReport(w io.Writer) {
	if len(r.Clients) == 0 {
		fmt.Fprintln(w, "No client finished; nothing to report.")
		return
	}
	name := label(r.Kind)
	if len(r.Clients) == 1 {
		c := r.Clients[0]
		fmt.Fprintf(w, "%s stats: %s (%s msgs in %s)\n", name, rates(c.MsgsPerSec, c.BytesPerSec),
			cmdutil.Comma(c.Messages), cmdutil.Duration(c.Duration))
		if c.Latency != nil {
			fmt.Fprintf(w, "  latency: %s\n", c.Latency)
		}
		return
	}
	for _, c := range r.Clients {
		fmt.Fprintf(w, "  [%d] %s (%s msgs)\n", c.Client, rates(c.MsgsPerSec, c.BytesPerSec), cmdutil.Comma(c.Messages))
	}
	fmt.Fprintf(w, "\n%s aggregated stats: %s (%s msgs in %s)\n", name, rates(r.MsgsPerSec, r.BytesPerSec),
		cmdutil.Comma(r.Messages), cmdutil.Duration(r.Duration))
	sp := r.MsgRates
	fmt.Fprintf(w, "  message rates: min %s | avg %s | max %s | stddev %s msgs/sec\n",
		cmdutil.Comma(int64(sp.Min)), cmdutil.Comma(int64(sp.Avg)), cmdutil.Comma(int64(sp.Max)), cmdutil.Comma(int64(sp.StdDev)))
	if r.Latency != nil {
		fmt.Fprintf(w, "  latency per operation: %s\n", r.Latency)
	}
}

// WriteCSV writes one row per client in nats bench's CSV columns;
// latencies are in microseconds.
func (r *Result) WriteCSV(w io.Writer, runID string) error {
	cw := csv.NewWriter(w)
	head := []string{"#RunID", "ClientID", "MsgCount", "MsgBytes", "MsgsPerSec", "BytesPerSec", "DurationSecs"}
	withLat := r.Latency != nil
	if withLat {
		head = append(head, "MinLatencyMicroSecs", "AvgLatencyMicroSecs", "MaxLatencyMicroSecs",
			"P50LatencyMicroSecs", "P90LatencyMicroSecs", "P99LatencyMicroSecs", "P99.9LatencyMicroSecs", "StdDevLatencyMicroSecs")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	prefix := "P"
	if r.Kind == kindSub || r.Kind == kindReply {
		prefix = "S"
	}
	us := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 6, 64)
	}
	for i, c := range r.Clients {
		s := r.samples[i]
		row := []string{runID, prefix + strconv.Itoa(i), strconv.FormatUint(s.IOMsgs, 10), strconv.FormatInt(c.Bytes, 10),
			strconv.FormatInt(int64(c.MsgsPerSec), 10), strconv.FormatFloat(c.BytesPerSec, 'f', 6, 64),
			strconv.FormatFloat(c.Duration.Seconds(), 'f', 6, 64)}
		if withLat {
			l := c.Latency
			if l == nil {
				l = &Latency{}
			}
			row = append(row, us(l.Min), us(l.Avg), us(l.Max), us(l.P50), us(l.P90), us(l.P99), us(l.P999), us(l.StdDev))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
