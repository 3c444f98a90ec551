package jetstream

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/subject"
	"github.com/sluicehq/sluice/pkg/api"
)

// Message schedule headers.
const (
	hdrScheduleTZ     = "Nats-Schedule-Time-Zone"
	hdrScheduleTTL    = "Nats-Schedule-TTL"
	hdrScheduleRollup = "Nats-Schedule-Rollup"
	hdrScheduleTarget = "Nats-Schedule-Target"
	hdrScheduleSource = "Nats-Schedule-Source"
	hdrScheduler      = "Nats-Scheduler"
	hdrScheduleNext   = "Nats-Schedule-Next"
)

// nextSchedule parses a schedule pattern ("@at <RFC3339>", "@every
// <duration>", a 6-field cron or a predefined @daily/...) and returns the
// next time it fires after ts, and whether it repeats.
func nextSchedule(pattern string, loc *time.Location, ts time.Time) (time.Time, bool, bool) {
	switch {
	case strings.HasPrefix(pattern, "@at "):
		if loc != nil {
			return time.Time{}, false, false
		}
		t, err := time.Parse(time.RFC3339, pattern[4:])
		return t, false, err == nil
	case strings.HasPrefix(pattern, "@every "):
		if loc != nil {
			return time.Time{}, false, false
		}
		d, err := time.ParseDuration(pattern[7:])
		if err != nil || d < time.Second {
			return time.Time{}, false, false
		}
		next := ts.UTC().Round(time.Second).Add(d)
		if now := time.Now().UTC(); next.Before(now) {
			next = now.Round(time.Second).Add(d)
		}
		return next, true, true
	}
	switch pattern {
	case "@yearly", "@annually":
		pattern = "0 0 0 1 1 *"
	case "@monthly":
		pattern = "0 0 0 1 * *"
	case "@weekly":
		pattern = "0 0 0 * * 0"
	case "@daily", "@midnight":
		pattern = "0 0 0 * * *"
	case "@hourly":
		pattern = "0 0 * * * *"
	}
	c, ok := parseCron(pattern)
	if !ok {
		return time.Time{}, false, false
	}
	if loc == nil {
		loc = time.UTC
	}
	from := ts
	if now := time.Now(); from.Before(now) {
		from = now
	}
	next, ok := c.next(from.In(loc))
	return next, true, ok
}

// cron is a 6-field pattern: second minute hour day-of-month month
// day-of-week, each a set of allowed values.
type cron [6]map[int]bool

var cronRanges = [6][2]int{{0, 59}, {0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 6}}

func parseCron(p string) (cron, bool) {
	var c cron
	fields := strings.Fields(p)
	if len(fields) != 6 {
		return c, false
	}
	for i, f := range fields {
		lo, hi := cronRanges[i][0], cronRanges[i][1]
		c[i] = map[int]bool{}
		for _, part := range strings.Split(f, ",") {
			step := 1
			if base, s, ok := strings.Cut(part, "/"); ok {
				n, err := strconv.Atoi(s)
				if err != nil || n <= 0 {
					return c, false
				}
				step, part = n, base
			}
			a, b := lo, hi
			if part != "*" && part != "?" {
				x, y, isRange := strings.Cut(part, "-")
				var err1, err2 error
				a, err1 = strconv.Atoi(x)
				b = a
				if isRange {
					b, err2 = strconv.Atoi(y)
				} else if step > 1 {
					b = hi
				}
				if err1 != nil || err2 != nil || a < lo || b > hi || a > b {
					return c, false
				}
			}
			for v := a; v <= b; v += step {
				c[i][v] = true
			}
		}
	}
	return c, true
}

