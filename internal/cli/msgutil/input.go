package msgutil

import (
	"bufio"
	"context"
	"fmt"
	"io"
)

// Send-on modes for bodies read from stdin.
const (
	SendOnEOF     = "eof"
	SendOnNewline = "newline"
)

// ReadBodies reads message bodies from r: the whole input as one body
// (SendOnEOF), or one body per line (SendOnNewline), calling fn for each
// until the input ends, fn fails or ctx is done.
func ReadBodies(ctx context.Context, r io.Reader, mode string, fn func([]byte) error) error {
	switch mode {
	case SendOnEOF, "":
		b, err := readAll(ctx, r)
		if err != nil {
			return err
		}
		return fn(b)
	case SendOnNewline:
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
		for sc.Scan() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(append([]byte(nil), sc.Bytes()...)); err != nil {
				return err
			}
		}
		return sc.Err()
	}
	return fmt.Errorf("unknown --send-on %q: use eof or newline", mode)
}

// readAll reads r to the end, giving up when ctx is done (the read
// itself may linger until the input closes).
func readAll(ctx context.Context, r io.Reader) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(r)
		ch <- result{b, err}
	}()
	select {
	case res := <-ch:
		return res.b, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
