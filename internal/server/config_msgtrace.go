package server

import (
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/pkg/conf"
)

// accountMsgTrace reads an account's msg_trace (or trace_dest): a
// destination subject, or a block {dest, sampling}. Sampling is a whole
// percentage (50 or "50%"), 100 when left out.
func (r *configReader) accountMsgTrace(ac *AccountConfig, key string, it *conf.Item) {
	dest := func(k string, it *conf.Item) {
		s, ok := r.str(k, it)
		if !ok {
			return
		}
		if !subject.ValidLiteral(s) {
			r.errorf(it.Pos, "trace destination %q is not valid", s)
			return
		}
		ac.TraceDest = s
	}
	switch v := it.Value.(type) {
	case string:
		dest(key, it)
	case map[string]any:
		for _, e := range sortedEntries(v) {
			switch strings.ToLower(e.key) {
			case "dest":
				dest(e.key, e.item)
			case "sampling":
				r.traceSampling(ac, e.key, e.item)
			default:
				r.unknown(e.key, e.item, "account "+ac.Name+" "+key)
			}
		}
	default:
		r.errorf(it.Pos, "'%s' must be a subject or a block {dest, sampling}, not %s", key, typeName(it.Value))
		return
	}
	switch {
	case ac.TraceDest != "" && ac.TraceSampling == 0:
		ac.TraceSampling = 100
	case ac.TraceDest == "" && ac.TraceSampling > 0:
		r.warnf(it.KeyPos, "trace destination sampling ignored since no destination was set")
		ac.TraceSampling = 0
	}
}

func (r *configReader) traceSampling(ac *AccountConfig, key string, it *conf.Item) {
	var n int
	switch v := it.Value.(type) {
	case int64:
		n = int(v)
	case string:
		p, err := strconv.Atoi(strings.TrimSuffix(v, "%"))
		if err != nil {
			r.errorf(it.Pos, "invalid trace destination sampling value %q", v)
			return
		}
		n = p
	default:
		r.errorf(it.Pos, "'%s' must be a whole percentage such as 50 or \"50%%\", not %s", key, typeName(it.Value))
		return
	}
	if n <= 0 || n > 100 {
		r.errorf(it.Pos, "trace destination sampling value %d is invalid, needs to be [1..100]", n)
		return
	}
	ac.TraceSampling = n
}
