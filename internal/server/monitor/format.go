package monitor

import (
	"strconv"
	"time"
)

// Uptime formats d the way nats-server reports uptime and idle time: whole
// seconds, with minutes, hours, days (and 365-day years) when reached, as
// in "45s", "3m0s", "1d2h3m4s". Negative durations count as zero.
func Uptime(d time.Duration) string {
	secs := int64(max(d, 0) / time.Second)
	mins, hours := secs/60, secs/3600
	days := hours / 24
	years := days / 365
	b := make([]byte, 0, 16)
	unit := func(n int64, u byte) { b = append(strconv.AppendInt(b, n, 10), u) }
	switch {
	case years > 0:
		unit(years, 'y')
		unit(days%365, 'd')
		unit(hours%24, 'h')
		unit(mins%60, 'm')
	case days > 0:
		unit(days, 'd')
		unit(hours%24, 'h')
		unit(mins%60, 'm')
	case hours > 0:
		unit(hours, 'h')
		unit(mins%60, 'm')
	case mins > 0:
		unit(mins, 'm')
	}
	unit(secs%60, 's')
	return string(b)
}

// RTT formats a round-trip time: microsecond precision between 1µs and
// 1ms, as nats-server truncates it, Go's duration format otherwise.
func RTT(d time.Duration) string {
	if d > time.Microsecond && d < time.Millisecond {
		d = d.Truncate(time.Microsecond)
	}
	return d.String()
}
