package servecmd

import (
	"fmt"
	"strconv"
	"strings"
)

// parseSize reads a byte count as nats-server's configuration does: a
// plain number, or one with K/KB, M/MB, G/GB suffixes (K=1000, KB=1024).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := len(s)
	for i > 0 && (s[i-1] < '0' || s[i-1] > '9') {
		i--
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	var mul int64
	switch strings.ToUpper(s[i:]) {
	case "", "B":
		mul = 1
	case "K":
		mul = 1000
	case "KB", "KIB":
		mul = 1 << 10
	case "M":
		mul = 1000 * 1000
	case "MB", "MIB":
		mul = 1 << 20
	case "G":
		mul = 1000 * 1000 * 1000
	case "GB", "GIB":
		mul = 1 << 30
	default:
		return 0, fmt.Errorf("invalid size suffix in %q", s)
	}
	return n * mul, nil
}
