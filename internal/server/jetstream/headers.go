package jetstream

import (
	"bytes"
	"strconv"
)

// Header names of the publish protocol and of server-made messages.
const (
	hdrMsgID            = "Nats-Msg-Id"
	hdrExpStream        = "Nats-Expected-Stream"
	hdrExpLastSeq       = "Nats-Expected-Last-Sequence"
	hdrExpLastSubjSeq   = "Nats-Expected-Last-Subject-Sequence"
	hdrExpLastSubjSeqTo = "Nats-Expected-Last-Subject-Sequence-Subject"
	hdrExpLastMsgID     = "Nats-Expected-Last-Msg-Id"
	hdrRollup           = "Nats-Rollup"
	hdrTTL              = "Nats-TTL"
	hdrIncr             = "Nats-Incr"
	hdrRequiredLevel    = "Nats-Required-Api-Level"
	hdrBatchID          = "Nats-Batch-Id"
	hdrBatchSeq         = "Nats-Batch-Sequence"
	hdrBatchCommit      = "Nats-Batch-Commit"
	hdrSchedule         = "Nats-Schedule"
	hdrMarkerReason     = "Nats-Marker-Reason"

	hdrStream    = "Nats-Stream"
	hdrSubject   = "Nats-Subject"
	hdrSequence  = "Nats-Sequence"
	hdrTimeStamp = "Nats-Time-Stamp"
	hdrLastSeq   = "Nats-Last-Sequence"
	hdrNumPend   = "Nats-Num-Pending"
	hdrUpToSeq   = "Nats-UpTo-Sequence"
	hdrMsgSize   = "Nats-Msg-Size"

	hdrLine = "NATS/1.0\r\n"
)

// getHeader returns the value of key in a NATS header block (nil when
// absent). Names match exactly, as in nats-server.
func getHeader(hdr []byte, key string) []byte {
	if len(hdr) == 0 {
		return nil
	}
	for i := 0; ; {
		j := bytes.Index(hdr[i:], []byte(key))
		if j < 0 {
			return nil
		}
		j += i
		end := j + len(key)
		// Must start a line and be followed by ':'.
		if j >= 2 && hdr[j-1] == '\n' && end < len(hdr) && hdr[end] == ':' {
			v := hdr[end+1:]
			if k := bytes.IndexByte(v, '\r'); k >= 0 {
				v = v[:k]
			}
			return bytes.TrimSpace(v)
		}
		i = end
	}
}

func hasHeader(hdr []byte, key string) bool { return getHeader(hdr, key) != nil }

// headerUint parses a header as an unsigned number.
func headerUint(hdr []byte, key string) (uint64, bool) {
	v := getHeader(hdr, key)
	if v == nil {
		return 0, false
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	return n, err == nil
}

// appendHeaders appends "Key: value" lines to a header block (creating
// it) and returns the block, terminated.
func appendHeaders(hdr []byte, kv ...string) []byte {
	var out []byte
	if len(hdr) >= len(hdrLine)+2 && bytes.HasSuffix(hdr, []byte("\r\n\r\n")) {
		out = make([]byte, 0, len(hdr)+64)
		out = append(out, hdr[:len(hdr)-2]...)
	} else {
		out = append(make([]byte, 0, 128), hdrLine...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, kv[i]...)
		out = append(out, ": "...)
		out = append(out, kv[i+1]...)
		out = append(out, "\r\n"...)
	}
	return append(out, "\r\n"...)
}

// statusHeader is a status-only header block ("NATS/1.0 404 Message Not
// Found") with optional extra headers.
func statusHeader(status string, kv ...string) []byte {
	out := append(make([]byte, 0, 96), "NATS/1.0 "+status+"\r\n"...)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, kv[i]+": "+kv[i+1]+"\r\n"...)
	}
	return append(out, "\r\n"...)
}
