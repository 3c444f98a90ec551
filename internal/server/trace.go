package server

import (
	"bytes"
	"strconv"
)

// Protocol tracing (-V, trace: true) in nats-server's form: one line per
// operation, "<<-" for what the client sent and "->>" for what it was
// sent, then the payload of messages quoted as MSG_PAYLOAD. Callers check
// opts.Trace first so that tracing costs one load when it is off.

const (
	traceIn  = "<<-"
	traceOut = "->>"
)

// traceOp logs "<<- [OP arg arg]" (or "->>"), leaving empty args out.
func (c *client) traceOp(dir, op string, args ...[]byte) {
	var b bytes.Buffer
	b.WriteString(op)
	for _, a := range args {
		if len(a) > 0 {
			b.WriteByte(' ')
			b.Write(a)
		}
	}
	c.srv.log.Tracef("%s - cid:%d - %s [%s]", c.hostPort(), c.cid, dir, b.Bytes())
}

// tracePayload logs a message's bytes (headers and body), cut to
// max_traced_msg_len when that is set. Empty messages are not logged.
func (c *client) tracePayload(dir string, msg []byte, maxLen int) {
	if len(msg) == 0 {
		return
	}
	if maxLen > 0 && len(msg) > maxLen {
		q := strconv.Quote(string(msg[:maxLen]))
		c.srv.log.Tracef("%s - cid:%d - %s MSG_PAYLOAD: [\"%s...\"]", c.hostPort(), c.cid, dir, q[1:len(q)-1])
		return
	}
	c.srv.log.Tracef("%s - cid:%d - %s MSG_PAYLOAD: [%q]", c.hostPort(), c.cid, dir, msg)
}

// tracePub logs an incoming PUB or HPUB and its payload.
func (c *client) tracePub(o *Options, subj, reply []byte, hdrLen int, msg []byte) {
	if hdrLen > 0 {
		c.traceOp(traceIn, "HPUB", subj, reply, traceInt(hdrLen), traceInt(len(msg)))
	} else {
		c.traceOp(traceIn, "PUB", subj, reply, traceInt(len(msg)))
	}
	c.tracePayload(traceIn, msg, o.MaxTracedMsgLen)
}

// traceDelivery logs a MSG or HMSG sent to c and its payload.
func (c *client) traceDelivery(o *Options, subj, sid, reply []byte, hdrLen int, msg []byte) {
	if hdrLen > 0 {
		c.traceOp(traceOut, "HMSG", subj, sid, reply, traceInt(hdrLen), traceInt(len(msg)))
	} else {
		c.traceOp(traceOut, "MSG", subj, sid, reply, traceInt(len(msg)))
	}
	c.tracePayload(traceOut, msg, o.MaxTracedMsgLen)
}

// traceSent logs a control line the server queued for c (PONG, +OK, -ERR).
func (c *client) traceSent(line []byte) {
	if !c.srv.getOpts().Trace {
		return
	}
	line = bytes.TrimRight(line, "\r\n")
	op, arg, _ := bytes.Cut(line, []byte(" "))
	if len(op) > 0 && op[0] == '+' {
		op = op[1:]
	}
	c.traceOp(traceOut, string(op), arg)
}

func traceInt(n int) []byte { return strconv.AppendInt(nil, int64(n), 10) }
