package route

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"

	"github.com/sluicehq/sluice/internal/server/auth"
)

// Info is the INFO a route peer sends: nats-server's field names.
type Info struct {
	ID           string   `json:"server_id"`
	Name         string   `json:"server_name"`
	Version      string   `json:"version"`
	Proto        int      `json:"proto"`
	GitCommit    string   `json:"git_commit,omitempty"`
	GoVersion    string   `json:"go"`
	Host         string   `json:"host"`
	Port         int      `json:"port"`
	Headers      bool     `json:"headers"`
	AuthRequired bool     `json:"auth_required,omitempty"`
	TLSRequired  bool     `json:"tls_required,omitempty"`
	TLSVerify    bool     `json:"tls_verify,omitempty"`
	MaxPayload   int32    `json:"max_payload"`
	JetStream    bool     `json:"jetstream,omitempty"`
	IP           string   `json:"ip,omitempty"`
	Nonce        string   `json:"nonce,omitempty"`
	Cluster      string   `json:"cluster,omitempty"`
	Dynamic      bool     `json:"cluster_dynamic,omitempty"`
	Domain       string   `json:"domain,omitempty"`
	ConnectURLs  []string `json:"connect_urls,omitempty"`
	WSConnectURL []string `json:"ws_connect_urls,omitempty"`
	LameDuckMode bool     `json:"ldm,omitempty"`
	Compression  string   `json:"compression,omitempty"`

	Import        *auth.SubjectPermission `json:"import,omitempty"`
	Export        *auth.SubjectPermission `json:"export,omitempty"`
	LNOC          bool                    `json:"lnoc,omitempty"`
	LNOCU         bool                    `json:"lnocu,omitempty"`
	LN            bool                    `json:"ln,omitempty"`
	InfoOnConnect bool                    `json:"info_on_connect,omitempty"`
	RoutePoolSize int                     `json:"route_pool_size,omitempty"`
	RoutePoolIdx  int                     `json:"route_pool_idx,omitempty"`
	RouteAccount  string                  `json:"route_account,omitempty"`
	RouteAccReqID string                  `json:"route_acc_add_reqid,omitempty"`
	GossipMode    byte                    `json:"gossip_mode,omitempty"`
	GatewayURL    string                  `json:"gateway_url,omitempty"`
	Gateway       string                  `json:"gateway,omitempty"`
}

// Gossip modes, exchanged between servers.
const (
	gossipDefault  = byte(0)
	gossipDisabled = byte(1)
	gossipOverride = byte(2)
)

// connectInfo is the CONNECT a soliciting route sends.
type connectInfo struct {
	Echo     bool   `json:"echo"`
	Verbose  bool   `json:"verbose"`
	Pedantic bool   `json:"pedantic"`
	User     string `json:"user,omitempty"`
	Pass     string `json:"pass,omitempty"`
	TLS      bool   `json:"tls_required"`
	Headers  bool   `json:"headers"`
	Name     string `json:"name"`
	Cluster  string `json:"cluster"`
	Dynamic  bool   `json:"cluster_dynamic,omitempty"`
	LNOC     bool   `json:"lnoc,omitempty"`
	LNOCU    bool   `json:"lnocu,omitempty"`
	LN       bool   `json:"ln,omitempty"`
	Gateway  string `json:"gateway,omitempty"`
	Lang     string `json:"lang,omitempty"`
}

// PoolIndex is the pool connection an account's traffic uses, the same on
// every server for the same pool size (FNV-1a of the name).
func PoolIndex(poolSize int, account string) int {
	if poolSize <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(account))
	return int(h.Sum32() % uint32(poolSize))
}

// msgArgs are the parsed arguments of RMSG, HMSG or LMSG.
type msgArgs struct {
	account, subject, reply []byte
	queues                  [][]byte
	hdr, size               int
}

var errBadArgs = errors.New("bad arguments")

