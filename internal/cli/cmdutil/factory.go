package cmdutil

// Factory hands commands their dependencies, created only when asked for.
type Factory struct {
	IO *IOStreams
}
