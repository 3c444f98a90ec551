package websocket

import (
	"encoding/binary"
	"unicode/utf8"
)

// Opcodes and header bits of RFC 6455 section 5.2; RSV1 marks a
// compressed message (RFC 7692).
const (
	opContinuation = 0
	opText         = 1
	opBinary       = 2
	opClose        = 8
	opPing         = 9
	opPong         = 10

	bitFinal = 0x80
	bitRsv1  = 0x40
	bitRsv23 = 0x30
	bitMask  = 0x80

	maxControlPayload = 125
	maxHeaderSize     = 14
	// browserFrameSize: browsers cope better with frames of this size.
	browserFrameSize = 4096
	// compressThreshold: output this small is not worth compressing.
	compressThreshold = 64
)

// Close status codes (RFC 6455 section 7.4.1).
const (
	StatusNormal          = 1000
	StatusGoingAway       = 1001
	StatusProtocolError   = 1002
	StatusNoStatus        = 1005
	StatusInvalidPayload  = 1007
	StatusPolicyViolation = 1008
	StatusMessageTooBig   = 1009
	StatusInternalError   = 1011
	StatusTLSHandshake    = 1015
)

// StatusFor maps a connection's close reason, in nats-server's words, to
// the status of the close frame sent with it, as nats-server does.
func StatusFor(reason string) int {
	switch reason {
	case "Client Closed":
		return StatusNormal
	case "Authentication Timeout", "Authentication Failure", "Slow Consumer (Pending Bytes)",
		"Slow Consumer (Write Deadline)", "Maximum Account Connections Exceeded",
		"Maximum Connections Exceeded", "Maximum Control Line Exceeded",
		"Maximum Subscriptions Exceeded", "Missing Account", "Authentication Expired",
		"Credentials Revoked":
		return StatusPolicyViolation
	case "TLS Handshake Failure":
		return StatusTLSHandshake
	case "Parse Error", "Protocol Violation", "Bad Client Protocol Version":
		return StatusProtocolError
	case "Maximum Message Payload Exceeded":
		return StatusMessageTooBig
	case "Write Error", "Read Error", "Stale Connection", "Server Shutdown":
		return StatusGoingAway
	}
	return StatusInternalError
}

// appendHeader appends an unmasked server frame header.
func appendHeader(dst []byte, first, final, compressed bool, op byte, n int) []byte {
	var b0 byte
	if first {
		b0 = op
	}
	if final {
		b0 |= bitFinal
	}
	if compressed {
		b0 |= bitRsv1
	}
	switch {
	case n <= 125:
		return append(dst, b0, byte(n))
	case n < 1<<16:
		return append(dst, b0, 126, byte(n>>8), byte(n))
	}
	dst = append(dst, b0, 127)
	return binary.BigEndian.AppendUint64(dst, uint64(n))
}

// closePayload is a close frame's body: the status, then the text cut to
// fit a control frame, with "..." saying it was cut.
func closePayload(status int, text string) []byte {
	if len(text) > maxControlPayload-2 {
		text = text[:maxControlPayload-5] + "..."
	}
	b := make([]byte, 2, 2+len(text))
	binary.BigEndian.PutUint16(b, uint16(status))
	return append(b, text...)
}

// validCloseStatus reports whether a peer may send status in a close
// frame (RFC 6455 section 7.4).
func validCloseStatus(status int) bool {
	switch {
	case status < 1000 || status >= 5000:
		return false
	case status == 1004 || status == 1005 || status == 1006 || status == 1015:
		return false
	case status >= 1016 && status <= 2999:
		return false
	}
	return true
}

// closeReply is what the server answers a peer's close frame with: its
// status echoed (1007 when its text is not UTF-8), nothing for none.
func closeReply(payload []byte) (reply []byte, protoErr string) {
	switch {
	case len(payload) == 0:
		return nil, ""
	case len(payload) == 1:
		return nil, "close frame payload cannot be 1 byte"
	}
	status := int(binary.BigEndian.Uint16(payload))
	if !validCloseStatus(status) {
		return nil, "invalid close status code " + itoa(status)
	}
	text := payload[2:]
	if !utf8.Valid(text) {
		return closePayload(StatusInvalidPayload, "invalid utf8 body in close frame"), ""
	}
	return closePayload(status, string(text)), ""
}

// unmask XORs b with key, starting at key offset pos; it returns the
// offset to continue from.
func unmask(b []byte, key [4]byte, pos int) int { return unmaskTo(b, b, key, pos) }

// unmaskTo writes src XORed with key to dst, in one pass: the decoder
// moves payload over the frame headers before it while unmasking it. dst
// holds len(src) bytes and may overlap src when it starts at or before
// it: every word is read before the word at the same offset is written.
func unmaskTo(dst, src []byte, key [4]byte, pos int) int {
	n := len(src)
	dst = dst[:n]
	i := 0
	if n >= 8 {
		var k8 [8]byte
		for j := range k8 {
			k8[j] = key[(pos+j)&3]
		}
		km := binary.LittleEndian.Uint64(k8[:])
		for ; i+32 <= n; i += 32 {
			s, d := src[i:i+32:i+32], dst[i:i+32:i+32]
			a := binary.LittleEndian.Uint64(s[0:8])
			b := binary.LittleEndian.Uint64(s[8:16])
			c := binary.LittleEndian.Uint64(s[16:24])
			e := binary.LittleEndian.Uint64(s[24:32])
			binary.LittleEndian.PutUint64(d[0:8], a^km)
			binary.LittleEndian.PutUint64(d[8:16], b^km)
			binary.LittleEndian.PutUint64(d[16:24], c^km)
			binary.LittleEndian.PutUint64(d[24:32], e^km)
		}
		for ; i+8 <= n; i += 8 {
			binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(src[i:])^km)
		}
	}
	for ; i < n; i++ {
		dst[i] = src[i] ^ key[(pos+i)&3]
	}
	return (pos + n) & 3
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