// next is the first time after t the pattern matches (within 5 years).
func (c cron) next(t time.Time) (time.Time, bool) {
	t = t.Truncate(time.Second).Add(time.Second)
	limit := t.AddDate(5, 0, 0)
	for t.Before(limit) {
		switch {
		case !c[4][int(t.Month())]:
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, t.Location())
		case !c[3][t.Day()] || !c[5][int(t.Weekday())]:
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, t.Location())
		case !c[2][t.Hour()]:
			t = t.Truncate(time.Hour).Add(time.Hour)
		case !c[1][t.Minute()]:
			t = t.Truncate(time.Minute).Add(time.Minute)
		case !c[0][t.Second()]:
			t = t.Add(time.Second)
		default:
			return t, true
		}
	}
	return time.Time{}, false
}

func scheduleLocation(hdr []byte) (*time.Location, *api.ApiError) {
	tz := getHeader(hdr, hdrScheduleTZ)
	if tz == nil {
		return nil, nil
	}
	loc, err := time.LoadLocation(string(tz))
	if len(tz) == 0 || err != nil {
		return nil, api.JSMessageSchedulesTimeZoneInvalidErr
	}
	return loc, nil
}

// checkSchedule validates a schedule message (one with Nats-Schedule) and
// returns its headers with the rollup a schedule must carry.
func (s *stream) checkSchedule(cfg *api.StreamConfig, subj string, hdr []byte) ([]byte, *api.ApiError) {
	if !cfg.AllowMsgSchedules {
		return nil, api.JSMessageSchedulesDisabledErr
	}
	loc, e := scheduleLocation(hdr)
	if e != nil {
		return nil, e
	}
	if _, _, ok := nextSchedule(string(getHeader(hdr, hdrSchedule)), loc, time.Now()); !ok {
		return nil, api.JSMessageSchedulesPatternInvalidErr
	}
	ttl := getHeader(hdr, hdrScheduleTTL)
	if len(ttl) > 0 {
		if _, err := parseTTL(string(ttl)); err != nil {
			return nil, api.JSMessageSchedulesTTLInvalidErr
		}
	}
	if r := getHeader(hdr, hdrScheduleRollup); len(r) > 0 && string(r) != "sub" {
		return nil, api.JSMessageSchedulesRollupInvalidErr
	}
	if len(ttl) > 0 && !cfg.AllowMsgTTL {
		return nil, api.JSMessageTTLDisabledErr
	}
	inStream := func(x string) bool {
		for _, sub := range cfg.Subjects {
			if subject.Collide(sub, x) {
				return true
			}
		}
		return false
	}
	target := string(getHeader(hdr, hdrScheduleTarget))
	if target == "" || target == subj || !subject.ValidLiteral(target) || !inStream(target) {
		return nil, api.JSMessageSchedulesTargetInvalidErr
	}
	if src := string(getHeader(hdr, hdrScheduleSource)); src != "" &&
		(src == target || src == subj || !subject.ValidLiteral(src) || !inStream(src)) {
		return nil, api.JSMessageSchedulesSourceInvalidErr
	}
	switch r := getHeader(hdr, hdrRollup); {
	case r == nil:
		hdr = appendHeaders(hdr, hdrRollup, "sub")
	case string(r) != "sub":
		return nil, api.JSMessageSchedulesRollupInvalidErr
	}
	return hdr, nil
}

// scheduleEntry is a stored schedule message waiting to fire.
type scheduleEntry struct {
	seq  uint64
	next time.Time
}

// trackSchedule remembers a stored schedule and arms the timer.
func (s *stream) trackSchedule(seq uint64, hdr []byte, ts int64) {
	loc, _ := scheduleLocation(hdr)
	next, _, ok := nextSchedule(string(getHeader(hdr, hdrSchedule)), loc, time.Unix(0, ts))
	if !ok {
		return
	}
	s.sched = append(s.sched, scheduleEntry{seq, next})
	s.armScheduleTimer()
}

