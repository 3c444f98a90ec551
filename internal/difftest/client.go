package difftest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// syncTimeout bounds one PING/PONG round; a correct server answers in
// microseconds, so reaching it means the connection is stuck.
const syncTimeout = 10 * time.Second

// serverReply matches the reply subjects a server makes up for service
// imports, which differ between servers and runs.
var serverReply = regexp.MustCompile(`_R_\.[^" ]*`)

// msg is a message a client received.
type msg struct {
	subject, reply, payload string
	header                  string // normalized (headers.go); "" for MSG
	sid                     int
}

// rawClient speaks the client protocol over TCP and records what the
// server sends: messages and -ERR lines, in order.
type rawClient struct {
	conn  net.Conn
	wmu   sync.Mutex
	pongs chan struct{}
	done  chan struct{} // closed when the reader stops

	mu struct {
		sync.Mutex
		events []string
		msgs   []msg // messages with a reply, not yet answered
		closed bool
	}
	subs map[int]string // sid -> queue group ("" for none)
	// noTraces is set when the client may not subscribe to trace events.
	noTraces bool
}

func dialClient(addr string) (*rawClient, error) {
	conn, err := net.DialTimeout("tcp", addr, syncTimeout)
	if err != nil {
		return nil, err
	}
	c := &rawClient{conn: conn, pongs: make(chan struct{}, 16), done: make(chan struct{}), subs: map[int]string{}}
	r := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(syncTimeout))
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "INFO ") {
		conn.Close()
		return nil, fmt.Errorf("no INFO from %s: %q %v", addr, line, err)
	}
	conn.SetReadDeadline(time.Time{})
	go c.read(r)
	return c, nil
}

func (c *rawClient) send(s string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.conn.SetWriteDeadline(time.Now().Add(syncTimeout))
	c.conn.Write([]byte(s)) // a failure shows as a closed connection
}

func (c *rawClient) record(ev string) {
	c.mu.Lock()
	c.mu.events = append(c.mu.events, ev)
	c.mu.Unlock()
}

// read parses what the server sends until the connection ends.
func (c *rawClient) read(r *bufio.Reader) {
	defer close(c.done)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			c.mu.Lock()
			c.mu.closed = true
			c.mu.events = append(c.mu.events, "CLOSED")
			c.mu.Unlock()
			return
		}
		line = strings.TrimRight(line, "\r\n")
		switch op, rest, _ := strings.Cut(line, " "); op {
		case "PING":
			c.send("PONG\r\n")
		case "PONG":
			c.pongs <- struct{}{}
		case "+OK", "INFO":
		case "-ERR":
			c.record("ERR " + serverReply.ReplaceAllString(rest, "_R_.*"))
		case "MSG", "HMSG":
			m, err := c.readMsg(r, strings.Fields(rest), op == "HMSG")
			if err != nil {
				c.record("BAD " + line)
				continue
			}
			if strings.HasPrefix(m.subject, "_TR.") && m.sid != traceSID {
				continue // trace events reach only the harness's own subscription (run.go)
			}
			if m.subject == accountAuthErrSubj {
				// A refused client's event is published into its account
				// by both servers, but asynchronously: which step's wide
				// subscription sees it is timing (tested on its own in
				// internal/server).
				continue
			}
			c.mu.Lock()
			c.mu.events = append(c.mu.events, c.describe(m))
			if m.reply != "" {
				c.mu.msgs = append(c.mu.msgs, m)
			}
			c.mu.Unlock()
		default:
			c.record("UNEXPECTED " + line)
		}
	}
}

// accountAuthErrSubj is the event of a failed login, sent in the account
// the client would have been in.
const accountAuthErrSubj = "$SYS.ACCOUNT.CLIENT.AUTH.ERR"

func (c *rawClient) readMsg(r *bufio.Reader, f []string, hasHdr bool) (msg, error) {
	sizes := 1
	if hasHdr {
		sizes = 2
	}
	if len(f) < 2+sizes || len(f) > 3+sizes {
		return msg{}, errors.New("bad MSG")
	}
	m := msg{subject: f[0]}
	m.sid, _ = strconv.Atoi(f[1])
	if len(f) == 3+sizes {
		m.reply = f[2]
	}
	n, err := strconv.Atoi(f[len(f)-1])
	if err != nil {
		return msg{}, err
	}
	hl := 0
	if hasHdr {
		if hl, err = strconv.Atoi(f[len(f)-2]); err != nil || hl > n {
			return msg{}, errors.New("bad HMSG sizes")
		}
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(r, buf); err != nil {
		return msg{}, err
	}
	m.header = normalizeHeader(string(buf[:hl]))
	m.payload = normalizePayload(string(buf[hl:n]))
	return m, nil
}

// describe renders a message so that the same delivery reads the same on
// any correct server: a queue subscription is named by its group (which
// member of a client's group takes it is random), a reply subject made by
// the server for a service import by its prefix only.
func (c *rawClient) describe(m msg) string {
	to := fmt.Sprintf("sid %d", m.sid)
	if q := c.subs[m.sid]; q != "" {
		to = "queue " + q
	}
	reply := serverReply.ReplaceAllString(m.reply, "_R_.*")
	subj := serverReply.ReplaceAllString(m.subject, "_R_.*") // a reply seen by a wide subscription
	if m.header != "" {
		return fmt.Sprintf("MSG %s to %s reply %q header %q payload %q", subj, to, reply, m.header, m.payload)
	}
	return fmt.Sprintf("MSG %s to %s reply %q payload %q", subj, to, reply, m.payload)
}

// sync sends PING and waits for the PONG: everything the server had
// queued for this client before it is then recorded. It reports false
// when the connection is gone.
func (c *rawClient) sync() bool {
	if c.isClosed() {
		return false
	}
	c.send("PING\r\n")
	t := time.NewTimer(syncTimeout)
	defer t.Stop()
	select {
	case <-c.pongs:
		return true
	case <-c.done:
		return false
	case <-t.C:
		c.record("TIMEOUT waiting for PONG")
		return false
	}
}

func (c *rawClient) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.closed
}

// hasEvent reports whether an event recorded so far starts with prefix.
func (c *rawClient) hasEvent(prefix string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.mu.events {
		if strings.HasPrefix(e, prefix) {
			return true
		}
	}
	return false
}

// hasEventWith reports whether an event recorded so far starts with
// prefix and contains part.
func (c *rawClient) hasEventWith(prefix, part string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.mu.events {
		if strings.HasPrefix(e, prefix) && strings.Contains(e, part) {
			return true
		}
	}
	return false
}

// take returns and clears the events recorded so far.
func (c *rawClient) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := c.mu.events
	c.mu.events = nil
	return ev
}

// requests returns and clears the messages that carry a reply subject.
func (c *rawClient) requests() []msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	ms := c.mu.msgs
	c.mu.msgs = nil
	return ms
}

func (c *rawClient) close() {
	c.conn.Close()
	<-c.done
}
