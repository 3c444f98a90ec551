package server_test
import ("testing"; "os"; "os/exec"; "time"; "net"; "bufio"; "strings"; "sync/atomic"; "github.com/nats-io/nats.go")
func TestDbgRefSlow(t *testing.T) {
	os.WriteFile("/tmp/x/sc.conf", []byte("port: 14334\nmax_pending: 262144\nmax_payload: 16384\n"), 0644)
	cmd := exec.Command(os.Getenv("HOME")+"/peers/bin/nats-server", "-c", "/tmp/x/sc.conf")
	cmd.Start()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	time.Sleep(500 * time.Millisecond)
	url := "nats://127.0.0.1:14334"
	c, _ := net.Dial("tcp", "127.0.0.1:14334")
	c.(*net.TCPConn).SetReadBuffer(4096)
	r := bufio.NewReader(c)
	r.ReadString('\n')
	c.Write([]byte("CONNECT {\"verbose\":false}\r\nSUB fh 1\r\nPING\r\n"))
	l, _ := r.ReadString('\n'); t.Log(l)
	good, _ := nats.Connect(url, nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { t.Log("good disc", err) }))
	defer good.Close()
	var got atomic.Int64
	gs, _ := good.Subscribe("fh", func(*nats.Msg) { got.Add(1) })
	gs.SetPendingLimits(-1, -1)
	good.Flush()
	pub, _ := nats.Connect(url)
	defer pub.Close()
	payload := []byte(strings.Repeat("x", 1024))
	sent := 0
	for ; sent < 20000; sent++ {
		pub.Publish("fh", payload)
		if sent%256 == 0 { pub.Flush() }
	}
	pub.Flush()
	time.Sleep(2 * time.Second)
	t.Log(sent, got.Load())
}
