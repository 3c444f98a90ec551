package cmdutil

import (
	"encoding/json"
	"io"
	"sync"

	"github.com/spf13/cobra"
)

// AddJSONFlag gives a command that reports the shared -j/--json flag.
// JSON output is part of the interface: fields are only ever added.
func AddJSONFlag(cmd *cobra.Command, target *bool) {
	cmd.Flags().BoolVarP(target, "json", "j", false, "print the result as JSON")
}

// WriteJSON writes v as indented JSON and a newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// JSONLines writes one compact JSON value per line, safely from many
// goroutines; sub and reply stream messages with it.
type JSONLines struct {
	mu  sync.Mutex
	enc *json.Encoder
}

// NewJSONLines returns a line writer on w.
func NewJSONLines(w io.Writer) *JSONLines {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &JSONLines{enc: enc}
}

// Write encodes v on its own line.
func (j *JSONLines) Write(v any) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.enc.Encode(v)
}
