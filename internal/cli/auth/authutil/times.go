package authutil

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// ParseDate reads --start and --expiry: "0" or "" for none, a duration
// from now ("30d", "1y", "12h", "1M", "2w", "90m", "30s"), a date
// ("2006-01-02"), a date and time ("2006-01-02 15:04:05" or RFC 3339),
// or Unix seconds. It returns Unix seconds, 0 for none.
func ParseDate(flag, v string, now time.Time) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "0" {
		return 0, nil
	}
	if n := len(v); n > 1 {
		if num, err := strconv.Atoi(v[:n-1]); err == nil && num >= 0 {
			switch v[n-1] {
			case 'y':
				return now.AddDate(num, 0, 0).Unix(), nil
			case 'M':
				return now.AddDate(0, num, 0).Unix(), nil
			case 'w':
				return now.AddDate(0, 0, 7*num).Unix(), nil
			case 'd':
				return now.AddDate(0, 0, num).Unix(), nil
			case 'h':
				return now.Add(time.Duration(num) * time.Hour).Unix(), nil
			case 'm':
				return now.Add(time.Duration(num) * time.Minute).Unix(), nil
			case 's':
				return now.Add(time.Duration(num) * time.Second).Unix(), nil
			}
		}
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t.Unix(), nil
		}
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
		return n, nil
	}
	return 0, fmt.Errorf("--%s %q: want 0, a duration like 30d/1y/12h, a date 2006-01-02, RFC 3339 or Unix seconds", flag, v)
}

// DateFlags are --start and --expiry.
type DateFlags struct {
	Start, Expiry string
}

// Add defines the flags on cmd.
func (d *DateFlags) Add(cmd *cobra.Command, what string) {
	cmd.Flags().StringVar(&d.Start, "start", "", what+" is valid from: a date 2006-01-02, a duration from now (30d, 1y) or 0 for now")
	cmd.Flags().StringVar(&d.Expiry, "expiry", "", what+" expires: a date 2006-01-02, a duration from now (30d, 1y) or 0 for never")
}

// Apply sets the claims' times for the flags that were given.
func (d *DateFlags) Apply(cmd *cobra.Command, c *jwt.ClaimsData) error {
	now := time.Now()
	if cmd.Flags().Changed("start") {
		v, err := ParseDate("start", d.Start, now)
		if err != nil {
			return usage(err)
		}
		c.NotBefore = v
	}
	if cmd.Flags().Changed("expiry") {
		v, err := ParseDate("expiry", d.Expiry, now)
		if err != nil {
			return usage(err)
		}
		if v != 0 && v <= now.Unix() {
			return usage(fmt.Errorf("--expiry %s is in the past", UnixDate(v)))
		}
		c.Expires = v
	}
	if c.Expires != 0 && c.NotBefore != 0 && c.Expires <= c.NotBefore {
		return usage(fmt.Errorf("--expiry %s is not after --start %s", UnixDate(c.Expires), UnixDate(c.NotBefore)))
	}
	return nil
}

// UnixDate formats Unix seconds for tables; 0 is shown as "".
func UnixDate(v int64) string {
	if v == 0 {
		return ""
	}
	return time.Unix(v, 0).UTC().Format("2006-01-02 15:04:05 UTC")
}

func usage(err error) error { return &cmdutil.UsageError{Err: err} }
