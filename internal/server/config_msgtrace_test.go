package server_test

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/server"
)

func TestConfigAccountMsgTrace(t *testing.T) {
	good := []struct {
		text     string
		dest     string
		sampling int
	}{
		{`accounts { A { msg_trace: "tr.a" } }`, "tr.a", 100},
		{`accounts { A { trace_dest: "tr.a" } }`, "tr.a", 100},
		{`accounts { A { msg_trace: { dest: "tr.a", sampling: 25 } } }`, "tr.a", 25},
		{`accounts { A { msg_trace: { dest: "tr.a", sampling: "40%" } } }`, "tr.a", 40},
	}
	for _, c := range good {
		var o server.Options
		if _, err := o.ProcessConfigFile(writeConf(t, c.text), true); err != nil {
			t.Errorf("%s: %v", c.text, err)
			continue
		}
		if ac := o.Accounts[0]; ac.TraceDest != c.dest || ac.TraceSampling != c.sampling {
			t.Errorf("%s: dest %q sampling %d", c.text, ac.TraceDest, ac.TraceSampling)
		}
	}
	bad := []struct{ text, want string }{
		{`accounts { A { msg_trace: "tr.*" } }`, `trace destination "tr.*" is not valid`},
		{`accounts { A { msg_trace: { dest: "tr", sampling: 0 } } }`, `sampling value 0 is invalid, needs to be [1..100]`},
		{`accounts { A { msg_trace: { dest: "tr", sampling: 101 } } }`, `sampling value 101 is invalid`},
		{`accounts { A { msg_trace: { dest: "tr", sampling: "half" } } }`, `invalid trace destination sampling value "half"`},
		{`accounts { A { msg_trace: 5 } }`, `'msg_trace' must be a subject or a block`},
	}
	for _, c := range bad {
		var o server.Options
		_, err := o.ProcessConfigFile(writeConf(t, c.text), true)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.text, err, c.want)
		}
	}
	var o server.Options
	warns, err := o.ProcessConfigFile(writeConf(t, `accounts { A { msg_trace: { sampling: 10 } } }`), true)
	if err != nil || len(warns) != 1 || !strings.Contains(warns[0].Msg, "sampling ignored since no destination was set") {
		t.Errorf("sampling without destination: %v %v", warns, err)
	}
}
