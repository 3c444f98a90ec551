package jetstream

import (
	"bytes"
	"encoding/json"
	"math/big"
	"strings"

	"github.com/sluicehq/sluice/pkg/api"
)

// Counter streams that source counter streams (nats-server 2.12+): a
// sourced message carries its origin's running total for its subject,
// not an increment to apply. The counter stream keeps, in the
// Nats-Counter-Sources header of each counter message, the last total
// every source gave for every subject ({"<stream>":{"<subject>":"<n>"}});
// a sourced total adds its difference from the one before, and Nats-Incr
// is rewritten to that difference so the stored message stays a true
// increment. Direct increments carry the header forward.

const hdrCounterSources = "Nats-Counter-Sources"

type counterSources map[string]map[string]string

// counterBase reads the current total and sources of a counter subject
// from its last message (nil last: a new counter).
func counterBase(data, hdr []byte) (*big.Int, counterSources, *api.ApiError) {
	total := new(big.Int)
	if data == nil {
		return total, nil, nil
	}
	var prev struct {
		Val string `json:"val"`
	}
	if json.Unmarshal(data, &prev) != nil {
		return nil, nil, api.JSMessageCounterBrokenErr
	}
	if _, ok := total.SetString(prev.Val, 10); !ok {
		return nil, nil, api.JSMessageCounterBrokenErr
	}
	var srcs counterSources
	if v := getHeader(hdr, hdrCounterSources); len(v) > 0 {
		if json.Unmarshal(v, &srcs) != nil {
			return nil, nil, api.JSMessageCounterBrokenErr
		}
	}
	return total, srcs, nil
}

// sourcedIncrement turns a sourced counter message into the increment
// it stands for, recording its total in srcs (created when nil).
func sourcedIncrement(srcHdr []byte, subj string, msg []byte, srcs counterSources) (*big.Int, counterSources, *api.ApiError) {
	f := strings.Fields(string(srcHdr))
	if len(f) == 0 {
		return nil, nil, api.JSMessageCounterBrokenErr
	}
	origin, origSubj := f[0], subj
	if len(f) >= 5 {
		origSubj = f[4]
	}
	var v struct {
		Val string `json:"val"`
	}
	if json.Unmarshal(msg, &v) != nil {
		return nil, nil, api.JSMessageCounterBrokenErr
	}
	sourced, _ := new(big.Int).SetString(v.Val, 10)
	if sourced == nil {
		sourced = new(big.Int)
	}
	if srcs == nil {
		srcs = counterSources{}
	}
	if srcs[origin] == nil {
		srcs[origin] = map[string]string{}
	}
	previous, _ := new(big.Int).SetString(srcs[origin][origSubj], 10)
	if previous == nil {
		previous = new(big.Int)
	}
	srcs[origin][origSubj] = sourced.String()
	return new(big.Int).Sub(sourced, previous), srcs, nil
}

// setHeader replaces (or adds) one header.
func setHeader(hdr []byte, key, val string) []byte {
	if len(hdr) > 0 {
		hdr = removeHeaders(hdr, func(k string) bool { return k == key })
	}
	return appendHeaders(hdr, key, val)
}

// counterHeaders writes the increment and sources into a counter
// message's header.
func counterHeaders(hdr []byte, incr *big.Int, sourced bool, srcs counterSources) []byte {
	if sourced {
		hdr = setHeader(hdr, hdrIncr, incr.String())
	}
	if len(srcs) > 0 {
		b, _ := json.Marshal(srcs) // sorted keys, as nats-server writes it
		hdr = setHeader(hdr, hdrCounterSources, string(bytes.TrimSpace(b)))
	}
	return hdr
}
