package jetstream_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

// jwtOp is an operator with a system account and one account "A", made
// with jwt/v2 as nsc would.
type jwtOp struct {
	okp, skp, akp nkeys.KeyPair
	opJWT, sysJWT string
	sysPub, aPub  string
	aClaims       *njwt.AccountClaims
}

func newJWTOp(t *testing.T, js func(*njwt.AccountClaims)) *jwtOp {
	o := &jwtOp{}
	o.okp, _ = nkeys.CreateOperator()
	opub, _ := o.okp.PublicKey()
	o.skp, _ = nkeys.CreateAccount()
	o.sysPub, _ = o.skp.PublicKey()
	oc := njwt.NewOperatorClaims(opub)
	oc.SystemAccount = o.sysPub
	o.opJWT = encode(t, oc, o.okp)
	sc := njwt.NewAccountClaims(o.sysPub)
	sc.Name = "SYS"
	o.sysJWT = encode(t, sc, o.okp)
	o.akp, _ = nkeys.CreateAccount()
	o.aPub, _ = o.akp.PublicKey()
	o.aClaims = njwt.NewAccountClaims(o.aPub)
	o.aClaims.Name = "A"
	js(o.aClaims)
	return o
}

func encode(t *testing.T, c interface {
	Encode(nkeys.KeyPair) (string, error)
}, kp nkeys.KeyPair) string {
	tok, err := c.Encode(kp)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// config is the server configuration: operator, MEMORY resolver with
// both accounts preloaded, JetStream.
func (o *jwtOp) config(t *testing.T) string {
	return fmt.Sprintf(`operator: %q
system_account: %s
resolver: MEMORY
resolver_preload: { %s: %q, %s: %q }
jetstream { store_dir: "%%s" }
`, o.opJWT, o.sysPub, o.sysPub, o.sysJWT, o.aPub, encode(t, o.aClaims, o.okp))
}

func (o *jwtOp) user(t *testing.T, acc nkeys.KeyPair) nats.Option {
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	uc := njwt.NewUserClaims(upub)
	seed, _ := ukp.Seed()
	return nats.UserJWTAndSeed(encode(t, uc, acc), string(seed))
}

// push sends account A's claims, edited, as the system user.
func (o *jwtOp) push(t *testing.T, url string, edit func(*njwt.AccountClaims)) {
	t.Helper()
	sys, err := nats.Connect(url, o.user(t, o.skp))
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	edit(o.aClaims)
	time.Sleep(1100 * time.Millisecond) // a newer JWT needs a later issue time (seconds)
	o.aClaims.IssuedAt = 0
	m, err := sys.Request("$SYS.REQ.ACCOUNT."+o.aPub+".CLAIMS.UPDATE", []byte(encode(t, o.aClaims, o.okp)), 5*time.Second)
	if err != nil || !strings.Contains(string(m.Data), "jwt updated") {
		t.Fatalf("push: %v %s", err, m.Data)
	}
}

func apiCode(err error) int {
	var ae *jetstream.APIError
	if errors.As(err, &ae) {
		return int(ae.ErrorCode)
	}
	return 0
}

func mustCode(t *testing.T, what string, err error, code int) {
	t.Helper()
	if got := apiCode(err); got != code {
		t.Fatalf("%s: error %v (code %d), want code %d", what, err, got, code)
	}
}

// TestJWTJetStreamLimits: in operator mode the account JWT's JetStream
// limits are enforced with nats-server's errors, and a pushed JWT changes
// them, or disables JetStream, for the running account.
func TestJWTJetStreamLimits(t *testing.T) {
	op := newJWTOp(t, func(ac *njwt.AccountClaims) {
		ac.Limits.JetStreamLimits = njwt.JetStreamLimits{MemoryStorage: 1 << 20, DiskStorage: 4 << 20, Streams: 2, Consumer: 1,
			MaxAckPending: 100, MemoryMaxStreamBytes: 512 << 10, DiskMaxStreamBytes: 2 << 20, MaxBytesRequired: true}
	})
	orig := op.aClaims.Limits.JetStreamLimits
	bothWithConfig(t, op.config(t), func(t *testing.T, url string) {
		op.aClaims.Limits.JetStreamLimits = orig // the other server's pushes changed it
		nc, err := nats.Connect(url, op.user(t, op.akp))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		j, _ := jetstream.New(nc)
		c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		info, err := j.AccountInfo(c)
		if err != nil {
			t.Fatal(err)
		}
		if l := info.Limits; l.MaxMemory != 1<<20 || l.MaxStore != 4<<20 || l.MaxStreams != 2 || l.MaxConsumers != 1 || l.MaxAckPending != 100 || !l.MaxBytesRequired {
			t.Fatalf("account limits %+v", l)
		}
		_, err = j.CreateStream(c, jetstream.StreamConfig{Name: "NOMAX", Subjects: []string{"nomax"}})
		mustCode(t, "max_bytes required", err, 10113)
		_, err = j.CreateStream(c, jetstream.StreamConfig{Name: "BIGMEM", Subjects: []string{"bigmem"}, Storage: jetstream.MemoryStorage, MaxBytes: 1 << 20})
		mustCode(t, "memory max stream bytes", err, 10122)
		_, err = j.CreateStream(c, jetstream.StreamConfig{Name: "BIGFILE", Subjects: []string{"bigfile"}, MaxBytes: 3 << 20})
		mustCode(t, "disk max stream bytes", err, 10122)
		if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "M", Subjects: []string{"m"}, Storage: jetstream.MemoryStorage, MaxBytes: 512 << 10}); err != nil {
			t.Fatal(err)
		}
		if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "F", Subjects: []string{"f"}, MaxBytes: 2 << 20}); err != nil {
			t.Fatal(err)
		}
		_, err = j.CreateStream(c, jetstream.StreamConfig{Name: "THIRD", Subjects: []string{"third"}, MaxBytes: 1024})
		mustCode(t, "max streams", err, 10027)
		_, err = j.CreateConsumer(c, "F", jetstream.ConsumerConfig{Durable: "BIG", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 1000})
		mustCode(t, "max ack pending", err, 10121)
		if _, err := j.CreateConsumer(c, "F", jetstream.ConsumerConfig{Durable: "C1", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
			t.Fatal(err)
		}
		_, err = j.CreateConsumer(c, "F", jetstream.ConsumerConfig{Durable: "C2", AckPolicy: jetstream.AckExplicitPolicy})
		mustCode(t, "max consumers", err, 10026)

		// A pushed JWT raises max streams and consumers for the running account.
		op.push(t, url, func(ac *njwt.AccountClaims) {
			ac.Limits.JetStreamLimits.Streams = 3
			ac.Limits.JetStreamLimits.Consumer = 2
		})
		testutilEventually(t, func() error {
			_, err := j.CreateStream(c, jetstream.StreamConfig{Name: "THIRD", Subjects: []string{"third"}, MaxBytes: 1024})
			return err
		})
		if _, err := j.CreateConsumer(c, "F", jetstream.ConsumerConfig{Durable: "C2", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
			t.Fatal(err)
		}

		// And one without JetStream turns it off: the account is told so.
		op.push(t, url, func(ac *njwt.AccountClaims) { ac.Limits.JetStreamLimits = njwt.JetStreamLimits{} })
		testutilEventually(t, func() error {
			m, err := nc.Request("$JS.API.INFO", nil, 2*time.Second)
			if err != nil {
				return err
			}
			if !strings.Contains(string(m.Data), `"err_code":10039`) {
				return fmt.Errorf("info %s", m.Data)
			}
			return nil
		})
	})
}

