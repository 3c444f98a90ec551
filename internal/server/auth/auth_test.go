package auth

import (
	"encoding/base64"
	"testing"

	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"
)

func TestCheckPassword(t *testing.T) {
	h, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	for _, c := range []struct {
		sent, conf string
		ok         bool
	}{
		{"pw", "pw", true}, {"pw", "px", false}, {"", "pw", false},
		{"pw", string(h), true}, {"px", string(h), false}, {string(h), string(h), false},
	} {
		if got := CheckPassword(c.sent, c.conf); got != c.ok {
			t.Errorf("CheckPassword(%q, %q) = %v", c.sent, c.conf, got)
		}
	}
}

func TestVerifyNonce(t *testing.T) {
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	nonce := []byte("abcdefghijk")
	sig, _ := kp.Sign(nonce)
	for name, c := range map[string]struct {
		sig  string
		want bool
	}{
		"url":   {base64.RawURLEncoding.EncodeToString(sig), true},
		"std":   {base64.StdEncoding.EncodeToString(sig), true},
		"empty": {"", false},
		"junk":  {"!!!", false},
		"other": {base64.RawURLEncoding.EncodeToString(append([]byte{}, sig[:len(sig)-1]...)), false},
	} {
		if got := VerifyNonce(pub, c.sig, nonce); got != c.want {
			t.Errorf("%s: got %v", name, got)
		}
	}
	if VerifyNonce("UNOTAKEY", base64.RawURLEncoding.EncodeToString(sig), nonce) {
		t.Error("bad public key accepted")
	}
}

func TestCheckerMatrix(t *testing.T) {
	p := &Permissions{
		Publish:   &SubjectPermission{Allow: []string{"a.>", "b"}, Deny: []string{"a.secret"}},
		Subscribe: &SubjectPermission{Allow: []string{"s.>", "q.* grp.*"}, Deny: []string{"s.hidden", "s.x q1"}},
	}
	c := Compile(p)
	pub := map[string]bool{"a.x": true, "a.x.y": true, "b": true, "a.secret": false, "c": false, "b.c": false}
	for subj, want := range pub {
		if got := c.CanPublish(subj); got != want {
			t.Errorf("CanPublish(%q) = %v", subj, got)
		}
	}
	type sq struct{ subj, queue string }
	sub := map[sq]bool{
		{"s.a", ""}: true, {"s.>", ""}: true, {"s.*", ""}: true, {">", ""}: false,
		{"s.hidden", ""}: false, {"q.x", "grp.a"}: true, {"q.x", "other"}: false, {"q.x", ""}: false,
		{"s.x", "q1"}: false, {"s.x", "q2"}: true,
	}
	for k, want := range sub {
		if got := c.CanSubscribe(k.subj, k.queue); got != want {
			t.Errorf("CanSubscribe(%q, %q) = %v", k.subj, k.queue, got)
		}
	}
	deliver := map[sq]bool{
		{"s.hidden", ""}: true, {"s.shown", ""}: false, {"s.hidden", "any"}: true,
		{"s.x", "q1"}: true, {"s.x", "q2"}: false, {"s.x", ""}: false,
	}
	for k, want := range deliver {
		if got := c.DeniesDelivery(k.subj, k.queue); got != want {
			t.Errorf("DeniesDelivery(%q, %q) = %v", k.subj, k.queue, got)
		}
	}
	var none *Checker
	if !none.CanPublish("x") || !none.CanSubscribe(">", "q") || none.DeniesDelivery("x", "q") {
		t.Error("nil checker must allow everything")
	}
}

func TestNormalizeAllowResponses(t *testing.T) {
	p := &Permissions{Response: &ResponsePermission{MaxMsgs: 1}}
	p.Normalize()
	if c := Compile(p); c.CanPublish("anything") {
		t.Error("allow_responses without publish rules must deny plain publishing")
	}
}

func TestValidEntry(t *testing.T) {
	for e, want := range map[string]bool{"a.b": true, "a.*": true, "a b": false, "a..b": false, "": false} {
		if ValidEntry(e, false) != want {
			t.Errorf("ValidEntry(%q, false) != %v", e, want)
		}
	}
	if !ValidEntry("a.b q", true) || ValidEntry("a.b q r", true) {
		t.Error("queue entries")
	}
}
