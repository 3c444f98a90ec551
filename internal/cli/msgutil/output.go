package msgutil

import (
	"encoding/base64"
	"fmt"
	"io"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
)

// Message is a received message as --json prints it, one per line.
// Fields are only ever added.
type Message struct {
	Seq     uint64              `json:"seq,omitempty"`
	Subject string              `json:"subject"`
	Reply   string              `json:"reply,omitempty"`
	Headers map[string][]string `json:"headers,omitempty"`
	// Data is the payload when it is UTF-8 text; otherwise DataBase64
	// holds it.
	Data       string    `json:"data"`
	DataBase64 string    `json:"data_base64,omitempty"`
	Size       int       `json:"size"`
	Received   time.Time `json:"received"`
	// RTT is set on replies to requests: nanoseconds from sending.
	RTT time.Duration `json:"rtt_ns,omitempty"`
	// Status is the inline status of a status message (e.g. "503").
	Status string `json:"status,omitempty"`
}

// NewMessage converts m.
func NewMessage(m *nats.Msg, seq uint64, received time.Time) Message {
	out := Message{Seq: seq, Subject: m.Subject, Reply: m.Reply, Size: len(m.Data), Received: received}
	if len(m.Header) > 0 {
		out.Headers = map[string][]string(m.Header)
		out.Status = m.Header.Get("Status")
	}
	if utf8.Valid(m.Data) {
		out.Data = string(m.Data)
	} else {
		out.DataBase64 = base64.StdEncoding.EncodeToString(m.Data)
	}
	return out
}

// WriteHeaders prints headers as "Key: value" lines, sorted by key, and
// a blank line after them if there were any.
func WriteHeaders(w io.Writer, h nats.Header) {
	if len(h) == 0 {
		return
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(w, "%s: %s\n", k, v)
		}
	}
	fmt.Fprintln(w)
}

// WriteBody prints a payload followed by a newline if it lacks one. An
// empty payload prints as "nil body", as natscli does.
func WriteBody(w io.Writer, data []byte) {
	if len(data) == 0 {
		fmt.Fprintln(w, "nil body")
		return
	}
	w.Write(data)
	if data[len(data)-1] != '\n' {
		fmt.Fprintln(w)
	}
}
