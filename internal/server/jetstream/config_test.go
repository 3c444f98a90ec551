package jetstream

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/pkg/conf"
)

func parseJS(t *testing.T, text string) (Config, []Issue) {
	t.Helper()
	m, err := conf.ParseWithPositions(text)
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	var issues []Issue
	for k, v := range m {
		it := v.(*conf.Item)
		switch k {
		case "jetstream":
			issues = append(issues, c.ParseServer(it, true)...)
		case "accounts":
			for name, av := range it.Value.(map[string]any) {
				for k2, jv := range av.(*conf.Item).Value.(map[string]any) {
					if k2 == "jetstream" {
						l, is := ParseAccount(jv.(*conf.Item), name, true)
						issues = append(issues, is...)
						if c.Accounts == nil {
							c.Accounts = map[string]*AccountLimits{}
						}
						c.Accounts[name] = l
					}
				}
			}
		}
	}
	return c, issues
}

// The example of the project's seed document runs as written.
func TestSeedExample(t *testing.T) {
	c, issues := parseJS(t, `
jetstream {
  store_dir: /data/jetstream
  max_mem: 1G
  max_file: 100G
}
accounts {
  HR: {
    jetstream {
      max_mem: 512M
      max_file: 1G
      max_streams: 10
      max_consumers: 100
    }
  }
}`)
	if len(issues) > 0 {
		t.Fatalf("issues %v", issues)
	}
	if !c.Enabled || c.StoreDir != "/data/jetstream" || c.MaxMemory < 1e9 || c.MaxStore < 100e9 {
		t.Fatalf("server config %+v", c)
	}
	hr := c.Accounts["HR"]
	if hr == nil || hr.MaxMemory < 512e6 || hr.MaxStore < 1e9 || hr.MaxStreams != 10 || hr.MaxConsumers != 100 || hr.MaxAckPending != -1 {
		t.Fatalf("HR limits %+v", hr)
	}
}

func TestServerConfigForms(t *testing.T) {
	for _, tc := range []struct {
		text    string
		enabled bool
		check   func(c Config) bool
		err     string
	}{
		{text: "jetstream: enabled", enabled: true},
		{text: "jetstream: true", enabled: true},
		{text: "jetstream: disabled"},
		{text: "jetstream: maybe", err: "Expected 'enabled' or 'disabled'"},
		{text: "jetstream { enabled: false, store_dir: x }", check: func(c Config) bool { return c.StoreDir == "x" }},
		{text: `jetstream { sync_interval: always }`, enabled: true, check: func(c Config) bool { return c.SyncAlways && c.SyncSet }},
		{text: `jetstream { sync_interval: "10s" }`, enabled: true, check: func(c Config) bool { return c.SyncInterval == 10*time.Second && !c.SyncAlways }},
		{text: `jetstream { sync_interval: "soon" }`, err: "sync_interval"},
		{text: `jetstream { max_mem: "2K", domain: hub, unique_tag: " AZ ", strict: false, request_queue_limit: 5 }`, enabled: true,
			check: func(c Config) bool {
				return c.MaxMemory == 2048 && c.Domain == "hub" && c.UniqueTag == "az" && c.NotStrict && c.RequestQueueLimit == 5
			}},
		{text: `jetstream { max_file: "12X" }`, err: "sizes defined as strings"},
		{text: `jetstream { limits { max_ack_pending: 10, duplicate_window: "1m", batch { max_msgs: 5 } } }`, enabled: true,
			check: func(c Config) bool {
				return c.Limits.MaxAckPending == 10 && c.Limits.Duplicates == time.Minute && c.Limits.MaxBatchSize == 5
			}},
		{text: `jetstream { limits { nope: 1 } }`, err: `unknown field "nope"`},
		{text: `jetstream { bogus: 1 }`, err: `unknown field "bogus"`},
		{text: `jetstream { request_queue_limit: 0 }`, err: "must be positive"},
		{text: `jetstream { cipher: aes, key: "k2", prev_encryption_key: "k1" }`, enabled: true,
			check: func(c Config) bool {
				return c.Encryption == store.Encryption{Cipher: store.AES, Key: "k2", PrevKey: "k1"}
			}},
		{text: `jetstream { ek: "k", cipher: ChaCha }`, enabled: true,
			check: func(c Config) bool { return c.Encryption.Key == "k" && c.Encryption.Cipher == store.ChaChaPoly }},
		{text: `jetstream { cipher: rot13 }`, err: `Unknown cipher type: "rot13"`},
		{text: `jetstream { key: 42 }`, err: `'key' must be a string`},
	} {
		c, issues := parseJS(t, tc.text)
		var errs []string
		for _, is := range issues {
			if !is.Warning {
				errs = append(errs, is.Msg)
			}
		}
		if tc.err != "" {
			if len(errs) == 0 || !strings.Contains(strings.Join(errs, ";"), tc.err) {
				t.Errorf("%s: errors %v, want %q", tc.text, errs, tc.err)
			}
			continue
		}
		if len(errs) > 0 {
			t.Errorf("%s: errors %v", tc.text, errs)
		}
		if c.Enabled != tc.enabled && tc.check == nil {
			t.Errorf("%s: enabled %v", tc.text, c.Enabled)
		}
		if tc.check != nil && !tc.check(c) {
			t.Errorf("%s: %+v", tc.text, c)
		}
	}
}

func TestAccountConfigForms(t *testing.T) {
	c, issues := parseJS(t, `accounts { A { jetstream: enabled }, B { jetstream: disabled }, T { jetstream { max_bytes_required: true, tiers { R1 { max_mem: 1K, max_streams: 2 } } } } }`)
	if len(issues) > 0 {
		t.Fatal(issues)
	}
	if c.Accounts["A"] == nil || c.Accounts["A"].MaxStreams != -1 || c.Accounts["B"] != nil {
		t.Fatalf("%+v", c.Accounts)
	}
	tl := c.Accounts["T"]
	if !tl.MaxBytesRequired || tl.Tiers["R1"].MaxMemory != 1000 && tl.Tiers["R1"].MaxMemory != 1024 || tl.Tiers["R1"].MaxStreams != 2 {
		t.Fatalf("tiers %+v", tl)
	}
	_, issues = parseJS(t, `accounts { A { jetstream { max_mem: "lots" } } }`)
	if len(issues) == 0 || !strings.Contains(issues[0].Msg, "Expected a parseable size") {
		t.Fatalf("bad size: %v", issues)
	}
}
