package protocol

// splitArgs splits line at blanks into a and returns the count, or
// maxArgs+1 when there are more. '\r' counts as a blank so a stray one
// never lands inside a subject, sid or size.
func splitArgs(line []byte, a *[maxArgs][]byte) int {
	n, start := 0, -1
	for i, b := range line {
		if !isBlank[b] {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			if n == maxArgs {
				return maxArgs + 1
			}
			a[n], n, start = line[start:i], n+1, -1
		}
	}
	if start >= 0 {
		if n == maxArgs {
			return maxArgs + 1
		}
		a[n], n = line[start:], n+1
	}
	return n
}

var isBlank = [256]bool{' ': true, '\t': true, '\r': true}

// parseSize reads a non-negative decimal of at most maxSizeDigits digits,
// or returns -1.
func parseSize(d []byte) int {
	if len(d) == 0 || len(d) > maxSizeDigits {
		return -1
	}
	n := 0
	for _, c := range d {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}
