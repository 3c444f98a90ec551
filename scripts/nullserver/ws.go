package main

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
)

// frame is an unmasked server frame of at most 125 bytes.
func frame(p string) []byte { return append([]byte{0x82, byte(len(p))}, p...) }

func serveWS(c *net.TCPConn) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil || br.Buffered() > 0 {
		return // nats.go waits for the upgrade before it sends frames
	}
	sum := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	fmt.Fprintf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		base64.StdEncoding.EncodeToString(sum[:]))
	c.Write(frame(info))
	rd := rawReader(c)
	var d decoder
	buf := make([]byte, 64*1024)
	for {
		n, err := rd.Read(buf)
		if err != nil {
			return
		}
		if d.feed(buf[:n]) > 0 {
			c.Write(frame("PONG\r\n"))
		}
	}
}

// decoder follows frame boundaries and unmasks only the last six bytes of
// each frame, enough to see a PING there.
type decoder struct {
	hdr  []byte
	rem  int
	key  [4]byte
	pos  int
	tail []byte
}

// feed consumes b and returns how many frames ended with PING.
func (d *decoder) feed(b []byte) (pings int) {
	for len(b) > 0 {
		if d.rem == 0 {
			d.hdr = append(d.hdr, b[0])
			b = b[1:]
			if len(d.hdr) < 2 {
				continue
			}
			size, k := int(d.hdr[1]&0x7f), 2
			switch size {
			case 126:
				k = 4
			case 127:
				k = 10
			}
			if len(d.hdr) < k+4 {
				continue
			}
			switch k {
			case 4:
				size = int(binary.BigEndian.Uint16(d.hdr[2:]))
			case 10:
				size = int(binary.BigEndian.Uint64(d.hdr[2:]))
			}
			copy(d.key[:], d.hdr[k:])
			d.hdr, d.rem, d.pos, d.tail = d.hdr[:0], size, 0, d.tail[:0]
			continue
		}
		k := min(d.rem, len(b))
		for i := max(0, d.rem-6); i < k; i++ {
			d.tail = append(d.tail, b[i]^d.key[(d.pos+i)&3])
		}
		b, d.rem, d.pos = b[k:], d.rem-k, d.pos+k
		if d.rem == 0 && string(d.tail) == "PING\r\n" {
			pings++
		}
	}
	return pings
}
