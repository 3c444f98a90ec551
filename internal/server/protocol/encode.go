package protocol

import "strconv"

// Complete server lines with no arguments.
const (
	PingProto = "PING\r\n"
	PongProto = "PONG\r\n"
	OKProto   = "+OK\r\n"
)

// CRLF ends every control line and every payload.
const CRLF = "\r\n"

// HeaderPreamble starts every header block.
const HeaderPreamble = "NATS/1.0"

// AppendMsg appends "MSG <subject> <sid> [reply] <size>\r\n" to dst. The
// caller appends the payload and CRLF.
func AppendMsg(dst []byte, subject, sid, reply []byte, size int) []byte {
	dst = append(dst, "MSG "...)
	dst = appendSubjectSidReply(dst, subject, sid, reply)
	dst = strconv.AppendInt(dst, int64(size), 10)
	return append(dst, CRLF...)
}

// AppendHMsg appends "HMSG <subject> <sid> [reply] <hdr> <total>\r\n" to
// dst, where total counts the header block and the payload. The caller
// appends both and CRLF.
func AppendHMsg(dst []byte, subject, sid, reply []byte, hdrLen, total int) []byte {
	dst = append(dst, "HMSG "...)
	dst = appendSubjectSidReply(dst, subject, sid, reply)
	dst = strconv.AppendInt(dst, int64(hdrLen), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(total), 10)
	return append(dst, CRLF...)
}

// appendSubjectSidReply appends "<subject> <sid> [reply] ".
func appendSubjectSidReply(dst []byte, subject, sid, reply []byte) []byte {
	dst = append(dst, subject...)
	dst = append(dst, ' ')
	dst = append(dst, sid...)
	dst = append(dst, ' ')
	if len(reply) > 0 {
		dst = append(dst, reply...)
		dst = append(dst, ' ')
	}
	return dst
}

// AppendErr appends "-ERR '<text>'\r\n" to dst.
func AppendErr(dst []byte, text string) []byte {
	dst = append(dst, "-ERR '"...)
	dst = append(dst, text...)
	return append(dst, "'\r\n"...)
}

// AppendInfo appends "INFO <info> \r\n" to dst; info is the JSON object.
// The space before CRLF matches nats-server byte for byte.
func AppendInfo(dst []byte, info []byte) []byte {
	dst = append(dst, "INFO "...)
	dst = append(dst, info...)
	return append(dst, " \r\n"...)
}

// AppendNoResponders appends the header block of a no-responders status
// message, "NATS/1.0 503\r\nNats-Subject: <subject>\r\n\r\n", to dst. It
// is sent as HMSG with hdr == total and an empty payload.
func AppendNoResponders(dst []byte, subject []byte) []byte {
	dst = append(dst, HeaderPreamble+" 503\r\nNats-Subject: "...)
	dst = append(dst, subject...)
	return append(dst, "\r\n\r\n"...)
}
