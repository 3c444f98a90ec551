package jsutil

import (
	"fmt"
	"io"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// AskUntilValid prompts with q (def when the answer is empty) until parse
// accepts the answer, printing each refusal to w.
func AskUntilValid(p cmdutil.Prompter, w io.Writer, q, def string, parse func(string) error) error {
	for {
		v, err := p.Input(q, def)
		if err != nil {
			return err
		}
		if v == "" {
			v = def
		}
		if err := parse(v); err != nil {
			fmt.Fprintln(w, err)
			continue
		}
		return nil
	}
}
