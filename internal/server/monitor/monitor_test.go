package monitor

import (
	"net/url"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/api"
)

func TestUptime(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"},
		{0, "0s"},
		{999 * time.Millisecond, "0s"},
		{45 * time.Second, "45s"},
		{3 * time.Minute, "3m0s"},
		{time.Hour + 2*time.Second, "1h0m2s"},
		{26*time.Hour + 3*time.Minute + 4*time.Second, "1d2h3m4s"},
		{400*24*time.Hour + 5*time.Second, "1y35d0h0m5s"},
	} {
		if got := Uptime(c.d); got != c.want {
			t.Errorf("Uptime(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestRTT(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{1234567 * time.Nanosecond, "1.234567ms"},
		{200*time.Microsecond + 345*time.Nanosecond, "200µs"},
		{2 * time.Second, "2s"},
	} {
		if got := RTT(c.d); got != c.want {
			t.Errorf("RTT(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestNormalizeBasePath(t *testing.T) {
	for in, want := range map[string]string{"": "/", "/": "/", "mon": "/mon", "/mon/": "/mon", "a//b/../c": "/a/c"} {
		if got := NormalizeBasePath(in); got != want {
			t.Errorf("NormalizeBasePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidCallback(t *testing.T) {
	for s, ok := range map[string]bool{
		"cb": true, "my.cb_1": true, "$": true, "_x9": true,
		"9cb": false, "alert(1)": false, "a b": false, "a;b": false, "": true,
		string(make([]byte, 129)): false,
	} {
		if got := validCallback(s); got != ok {
			t.Errorf("validCallback(%q) = %v, want %v", s, got, ok)
		}
	}
}

func TestParseConnzOptions(t *testing.T) {
	q, _ := url.ParseQuery("sort=bytes_to&auth=1&subs=detail&offset=2&limit=3&cid=7&state=any&user=u&acc=A&mqtt_client=m&filter_subject=f.>")
	o, err := ParseConnzOptions(q)
	if err != nil {
		t.Fatal(err)
	}
	want := api.ConnzOptions{Sort: api.ByOutBytes, Username: true, SubscriptionsDetail: true, Offset: 2, Limit: 3, CID: 7,
		State: api.ConnAll, User: "u", Account: "A", MQTTClient: "m", FilterSubject: "f.>"}
	if *o != want {
		t.Errorf("got %+v\nwant %+v", *o, want)
	}
	for _, c := range []struct{ q, want string }{
		{"auth=x", `Error decoding boolean for 'auth': strconv.ParseBool: parsing "x": invalid syntax`},
		{"subs=no", `Error decoding boolean for 'subs': strconv.ParseBool: parsing "no": invalid syntax`},
		{"offset=a", `Error decoding int for 'offset': strconv.Atoi: parsing "a": invalid syntax`},
		{"cid=-3", `Error decoding uint64 for 'cid': strconv.ParseUint: parsing "-3": invalid syntax`},
		{"state=gone", "Error decoding state for gone"},
		// The first error wins.
		{"limit=z&offset=y", `Error decoding int for 'offset': strconv.Atoi: parsing "y": invalid syntax`},
	} {
		q, _ := url.ParseQuery(c.q)
		if _, err := ParseConnzOptions(q); err == nil || err.Error() != c.want {
			t.Errorf("%s: %v, want %q", c.q, err, c.want)
		}
	}
}

func TestParseJSzAndHealthzOptions(t *testing.T) {
	q, _ := url.ParseQuery("acc=A&accounts=1&streams=1&consumers=1&direct-consumers=1&config=1&offset=1&limit=2&leader-only=1&raft=1&stream-leader-only=1")
	o, err := ParseJSzOptions(q)
	if err != nil {
		t.Fatal(err)
	}
	want := api.JSzOptions{Account: "A", Accounts: true, Streams: true, Consumer: true, DirectConsumer: true, Config: true,
		Offset: 1, Limit: 2, LeaderOnly: true, RaftGroups: true, StreamLeaderOnly: true}
	if *o != want {
		t.Errorf("jsz: got %+v", *o)
	}
	q, _ = url.ParseQuery("js-enabled=1&js-enabled-only=1&js-server-only=1&js-meta-only=1&details=1&account=A&stream=S&consumer=C")
	h, err := ParseHealthzOptions(q)
	if err != nil {
		t.Fatal(err)
	}
	hw := api.HealthzOptions{JSEnabled: true, JSEnabledOnly: true, JSServerOnly: true, JSMetaOnly: true, Details: true, Account: "A", Stream: "S", Consumer: "C"}
	if *h != hw {
		t.Errorf("healthz: got %+v", *h)
	}
	q, _ = url.ParseQuery("raft=maybe")
	if _, err := ParseJSzOptions(q); err == nil {
		t.Error("jsz raft=maybe accepted")
	}
}
