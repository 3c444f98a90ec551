package conf

import (
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestPositions(t *testing.T) {
	const in = `port: 4222
cluster {
  name: "c1"
  routes = [
    nats://a:6222
    nats://b:6222
  ]
}
TOKEN: abc
authorization { token: $TOKEN }
`
	dir := t.TempDir()
	path := filepath.Join(dir, "nats.conf")
	writeFile(t, path, in)
	got, err := ParseFileWithPositions(path)
	if err != nil {
		t.Fatal(err)
	}
	at := func(line, col int) Pos { return Pos{File: path, Line: line, Col: col} }
	item := func(v any) *Item {
		t.Helper()
		it, ok := v.(*Item)
		if !ok {
			t.Fatalf("value %#v is %T, want *Item", v, v)
		}
		return it
	}

	port := item(got["port"])
	if port.Value != int64(4222) || port.Pos != at(1, 7) || port.KeyPos != at(1, 1) {
		t.Errorf("port = %+v", port)
	}

	cluster := item(got["cluster"])
	if cluster.Pos != at(2, 9) || cluster.KeyPos != at(2, 1) {
		t.Errorf("cluster = %+v", cluster)
	}
	cm := cluster.Value.(map[string]any)
	name := item(cm["name"])
	if name.Value != "c1" || name.Pos != at(3, 9) || name.KeyPos != at(3, 3) {
		t.Errorf("cluster.name = %+v", name)
	}
	routes := item(cm["routes"])
	if routes.Pos != at(4, 12) || routes.KeyPos != at(4, 3) {
		t.Errorf("cluster.routes = %+v", routes)
	}
	elems := routes.Value.([]any)
	if len(elems) != 2 {
		t.Fatalf("routes = %#v", elems)
	}
	second := item(elems[1])
	if second.Value != "nats://b:6222" || second.Pos != at(6, 5) || second.KeyPos != (Pos{}) {
		t.Errorf("routes[1] = %+v", second)
	}

	// A variable reference is positioned where it is used, and marks the
	// entry it refers to.
	tokenKey := item(got["TOKEN"])
	if !tokenKey.Referenced {
		t.Errorf("TOKEN is not marked as referenced")
	}
	if port.Referenced {
		t.Errorf("port is marked as referenced")
	}
	token := item(item(got["authorization"]).Value.(map[string]any)["token"])
	if token.Value != "abc" || token.Pos != at(10, 24) || token.KeyPos != at(10, 17) {
		t.Errorf("authorization.token = %+v", token)
	}

	if s := port.Pos.String(); s != path+":1:7" {
		t.Errorf("Pos.String() = %q", s)
	}
	if s := (Pos{Line: 3, Col: 4}).String(); s != "3:4" {
		t.Errorf("Pos.String() without file = %q", s)
	}
}

func TestPositionsOfEnvironmentValues(t *testing.T) {
	t.Setenv("SLUICE_T_LIST", "[a, b]")
	t.Setenv("SLUICE_T_MAP", "{k: v}")
	got, err := ParseWithPositions("x: 1\nl: $SLUICE_T_LIST\nm: $SLUICE_T_MAP")
	if err != nil {
		t.Fatal(err)
	}
	l := got["l"].(*Item)
	ref := Pos{Line: 2, Col: 4}
	if l.Pos != ref || l.KeyPos != (Pos{Line: 2, Col: 1}) {
		t.Errorf("l = %+v", l)
	}
	// Values that come from the environment are positioned at the reference.
	for _, e := range l.Value.([]any) {
		if it := e.(*Item); it.Pos != ref {
			t.Errorf("element %+v, want position %v", it, ref)
		}
	}
	k := got["m"].(*Item).Value.(map[string]any)["k"].(*Item)
	if ref := (Pos{Line: 3, Col: 4}); k.Value != "v" || k.Pos != ref || k.KeyPos != ref {
		t.Errorf("m.k = %+v, want value and key at %v", k, ref)
	}
}

func TestUnwrap(t *testing.T) {
	if Unwrap(nil) != nil || Unwrap("x") != "x" || Unwrap((*Item)(nil)) != nil {
		t.Fatal("Unwrap of plain values must return them")
	}
	if UnwrapMap(nil) != nil {
		t.Fatal("UnwrapMap(nil) != nil")
	}
	// Structures shared through variables stay shared, so unwrapping is
	// linear even when each level refers to the previous one twice.
	var b strings.Builder
	b.WriteString("v0 = [x]\n")
	for i := 1; i <= 60; i++ {
		b.WriteString("v" + strconv.Itoa(i) + " = [$v" + strconv.Itoa(i-1) + ", $v" + strconv.Itoa(i-1) + "]\n")
	}
	plain, err := Parse(b.String())
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := ParseWithPositions(b.String())
	if err != nil {
		t.Fatal(err)
	}
	u := UnwrapMap(wrapped)
	if !reflect.DeepEqual(u, plain) {
		t.Fatal("unwrapped and plain parses differ")
	}
}

func TestDigest(t *testing.T) {
	const in = `port: 4222
server_name: "n1 <&>"
max_payload: 1MB
ping: 1.5
debug: true
T: 2024-01-31T12:34:56Z
cluster {
  routes = [nats://a:6222, nats://b:6222 ]
  auth { user: u, pass: $2a$11$abc }
}
U: x
v: $U
`
	// The digest nats-server prints for "nats-server -t" on this file.
	const natsDigest = "sha256:8279232fa85a7b1582f380b68d08a628c3da392428f667c19f4f356717ec5f8a"

	plain, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	d1, err := Digest(plain)
	if err != nil {
		t.Fatal(err)
	}
	if d1 != natsDigest {
		t.Errorf("Digest = %s, want nats-server's %s", d1, natsDigest)
	}
	wrapped, err := ParseWithPositions(in)
	if err != nil {
		t.Fatal(err)
	}
	if d2, _ := Digest(wrapped); d2 != d1 {
		t.Errorf("digest with positions %s != %s", d2, d1)
	}

	// Layout and comments do not matter; values do.
	relaid := strings.ReplaceAll(in, ": ", " = ") + "# a comment\n"
	if p, err := Parse(relaid); err != nil {
		t.Fatal(err)
	} else if d, _ := Digest(p); d != d1 {
		t.Errorf("digest changed with layout: %s != %s", d, d1)
	}
	changed, err := Parse(strings.Replace(in, "4222", "4223", 1))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := Digest(changed); d == d1 {
		t.Errorf("digest did not change with a value")
	}
}