// splitArgs splits on blanks into dst, without allocating when dst has room.
func splitArgs(dst [][]byte, arg []byte) [][]byte {
	start := -1
	for i, b := range arg {
		if b == ' ' || b == '\t' || b == '\r' || b == '\n' {
			if start >= 0 {
				dst = append(dst, arg[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		dst = append(dst, arg[start:])
	}
	return dst
}

func parseSize(b []byte) int {
	if len(b) == 0 || len(b) > 10 {
		return -1
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// parseMsgArgs reads "[origin] account subject [reply | + reply q... | | q...]
// [hdr] size". acc is the account of a pinned route (not in the protocol);
// withHdr is HMSG/LMSG; withOrigin is LMSG.
func parseMsgArgs(pa *msgArgs, scratch [][]byte, arg []byte, acc []byte, withHdr, withOrigin bool) error {
	args := scratch[:0]
	if withOrigin {
		args = splitArgs(args, arg)
		if len(args) == 0 {
			return errBadArgs
		}
		args = args[1:] // the leaf origin cluster; leafnodes are not built
	} else {
		args = splitArgs(args, arg)
	}
	if len(acc) > 0 {
		args = append(args, nil)
		copy(args[1:], args)
		args[0] = acc
	}
	fixed := 3 // account subject size
	if withHdr {
		fixed = 4
	}
	pa.reply, pa.queues, pa.hdr = nil, nil, -1
	switch {
	case len(args) < fixed:
		return fmt.Errorf("%w: %q", errBadArgs, arg)
	case len(args) == fixed:
	case len(args) == fixed+1:
		pa.reply = args[2]
	default:
		if len(args[2]) != 1 {
			return fmt.Errorf("bad or missing reply indicator: %q", arg)
		}
		qs := 3
		switch args[2][0] {
		case '+':
			pa.reply = args[3]
			qs = 4
		case '|':
		default:
			return fmt.Errorf("bad or missing reply indicator: %q", arg)
		}
		end := len(args) - 1
		if withHdr {
			end--
		}
		if qs > end {
			return fmt.Errorf("%w: %q", errBadArgs, arg)
		}
		pa.queues = args[qs:end]
	}
	pa.account, pa.subject = args[0], args[1]
	pa.size = parseSize(args[len(args)-1])
	if withHdr {
		pa.hdr = parseSize(args[len(args)-2])
		if pa.hdr < 0 || pa.hdr > pa.size {
			return fmt.Errorf("bad or missing header size: %q", arg)
		}
	}
	if pa.size < 0 {
		return fmt.Errorf("bad or missing size: %q", arg)
	}
	return nil
}

// subArgs are the parsed arguments of RS+/RS-/LS+/LS-.
type subArgs struct {
	account, subject, queue []byte
	weight                  int32
}

// parseSubArgs reads "[origin] account subject [queue [weight]]".
func parseSubArgs(sa *subArgs, scratch [][]byte, arg []byte, acc []byte, sub, withOrigin bool) error {
	args := splitArgs(scratch[:0], arg)
	if withOrigin {
		if len(args) == 0 {
			return errBadArgs
		}
		args = args[1:]
	}
	if len(acc) == 0 {
		if len(args) == 0 {
			return fmt.Errorf("%w: %q", errBadArgs, arg)
		}
		sa.account, args = args[0], args[1:]
	} else {
		sa.account = acc
	}
	sa.queue, sa.weight = nil, 0
	switch len(args) {
	case 1:
	case 2:
		sa.queue, sa.weight = args[1], 1
	case 3:
		sa.queue = args[1]
		if !sub {
			return fmt.Errorf("%w: %q", errBadArgs, arg)
		}
		w := parseSize(args[2])
		if w < 0 {
			return fmt.Errorf("bad queue weight: %q", arg)
		}
		sa.weight = int32(w)
	default:
		return fmt.Errorf("%w: %q", errBadArgs, arg)
	}
	sa.subject = args[0]
	return nil
}

// appendSub appends RS+ or RS- for one interest.
func appendSub(b []byte, add bool, account, subject, queue string, weight int32) []byte {
	if add {
		b = append(b, "RS+ "...)
	} else {
		b = append(b, "RS- "...)
	}
	if account != "" {
		b = append(b, account...)
		b = append(b, ' ')
	}
	b = append(b, subject...)
	if queue != "" {
		b = append(b, ' ')
		b = append(b, queue...)
		if add {
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(weight), 10)
		}
	}
	return append(b, '\r', '\n')
}

// appendMsgHeader appends the RMSG or HMSG control line (with its CRLF).
// qs holds the queue names, each followed by a space.
func appendMsgHeader(b []byte, account string, subj, reply, qs []byte, hdrLen, size int) []byte {
	if hdrLen > 0 {
		b = append(b, "HMSG "...)
	} else {
		b = append(b, "RMSG "...)
	}
	if account != "" {
		b = append(b, account...)
		b = append(b, ' ')
	}
	b = append(b, subj...)
	b = append(b, ' ')
	if len(qs) > 0 {
		if len(reply) > 0 {
			b = append(b, '+', ' ')
			b = append(b, reply...)
			b = append(b, ' ')
		} else {
			b = append(b, '|', ' ')
		}
		b = append(b, qs...)
	} else if len(reply) > 0 {
		b = append(b, reply...)
		b = append(b, ' ')
	}
	if hdrLen > 0 {
		b = strconv.AppendInt(b, int64(hdrLen), 10)
		b = append(b, ' ')
	}
	b = strconv.AppendInt(b, int64(size), 10)
	return append(b, '\r', '\n')
}

var (
	crlf = []byte("\r\n")
	sp   = []byte(" ")
)

func trimCR(b []byte) []byte { return bytes.TrimRight(b, "\r") }
