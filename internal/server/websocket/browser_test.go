//go:build browser

package websocket_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/testutil"
)

// natsWSVersion is the nats.ws release the page runs, from the npm registry.
const natsWSVersion = "1.30.3"

// TestBrowser loads a page using nats.ws in headless Chromium, connected
// over ws:// and over wss:// (compression negotiated by the browser,
// origin checked) to `sluice serve` ($SLUICE_BIN). Run it with
// `make test-browser`.
func TestBrowser(t *testing.T) {
	bin := os.Getenv("SLUICE_BIN")
	if bin == "" {
		t.Fatal("SLUICE_BIN must name the sluice binary (make test-browser sets it)")
	}
	chrome := findChrome(t)
	natsJS := installNatsWS(t)
	t.Run("ws", func(t *testing.T) { browserRun(t, bin, chrome, natsJS, "") })
	t.Run("wss", func(t *testing.T) {
		ca := testutil.NewCA(t, "browser-ca")
		leaf := ca.ServerLeaf("server")
		browserRun(t, bin, chrome, natsJS, fmt.Sprintf("tls { cert_file: %q, key_file: %q }", leaf.CertFile, leaf.KeyFile))
	})
}

// browserRun serves the page, starts sluice serve with tlsBlock (none:
// no_tls) in its websocket {} and has Chromium run the page against it.
func browserRun(t *testing.T, bin, chrome, natsJS, tlsBlock string) {

	results := make(chan []byte, 1)
	page, _ := os.ReadFile("testdata/browser/index.html")
	mux := http.NewServeMux()
	mux.HandleFunc("/index.html", func(w http.ResponseWriter, r *http.Request) { w.Write(page) })
	mux.HandleFunc("/nats.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		http.ServeFile(w, r, natsJS)
	})
	mux.HandleFunc("/result", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case results <- b:
		default:
		}
	})
	web := httptest.NewServer(mux)
	defer web.Close()

	wsURL, natsURL, logs := startServe(t, bin, web.URL, tlsBlock)

	// The Go side: a TCP client answering the page's request.
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Subscribe("browser.svc", func(m *nats.Msg) {
		nc.Publish("browser.fromgo", []byte("hello from go"))
		m.Respond([]byte("pong:" + string(m.Data)))
	})
	nc.Flush()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	profile := t.TempDir()
	cmd := exec.CommandContext(ctx, chrome, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+profile, "--ignore-certificate-errors", // the test CA of wss://
		web.URL+"/index.html?ws="+url.QueryEscape(wsURL))
	var out syncBuf
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so its helpers go too
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", chrome, err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	}()
	var raw []byte
	select {
	case raw = <-results:
	case <-ctx.Done():
		t.Fatalf("no result from the page within 60s; chromium said:\n%s", out.String())
	}
	var res struct {
		Steps       []string
		OK          bool
		Error       string
		Server      string
		Pubsub      string
		Header      string
		Request     string
		FromGo      string
		BigLen      int
		SelfRequest string
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("result %s: %v", raw, err)
	}
	t.Logf("page: %s", raw)
	if !res.OK {
		t.Fatalf("page failed: %s (steps %v)", res.Error, res.Steps)
	}
	want := map[string][2]string{
		"server":      {res.Server, "browser-test"},
		"pubsub":      {res.Pubsub, "hello from the browser"},
		"header":      {res.Header, "yes"},
		"request":     {res.Request, "pong:ping"},
		"fromGo":      {res.FromGo, "hello from go"},
		"selfRequest": {res.SelfRequest, "self:hi"},
	}
	for k, v := range want {
		if v[0] != v[1] {
			t.Errorf("%s = %q, want %q", k, v[0], v[1])
		}
	}
	if !strings.Contains(logs.String(), "websocket connection upgraded (compression: true)") {
		t.Errorf("the browser's connection did not negotiate compression; server log:\n%s", logs.String())
	}
	if res.BigLen != 200000 {
		t.Errorf("big message of %d bytes, want 200000", res.BigLen)
	}
}

func findChrome(t *testing.T) string {
	if c := os.Getenv("CHROME"); c != "" {
		return c
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium found (apt-get install -y chromium, or set $CHROME)")
	return ""
}

// installNatsWS installs nats.ws with npm into a cache directory once and
// returns the path of its browser bundle.
func installNatsWS(t *testing.T) string {
	dir := os.Getenv("SLUICE_BROWSER_CACHE")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(cache, "sluice", "nats.ws-"+natsWSVersion)
	}
	js := filepath.Join(dir, "node_modules", "nats.ws", "esm", "nats.js")
	if _, err := os.Stat(js); err == nil {
		return js
	}
	os.MkdirAll(dir, 0o755)
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", dir, "nats.ws@"+natsWSVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install nats.ws: %v\n%s", err, out)
	}
	return js
}

// startServe runs `sluice serve` with a websocket listener that accepts
// the page's origin, and returns its ws:// and nats:// URLs.
func startServe(t *testing.T, bin, origin, tlsBlock string) (string, string, *syncBuf) {
	if tlsBlock == "" {
		tlsBlock = "no_tls: true"
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "browser.conf")
	os.WriteFile(conf, fmt.Appendf(nil, `server_name: browser-test
listen: 127.0.0.1:-1
ports_file_dir: %q
websocket {
  listen: "127.0.0.1:-1"
  %s
  compression: true
  allowed_origins: [%q]
}
`, dir, tlsBlock, origin), 0o600)
	cmd := exec.Command(bin, "serve", "-D", "-c", conf)
	logs := &syncBuf{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	ports := filepath.Join(dir, fmt.Sprintf("%s_%d.ports", filepath.Base(bin), cmd.Process.Pid))
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(ports)
		var p struct{ Nats, WebSocket []string }
		if err == nil && json.Unmarshal(b, &p) == nil && len(p.Nats) > 0 && len(p.WebSocket) > 0 {
			ws, _ := url.Parse(p.WebSocket[0])
			_, port, _ := net.SplitHostPort(ws.Host)
			return ws.Scheme + "://127.0.0.1:" + port, p.Nats[0], logs
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("sluice serve did not write its ports file:\n%s", logs.String())
	return "", "", nil
}
