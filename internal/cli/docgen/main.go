// Command docgen writes sluice's shell completions (completions/) and man
// pages (man/) from the command tree; `make generate` runs it from the
// repository root. The output depends only on the source: no dates, no
// paths, no version, so the committed copies can be checked in a test.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	dir := flag.String("dir", ".", "repository root to write completions/ and man/ under")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "docgen: unexpected argument %q; usage: docgen [-dir DIR]\n", flag.Arg(0))
		os.Exit(2)
	}
	n, err := write(*dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "docgen: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("docgen: wrote %d files under %s/completions and %s/man\n", n, *dir, *dir)
}
