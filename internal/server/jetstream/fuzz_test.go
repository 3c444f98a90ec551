package jetstream

import (
	"encoding/json"
	"sync"
	"testing"
)

// fakeBroker records published replies; enough to drive the API alone.
type fakeBroker struct {
	mu   sync.Mutex
	subs map[string]MsgHandler
	out  [][]byte
}

func (b *fakeBroker) Subscribe(_, subj string, cb MsgHandler) (Subscription, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = map[string]MsgHandler{}
	}
	b.subs[subj] = cb
	return subj, nil
}
func (b *fakeBroker) Unsubscribe(Subscription) {}
func (b *fakeBroker) Publish(_, _, _ string, _, msg []byte) {
	b.mu.Lock()
	b.out = append(b.out, msg)
	b.mu.Unlock()
}
func (b *fakeBroker) Accounts() []string    { return []string{"$G"} }
func (b *fakeBroker) SystemAccount() string { return "" }
func (b *fakeBroker) ServerID() string      { return "ID" }
func (b *fakeBroker) ServerName() string    { return "S" }

type nopLog struct{}

func (nopLog) Noticef(string, ...any) {}
func (nopLog) Warnf(string, ...any)   {}
func (nopLog) Errorf(string, ...any)  {}
func (nopLog) Debugf(string, ...any)  {}

// FuzzAPIRequest feeds arbitrary bodies to every stream API endpoint: each
// request gets one well-formed JSON answer (or none), never a panic.
func FuzzAPIRequest(f *testing.F) {
	for _, s := range []string{`{"name":"F","storage":"memory"}`, `{"seq":1}`, `{"last_by_subj":"a"}`, `{"filter":"a","keep":1}`,
		`{"subjects_filter":">","offset":-5}`, `{"name":"F","subjects":["$JS.>"],"storage":"memory"}`, `{"name":"F","max_age":-1}`, `{`, `[]`, ``} {
		f.Add(s)
	}
	b := &fakeBroker{}
	js, err := New(Config{Enabled: true, StoreDir: f.TempDir()}, b, nopLog{})
	if err != nil {
		f.Fatal(err)
	}
	if err := js.Start(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(js.Stop)
	subjects := []string{"$JS.API.STREAM.CREATE.F", "$JS.API.STREAM.UPDATE.F", "$JS.API.STREAM.INFO.F", "$JS.API.STREAM.NAMES",
		"$JS.API.STREAM.LIST", "$JS.API.STREAM.PURGE.F", "$JS.API.STREAM.MSG.GET.F", "$JS.API.STREAM.MSG.DELETE.F", "$JS.API.INFO"}
	f.Fuzz(func(t *testing.T, body string) {
		for _, subj := range subjects {
			b.mu.Lock()
			b.out = nil
			b.mu.Unlock()
			js.handleAPI(&apiReq{account: "$G", subj: subj, reply: "r", msg: []byte(body)})
			b.mu.Lock()
			for _, o := range b.out {
				if !json.Valid(o) {
					t.Fatalf("%s %q: invalid JSON reply %q", subj, body, o)
				}
			}
			b.mu.Unlock()
		}
		// Leave no stream behind for the next input.
		js.handleAPI(&apiReq{account: "$G", subj: "$JS.API.STREAM.DELETE.F", reply: "r"})
	})
}
