package sysreq

import (
	"fmt"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// Uptime formats how long a server has run: "3.08s", "4m12s",
// "2d3h4m".
func Uptime(d time.Duration) string {
	if d < time.Minute {
		return cmdutil.Duration(d)
	}
	d = d.Round(time.Second)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h, m, s := d/time.Hour, (d%time.Hour)/time.Minute, (d%time.Minute)/time.Second
	switch {
	case days > 0:
		return fmt.Sprintf("%dd%dh%dm", days, h, m)
	case h > 0:
		return fmt.Sprintf("%dh%dm%ds", h, m, s)
	}
	return fmt.Sprintf("%dm%ds", m, s)
}

// CompactNames drops the dot-separated suffix all names share
// (n1.east.example.com, n2.east.example.com -> n1, n2), so that tables
// of many servers stay narrow. Fewer than two names, or names that would
// become empty, are left alone.
func CompactNames(names []string) []string {
	if len(names) < 2 {
		return names
	}
	split := make([][]string, len(names))
	shortest := -1
	for i, n := range names {
		split[i] = strings.Split(n, ".")
		if shortest < 0 || len(split[i]) < shortest {
			shortest = len(split[i])
		}
	}
	common := 0
	for common < shortest-1 {
		tok := split[0][len(split[0])-1-common]
		same := true
		for _, s := range split[1:] {
			if s[len(s)-1-common] != tok {
				same = false
				break
			}
		}
		if !same {
			break
		}
		common++
	}
	if common == 0 {
		return names
	}
	out := make([]string, len(names))
	for i, s := range split {
		out[i] = strings.Join(s[:len(s)-common], ".")
	}
	return out
}
