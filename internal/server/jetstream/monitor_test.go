package jetstream_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/pkg/api"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMonitoring(t *testing.T) {
	s := runJS(t, func(o *server.Options) { o.HTTPHost, o.HTTPPort = "127.0.0.1", server.RandomPort })
	nc, j := connectJS(t, s)
	c := ctx(t)
	if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "M", Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := j.Publish(c, "M", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	base := s.MonitorURL()
	_, body := httpGet(t, base+"/jsz?streams=1&config=1")
	var jz api.JSInfo
	if err := json.Unmarshal([]byte(body), &jz); err != nil {
		t.Fatal(err)
	}
	if jz.Disabled || jz.Streams != 1 || jz.Messages != 3 || len(jz.AccountDetails) != 1 || len(jz.AccountDetails[0].Streams) != 1 {
		t.Fatalf("jsz %s", body)
	}
	var sc api.StreamConfig
	if json.Unmarshal(jz.AccountDetails[0].Streams[0].Config, &sc); sc.Name != "M" {
		t.Fatalf("stream config missing: %s", body)
	}
	_, body = httpGet(t, base+"/varz")
	var v api.Varz
	json.Unmarshal([]byte(body), &v)
	if v.JetStream.Config == nil || v.JetStream.Stats == nil || v.JetStream.Stats.API.Total == 0 {
		t.Fatalf("varz jetstream %s", body)
	}
	for _, q := range []string{"js-enabled-only=1", "js-server-only=1", "account=$G&stream=M"} {
		if code, body := httpGet(t, base+"/healthz?"+q); code != 200 {
			t.Fatalf("healthz %s: %d %s", q, code, body)
		}
	}
	if code, _ := httpGet(t, base+"/healthz?account=$G&stream=NOPE"); code == 200 {
		t.Fatal("healthz of a missing stream is ok")
	}
	_, body = httpGet(t, base+"/metrics")
	for _, want := range []string{"jetstream_server_total_streams", `jetstream_stream_total_messages{server_id=`, `stream_name="M"`} {
		if !strings.Contains(body, want) {
			t.Fatalf("metrics lack %s", want)
		}
	}
	// $SYS JSZ for the account answers with real figures.
	_ = nc
	_ = time.Second
}
