//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package monitor

import "time"

// cpuTime is not measured on this platform; /varz reports 0% CPU.
func cpuTime() time.Duration { return 0 }
