package jsutil

import (
	"encoding/json"
	"strings"
)

// Diff shows how the JSON form of a differs from b's, line by line:
// unchanged lines start with two spaces, removed ones with "- " and
// added ones with "+ ". It returns "" when they are the same.
func Diff(a, b any) (string, error) {
	ja, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return "", err
	}
	jb, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return "", err
	}
	if string(ja) == string(jb) {
		return "", nil
	}
	return lineDiff(strings.Split(string(ja), "\n"), strings.Split(string(jb), "\n")), nil
}

// lineDiff is a longest-common-subsequence diff; configurations are a
// few dozen lines, so the quadratic table is cheap.
func lineDiff(a, b []string) string {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			out.WriteString("  " + a[i] + "\n")
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			out.WriteString("+ " + b[j] + "\n")
			j++
		default:
			out.WriteString("- " + a[i] + "\n")
			i++
		}
	}
	return out.String()
}
