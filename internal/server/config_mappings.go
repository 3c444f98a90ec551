package server

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/pkg/conf"
)

// This file reads mappings {} blocks, top level and per account, in
// nats-server's grammar:
//
//	mappings {
//	  src: dest
//	  src: {destination: d, weight: 100%}
//	  src: [ {destination: d1, weight: 40%}, {destination: d2, weight: 60%, cluster: c} ]
//	}
//
// Each mapping is compiled here so its errors carry file:line; the error
// texts are nats-server's. Options.validate compiles them again for
// options built in code.

func readMappings(r *configReader, key string, it *conf.Item) {
	r.opts.Mappings = append(r.opts.Mappings, r.mappings(key, it)...)
}

// mappings reads one mappings block, in the order it was written: the
// first mapping whose source matches a subject is the one applied.
func (r *configReader) mappings(key string, it *conf.Item) []subject.Mapping {
	m, ok := r.block(key, it)
	if !ok {
		return nil
	}
	var out []subject.Mapping
	for _, e := range sortedEntries(m) {
		src := e.key
		if !subject.ValidSubject(src) {
			r.errorf(e.item.KeyPos, "Subject %q is not a valid subject", src)
			continue
		}
		mp := subject.Mapping{Source: src}
		var destPos []conf.Pos // where each destination was written
		switch v := e.item.Value.(type) {
		case string:
			if err := subject.CheckMapping(subject.Mapping{Source: src, Dests: []subject.MapDest{{Subject: v, Weight: 100}}}); err != nil {
				r.errorf(e.item.Pos, "Error adding mapping for %q to %q : %v", src, v, err)
				continue
			}
			mp.Dests = []subject.MapDest{{Subject: v, Weight: 100}}
		case []any:
			bad := false
			for _, dv := range v {
				di := asItem(dv)
				d, ok := r.mapDest(di)
				if !ok {
					bad = true
					continue
				}
				mp.Dests = append(mp.Dests, d)
				destPos = append(destPos, di.Pos)
			}
			if bad {
				continue
			}
		default:
			d, ok := r.mapDest(e.item)
			if !ok {
				continue
			}
			mp.Dests = []subject.MapDest{d}
			destPos = []conf.Pos{e.item.Pos}
		}
		if destPos != nil {
			if err := subject.CheckMapping(mp); err != nil {
				pos := e.item.Pos
				var de *subject.DestError
				if errors.As(err, &de) && de.Index < len(destPos) {
					pos = destPos[de.Index]
				}
				r.errorf(pos, "Error adding mapping for %q : %v", src, err)
				continue
			}
		}
		out = append(out, mp)
	}
	return out
}

// mapDest reads {destination: d, weight: w, cluster: c}. The weight is
// required, as a percentage: 40%, "40" or 40.
func (r *configReader) mapDest(it *conf.Item) (subject.MapDest, bool) {
	m, ok := it.Value.(map[string]any)
	if !ok {
		r.errorf(it.Pos, "Expected an entry for the mapping destination")
		return subject.MapDest{}, false
	}
	var d subject.MapDest
	good, hasWeight := true, false
	for _, e := range sortedEntries(m) {
		switch strings.ToLower(e.key) {
		case "dest", "destination":
			s, ok := r.str(e.key, e.item)
			d.Subject, good = s, good && ok
		case "cluster":
			s, ok := r.str(e.key, e.item)
			d.Cluster, good = s, good && ok
		case "weight":
			w, ok := r.mapWeight(e.item)
			d.Weight, good, hasWeight = w, good && ok, true
		default:
			r.errorf(e.item.KeyPos, "Unknown field %q for mapping destination", e.key)
			good = false
		}
	}
	if good && !hasWeight {
		r.errorf(it.Pos, "Missing weight for mapping destination %q", d.Subject)
		return d, false
	}
	return d, good
}

func (r *configReader) mapWeight(it *conf.Item) (uint8, bool) {
	var n int64
	switch v := it.Value.(type) {
	case int64:
		n = v
	case string:
		s := strings.TrimSuffix(v, "%")
		w, err := strconv.Atoi(s)
		if err != nil {
			r.errorf(it.Pos, "Invalid weight %q for mapping destination", s)
			return 0, false
		}
		n = int64(w)
	default:
		r.errorf(it.Pos, "Invalid weight %v for mapping destination: want a whole percentage such as 40%%, not %s", v, typeName(v))
		return 0, false
	}
	if n < 0 || n > 100 {
		r.errorf(it.Pos, "Invalid weight %d for mapping destination", n)
		return 0, false
	}
	return uint8(n), true
}

// validateMappings compiles the mapping sets of the global account (the
// top-level mappings) and of every configured account.
func (o *Options) validateMappings() error {
	sets := make(map[string]*subject.MappingSet)
	add := func(acc string, ms []subject.Mapping) error {
		if len(ms) == 0 {
			return nil
		}
		set, err := subject.NewMappingSet(ms)
		if err != nil {
			return err
		}
		sets[acc] = set
		return nil
	}
	if err := add(globalAccountName, o.Mappings); err != nil {
		return fmt.Errorf("mappings: %w", err)
	}
	for _, a := range o.Accounts {
		if err := add(a.Name, a.Mappings); err != nil {
			return fmt.Errorf("account %q: %w", a.Name, err)
		}
	}
	o.mapSets = sets
	return nil
}
