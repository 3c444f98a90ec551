package generate

import "strings"

func splitSubject(s string) []string   { return strings.Split(s, ".") }
func joinSubject(toks []string) string { return strings.Join(toks, ".") }
