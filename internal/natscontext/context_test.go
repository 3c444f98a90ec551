package natscontext

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestNatscliFilesRoundTripByteForByte loads files in the exact form
// natscli writes and saves them again: the bytes must not change.
func TestNatscliFilesRoundTripByteForByte(t *testing.T) {
	for _, name := range []string{"prod", "edge"} {
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", "natscli", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			s := NewStore(t.TempDir())
			writeFile(t, s.Path(name), want)

			c, err := s.Load(name)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != name {
				t.Fatalf("name = %q, want %q", c.Name, name)
			}
			if err := s.Save(c); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(s.Path(name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("round trip changed the file:\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

func TestParseNatscliFields(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "natscli", "edge.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse("edge", data)
	if err != nil {
		t.Fatal(err)
	}
	want := &Context{
		Name: "edge", Description: "Edge leaf", URL: "tls://edge.example.net:4222",
		Creds: "~/.nats/edge.creds", Cert: "/etc/nats/client.pem",
		Key: "/etc/nats/client-key.pem", CA: "/etc/nats/ca.pem", TLSFirst: true,
		JSAPIPrefix: "$JS.edge.API", JSEventPrefix: "$JS.edge.EVENT",
		WindowsCACertsMatch: []string{"Corp Root CA", "Corp Issuing CA"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("parsed\n%#v\nwant\n%#v", c, want)
	}
}

// TestWrittenFileHasNatscliShape checks what a fresh context looks like
// on disk: every natscli key, in natscli's order, no name, no newline.
func TestWrittenFileHasNatscliShape(t *testing.T) {
	s := NewStore(t.TempDir())
	c := &Context{Name: "dev", URL: "nats://127.0.0.1:4222", Token: "t0k"}
	if err := s.Save(c); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(s.Path("dev"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasSuffix(data, []byte("\n")) {
		t.Error("file ends in a newline; natscli writes none")
	}
	var keys []string
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.Token() // {
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(keys, Keys()) {
		t.Fatalf("keys\n%v\nwant\n%v", keys, Keys())
	}
	if !strings.Contains(string(data), "\n  \"url\": \"nats://127.0.0.1:4222\",\n") {
		t.Fatalf("not two-space indented:\n%s", data)
	}
}

func TestUnknownFieldsArePreserved(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "legacy.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(t.TempDir())
	writeFile(t, s.Path("legacy"), src)
	c, err := s.Load("legacy")
	if err != nil {
		t.Fatal(err)
	}
	if c.Token != "abc" || c.Description != "written by an older tool" {
		t.Fatalf("known fields not read: %+v", c)
	}
	c.Description = "edited"
	if err := s.Save(c); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(s.Path("legacy"))
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got["description"] != "edited" || got["future_flag"] != true {
		t.Fatalf("fields lost: %s", data)
	}
	team, _ := got["x_team"].(map[string]any)
	if team["name"] != "payments" || len(team["oncall"].([]any)) != 2 {
		t.Fatalf("nested unknown field lost: %s", data)
	}
	// Saving again is stable.
	c2, _ := s.Load("legacy")
	if err := s.Save(c2); err != nil {
		t.Fatal(err)
	}
	data2, _ := os.ReadFile(s.Path("legacy"))
	if !bytes.Equal(data, data2) {
		t.Fatalf("second save changed the file:\n%s\n%s", data, data2)
	}
}

func TestMarshalJSONIncludesName(t *testing.T) {
	c := &Context{Name: "x", URL: "nats://a:1"}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	if m["name"] != "x" || m["url"] != "nats://a:1" {
		t.Fatalf("got %s", b)
	}
	fb, _ := c.FileBytes()
	if bytes.Contains(fb, []byte(`"name"`)) {
		t.Fatalf("file form holds the name: %s", fb)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		c    Context
		want string
	}{
		{"ok", Context{Name: "a", User: "u", Password: "p", Token: "t"}, ""},
		{"empty name", Context{}, "name is empty"},
		{"dotdot", Context{Name: "a..b"}, `must not contain ".."`},
		{"slash", Context{Name: "a/b"}, `must not contain "/"`},
		{"two creds", Context{Name: "a", User: "u", Creds: "/x"}, "more than one kind of credential (user, creds)"},
		{"seed alone", Context{Name: "a", UserSeed: "SU"}, "user_seed without user_jwt"},
		{"cert alone", Context{Name: "a", Cert: "/c"}, "only one of cert and key"},
		{"bad store", Context{Name: "a", WindowsCertStore: "x"}, "windows_cert_store"},
		{"store no match", Context{Name: "a", WindowsCertStore: "user"}, "needs windows_cert_match"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if err := ValidateName("a/b"); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("not ErrInvalidName: %v", err)
	}
}

func TestCloneIsDeep(t *testing.T) {
	c := &Context{Name: "a", WindowsCACertsMatch: []string{"x"}, Extra: map[string]json.RawMessage{"k": json.RawMessage(`1`)}}
	d := c.Clone()
	d.WindowsCACertsMatch[0] = "y"
	d.Extra["k"][0] = '2'
	if c.WindowsCACertsMatch[0] != "x" || string(c.Extra["k"]) != "1" {
		t.Fatal("clone shares memory with the original")
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
