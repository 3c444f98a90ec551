package refbin

import (
	"os/exec"
	"strings"
	"testing"
)

// The binaries make test installs are there and are the pinned versions.
func TestReferenceBinariesInstalled(t *testing.T) {
	out, err := exec.Command(NATSServer(t), "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), strings.TrimPrefix(NATSServerVersion, "v")) {
		t.Errorf("%s --version: %v %s", NATSServerPath(), err, out)
	}
	out, err = exec.Command(NATSCLI(t), "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), strings.TrimPrefix(NATSCLIVersion, "v")) {
		t.Errorf("%s --version: %v %s", NATSCLIPath(), err, out)
	}
}
