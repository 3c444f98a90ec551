package monitor

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// Usage samples the process's CPU and memory for /varz. CPU is the share
// of one core used since the previous sample (or since NewUsage), in
// percent, so it can exceed 100 on several cores.
type Usage struct {
	mu       sync.Mutex
	lastWall time.Time
	lastCPU  time.Duration
	pcpu     float64
}

// minSampleGap keeps back-to-back polls from reporting noise.
const minSampleGap = 500 * time.Millisecond

// NewUsage starts measuring from now.
func NewUsage() *Usage {
	return &Usage{lastWall: time.Now(), lastCPU: cpuTime()}
}

// Sample returns the CPU percentage and the resident memory in bytes.
func (u *Usage) Sample() (pcpu float64, rss int64) {
	now, cpu := time.Now(), cpuTime()
	u.mu.Lock()
	if wall := now.Sub(u.lastWall); wall >= minSampleGap || u.pcpu == 0 && wall > 0 {
		u.pcpu = float64(cpu-u.lastCPU) / float64(wall) * 100
		u.pcpu = float64(int64(u.pcpu*10)) / 10 // one decimal, as nats-server shows it
		u.lastWall, u.lastCPU = now, cpu
	}
	pcpu = u.pcpu
	u.mu.Unlock()
	return pcpu, residentBytes()
}

// residentBytes reads the resident set size from /proc where there is one,
// else falls back to the memory the Go runtime holds from the OS.
func residentBytes() int64 {
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		f := bytes.Fields(b)
		if len(f) > 1 {
			if pages, err := strconv.ParseInt(string(f[1]), 10, 64); err == nil {
				return pages * int64(os.Getpagesize())
			}
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.Sys)
}