// TestJWTJetStreamTieredLimits: tiered JWT limits (R1) apply to R1
// streams, and storage beyond the tier's memory is refused at publish.
func TestJWTJetStreamTieredLimits(t *testing.T) {
	op := newJWTOp(t, func(ac *njwt.AccountClaims) {
		ac.Limits.JetStreamTieredLimits = njwt.JetStreamTieredLimits{
			"R1": {MemoryStorage: 4096, DiskStorage: 1 << 20, Streams: 1, Consumer: -1, MaxAckPending: -1},
		}
	})
	bothWithConfig(t, op.config(t), func(t *testing.T, url string) {
		nc, err := nats.Connect(url, op.user(t, op.akp))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		j, _ := jetstream.New(nc)
		c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		info, err := j.AccountInfo(c)
		if err != nil {
			t.Fatal(err)
		}
		if r1, ok := info.Tiers["R1"]; !ok || r1.Limits.MaxMemory != 4096 || r1.Limits.MaxStreams != 1 {
			b, _ := json.Marshal(info)
			t.Fatalf("tiers %s", b)
		}
		if _, err := j.CreateStream(c, jetstream.StreamConfig{Name: "M", Subjects: []string{"m"}, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		_, err = j.CreateStream(c, jetstream.StreamConfig{Name: "TWO", Subjects: []string{"two"}, Storage: jetstream.MemoryStorage})
		mustCode(t, "tier max streams", err, 10027)
		var last error
		for i := 0; i < 20 && last == nil; i++ {
			_, last = j.Publish(c, "m", make([]byte, 1000))
		}
		mustCode(t, "tier memory", last, 10002)
	})
}

func testutilEventually(t *testing.T, f func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
