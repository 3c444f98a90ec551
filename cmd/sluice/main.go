// Command sluice is a NATS-compatible message broker and the toolkit to run it.
package main

import (
	"os"

	"github.com/sluicehq/sluice/internal/cli"
)

func main() { os.Exit(cli.Main()) }
