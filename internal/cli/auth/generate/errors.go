package generate

import "fmt"

func errOpNoSys(op string) error { return fmt.Errorf("operator %q has no system account", op) }
