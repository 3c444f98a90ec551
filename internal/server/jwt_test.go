package server_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	njwt "github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/testutil"
)

func TestOperatorLoginAndPermissions(t *testing.T) {
	op := newOperator(t)
	acc := op.account(t, "A", nil)
	s := runOperator(t, op, nil, acc)

	tok, kp := acc.user(t, "u", func(uc *njwt.UserClaims) {
		uc.Pub.Allow.Add("orders.>", "_INBOX.>")
		uc.Sub.Allow.Add("orders.>", "_INBOX.>")
	})
	nc := testutil.Connect(t, s, creds(tok, kp))
	sub, _ := nc.SubscribeSync("orders.new")
	nc.Publish("orders.new", []byte("x"))
	if _, err := sub.NextMsg(2 * time.Second); err != nil {
		t.Fatalf("no message: %v", err)
	}
	errs := make(chan error, 4)
	nc2 := testutil.Connect(t, s, creds(tok, kp), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	nc2.Publish("payments.x", nil)
	nc2.Flush()
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), `Permissions Violation for Publish to "payments.x"`) {
			t.Fatalf("got %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no permissions violation")
	}
}

func TestOperatorRefusals(t *testing.T) {
	op := newOperator(t)
	acc := op.account(t, "A", nil)
	other := newOperator(t)
	foreign := other.account(t, "F", nil)
	s := runOperator(t, op, nil, acc)
	good, gkp := acc.user(t, "good", nil)
	nc := testutil.Connect(t, s, creds(good, gkp))
	nc.Close()

	expired, ekp := acc.user(t, "old", func(uc *njwt.UserClaims) { uc.Expires = time.Now().Add(-time.Minute).Unix() })
	notYet, nkp := acc.user(t, "later", func(uc *njwt.UserClaims) { uc.NotBefore = time.Now().Add(time.Hour).Unix() })
	ft, fkp := foreign.user(t, "f", nil)
	_, wrongKP := acc.user(t, "x", nil)
	for name, opt := range map[string]nats.Option{
		"expired":         creds(expired, ekp),
		"not yet valid":   creds(notYet, nkp),
		"other operator":  creds(ft, fkp),
		"wrong nonce key": creds(good, wrongKP),
		"no credentials":  nats.Name("anon"),
		"tampered":        creds(good[:len(good)-4]+"AAAA", gkp),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := nats.Connect(s.ClientURL(), opt, nats.NoReconnect())
			if err == nil || !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(err.Error(), "Authorization Violation") {
				t.Fatalf("want authorization violation, got %v", err)
			}
		})
	}
}
