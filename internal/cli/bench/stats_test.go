package benchcmd

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestLatencyFigures(t *testing.T) {
	// 1..1000 microseconds, shuffled: the figures must not depend on order.
	var ls []time.Duration
	for i := 1000; i >= 1; i-- {
		ls = append(ls, time.Duration(i)*time.Microsecond)
	}
	l := summarize(ls)
	us := time.Microsecond
	want := Latency{Min: us, Max: 1000 * us, Avg: 500500 * time.Nanosecond,
		P50: 500 * us, P90: 900 * us, P99: 990 * us, P999: 999 * us}
	want.StdDev = l.StdDev
	if *l != want {
		t.Fatalf("got %+v\nwant %+v", *l, want)
	}
	// The population standard deviation of 1..n is sqrt((n^2-1)/12).
	sd := math.Sqrt((1000*1000-1)/12.0) * float64(us)
	if math.Abs(float64(l.StdDev)-sd) > float64(time.Nanosecond) {
		t.Fatalf("stddev %v, want %v", l.StdDev, time.Duration(sd))
	}
	if summarize(nil) != nil {
		t.Fatal("no latencies should summarise to nil")
	}
	one := summarize([]time.Duration{7})
	if one.P50 != 7 || one.P999 != 7 || one.StdDev != 0 {
		t.Fatalf("single value: %+v", one)
	}
}

func TestShares(t *testing.T) {
	for _, c := range []struct {
		msgs int64
		n    int
		want string
	}{{10, 3, "[4 3 3]"}, {9, 3, "[3 3 3]"}, {1, 1, "[1]"}, {5, 5, "[1 1 1 1 1]"}} {
		if got := fmt.Sprint(shares(c.msgs, c.n)); got != c.want {
			t.Errorf("shares(%d, %d) = %s, want %s", c.msgs, c.n, got, c.want)
		}
	}
}

func testSamples() []*Sample {
	t0 := time.Unix(1000, 0)
	return []*Sample{
		{Msgs: 1000, Bytes: 128000, Start: t0, End: t0.Add(time.Second), IOMsgs: 1001,
			Latencies: []time.Duration{100 * time.Microsecond, 300 * time.Microsecond}},
		{Msgs: 3000, Bytes: 384000, Start: t0.Add(500 * time.Millisecond), End: t0.Add(2 * time.Second), IOMsgs: 3001,
			Latencies: []time.Duration{200 * time.Microsecond}},
		// A responder that got nothing must not stretch the span.
		{},
	}
}

func TestResultAggregates(t *testing.T) {
	r := NewResult(kindRequest, "svc", testSamples())
	if r.Messages != 4000 || r.Bytes != 512000 || r.Duration != 2*time.Second {
		t.Fatalf("totals: %+v", r)
	}
	if r.MsgsPerSec != 2000 || r.BytesPerSec != 256000 {
		t.Fatalf("rates: %v msgs/s %v B/s", r.MsgsPerSec, r.BytesPerSec)
	}
	if r.Clients[0].MsgsPerSec != 1000 || r.Clients[1].MsgsPerSec != 2000 || r.Clients[2].MsgsPerSec != 0 {
		t.Fatalf("client rates: %+v", r.Clients)
	}
	if sp := r.MsgRates; sp == nil || sp.Min != 0 || sp.Max != 2000 || sp.Avg != 1000 {
		t.Fatalf("spread: %+v", r.MsgRates)
	}
	if r.Latency.Min != 100*time.Microsecond || r.Latency.Max != 300*time.Microsecond || r.Latency.P50 != 200*time.Microsecond {
		t.Fatalf("latency: %+v", r.Latency)
	}

	var b bytes.Buffer
	r.WriteReport(&b)
	for _, want := range []string{
		"  [1] 1,000 msgs/sec ~ 125 KiB/sec (1,000 msgs)",
		"Core NATS service requester aggregated stats: 2,000 msgs/sec ~ 250 KiB/sec (4,000 msgs in 2s)",
		"message rates: min 0 | avg 1,000 | max 2,000 | stddev 816 msgs/sec",
		"latency per operation: min 100us | avg 200us | max 300us",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}

	one := NewResult(kindPub, "demo", testSamples()[:1])
	b.Reset()
	one.WriteReport(&b)
	if !strings.HasPrefix(b.String(), "Core NATS publisher stats: 1,000 msgs/sec ~ 125 KiB/sec (1,000 msgs in 1s)\n") || one.MsgRates != nil {
		t.Fatalf("single client:\n%s", b.String())
	}
	b.Reset()
	NewResult(kindReply, "svc", nil).WriteReport(&b)
	if !strings.Contains(b.String(), "nothing to report") {
		t.Fatalf("empty: %q", b.String())
	}
}

func TestCSVColumns(t *testing.T) {
	var b bytes.Buffer
	if err := NewResult(kindRequest, "svc", testSamples()).WriteCSV(&b, "RUN1"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || len(rows[0]) != 15 || rows[0][0] != "#RunID" || rows[0][14] != "StdDevLatencyMicroSecs" {
		t.Fatalf("header: %v", rows)
	}
	if got := strings.Join(rows[1][:7], ","); got != "RUN1,P0,1001,128000,1000,128000.000000,1.000000" {
		t.Fatalf("row: %s", got)
	}
	if rows[1][7] != "100.000000" || rows[1][9] != "300.000000" {
		t.Fatalf("latency columns: %v", rows[1])
	}

	b.Reset()
	sub := testSamples()[:1]
	sub[0].Latencies = nil
	NewResult(kindSub, "demo", sub).WriteCSV(&b, "RUN2")
	rows, _ = csv.NewReader(&b).ReadAll()
	if len(rows[0]) != 7 || rows[1][1] != "S0" {
		t.Fatalf("subscriber csv: %v", rows)
	}
}
