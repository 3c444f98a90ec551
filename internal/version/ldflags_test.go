package version

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// xFlag matches "-X <package>.<Name>=" in a Makefile or goreleaser.yaml.
var xFlag = regexp.MustCompile(`-X\s+(\S+)\.(\w+)=`)

// TestStampingFlagsNameRealVariables keeps the Makefile's and
// goreleaser's -ldflags in step with this package: a renamed variable
// would otherwise be skipped silently by the linker.
func TestStampingFlagsNameRealVariables(t *testing.T) {
	const pkg = "github.com/sluicehq/sluice/internal/version"
	stampable := map[string]*string{"Version": &Version, "Commit": &Commit, "Date": &Date}
	for _, file := range []string{"Makefile", "goreleaser.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", file))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(b), "$(PKG)", "github.com/sluicehq/sluice")
		var names []string
		for _, m := range xFlag.FindAllStringSubmatch(text, -1) {
			if m[1] != pkg {
				t.Errorf("%s: -X %s.%s: stamps a package other than %s", file, m[1], m[2], pkg)
			}
			if _, ok := stampable[m[2]]; !ok {
				t.Errorf("%s: -X %s.%s: internal/version has no such variable", file, m[1], m[2])
			}
			names = append(names, m[2])
		}
		sort.Strings(names)
		if strings.Join(names, ",") != "Commit,Date,Version" {
			t.Errorf("%s stamps %v; want Commit, Date and Version each once", file, names)
		}
	}
}