func (s *stream) armScheduleTimer() {
	if len(s.sched) == 0 {
		return
	}
	sort.Slice(s.sched, func(i, j int) bool { return s.sched[i].next.Before(s.sched[j].next) })
	d := time.Until(s.sched[0].next)
	if s.schedTimer != nil {
		s.schedTimer.Stop()
	}
	s.schedTimer = time.AfterFunc(max(d, 0), func() { s.in.push(inMsg{internal: true, tick: true}) })
}

// fireSchedules stores the messages of every due schedule (ingest
// goroutine).
func (s *stream) fireSchedules(out []outMsg) ([]outMsg, bool) {
	now := time.Now()
	stored := false
	keep := s.sched[:0]
	for _, e := range s.sched {
		if e.next.After(now) {
			keep = append(keep, e)
			continue
		}
		sm, err := s.st.Load(e.seq)
		if err != nil || getHeader(sm.Header, hdrSchedule) == nil {
			continue // replaced or removed
		}
		loc, _ := scheduleLocation(sm.Header)
		next, repeat, ok := nextSchedule(string(getHeader(sm.Header, hdrSchedule)), loc, e.next)
		target := string(getHeader(sm.Header, hdrScheduleTarget))
		body, hdr := sm.Data, sm.Header
		if src := getHeader(sm.Header, hdrScheduleSource); src != nil {
			if lm, err := s.st.LoadLast(string(src)); err == nil {
				body, hdr = lm.Data, lm.Header
			}
		}
		hdr = stripHeaders(hdr, "Nats-Schedule", "Nats-Expected-", hdrMsgID, hdrTTL, hdrRollup)
		kv := []string{hdrScheduler, sm.Subject}
		if repeat && ok {
			kv = append(kv, hdrScheduleNext, next.UTC().Format(time.RFC3339Nano))
		} else {
			kv = append(kv, hdrScheduleNext, "purge")
		}
		var ttl int64
		if t := getHeader(sm.Header, hdrScheduleTTL); len(t) > 0 {
			kv = append(kv, hdrTTL, string(t))
			ttl, _ = parseTTL(string(t))
		}
		rollup := getHeader(sm.Header, hdrScheduleRollup) != nil
		if rollup {
			kv = append(kv, hdrRollup, "sub")
		}
		hdr = appendHeaders(hdr, kv...)
		if seq, _, err := s.st.Store(target, hdr, body, ttl); err == nil {
			stored = true
			if rollup {
				s.st.Purge(store.PurgeOpts{Subject: target, Seq: seq})
			}
		}
		if repeat && ok {
			keep = append(keep, scheduleEntry{e.seq, next})
		} else {
			s.st.Remove(e.seq) // a one-shot schedule is done
		}
	}
	s.sched = keep
	s.armScheduleTimer()
	return out, stored
}

// stripHeaders removes header lines whose name starts with any prefix.
func stripHeaders(hdr []byte, prefixes ...string) []byte {
	if len(hdr) == 0 {
		return nil
	}
	lines := bytes.Split(hdr, []byte("\r\n"))
	out := append([]byte(nil), lines[0]...)
	out = append(out, "\r\n"...)
	for _, l := range lines[1:] {
		if len(l) == 0 {
			continue
		}
		name, _, _ := bytes.Cut(l, []byte(":"))
		drop := false
		for _, p := range prefixes {
			if bytes.HasPrefix(name, []byte(p)) {
				drop = true
				break
			}
		}
		if !drop {
			out = append(append(out, l...), "\r\n"...)
		}
	}
	return append(out, "\r\n"...)
}

// recoverSchedules finds the schedules of a reopened stream.
func (s *stream) recoverSchedules() {
	if !s.config().AllowMsgSchedules {
		return
	}
	for seq := uint64(0); ; {
		m, err := s.st.LoadNext(">", seq)
		if err != nil {
			break
		}
		if getHeader(m.Header, hdrSchedule) != nil {
			s.trackSchedule(m.Seq, m.Header, m.Time)
		}
		seq = m.Seq + 1
	}
}
