package authcmd

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/sluicehq/sluice/internal/cli/auth/authutil"
	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/keystore"
)

// Subjects of a server's account resolver (nats-server's full resolver,
// and sluice's in operator mode).
const (
	subjClaimsUpdate = "$SYS.REQ.CLAIMS.UPDATE"
	subjClaimsList   = "$SYS.REQ.CLAIMS.LIST"
	subjClaimsDelete = "$SYS.REQ.CLAIMS.DELETE"
	subjClaimsLookup = "$SYS.REQ.ACCOUNT.%s.CLAIMS.LOOKUP"
)

// resolverConn connects to the resolver: --server or the operator's
// account server URL (else its first service URL), as the connection
// flags' credentials or else the first system account user whose creds
// are in the keystore.
func resolverConn(f *cmdutil.Factory, st *authutil.Store, op *keystore.Operator, oc *jwt.OperatorClaims) (*nats.Conn, time.Duration, error) {
	s, err := f.Settings()
	if err != nil {
		return nil, 0, err
	}
	url := ""
	if s.Source(cmdutil.KeyServer) != cmdutil.FromDefault {
		url = s.Context.ServerURL()
	} else if strings.HasPrefix(oc.AccountServerURL, "nats") || strings.HasPrefix(oc.AccountServerURL, "tls") {
		url = oc.AccountServerURL
	} else if len(oc.OperatorServiceURLs) > 0 {
		url = strings.Join(oc.OperatorServiceURLs, ",")
	} else {
		return nil, 0, cmdutil.FlagErrorf("operator %q names no account server or service URL: give --server", op.Name)
	}
	credsGiven := false
	for _, k := range []string{cmdutil.KeyUser, cmdutil.KeyToken, cmdutil.KeyCreds, cmdutil.KeyNKey, cmdutil.KeyJWT, cmdutil.KeySeed} {
		if s.Source(k) != cmdutil.FromDefault {
			credsGiven = true
		}
	}
	var opts []nats.Option
	if credsGiven {
		if opts, err = s.Context.NATSOptions(os.Getenv); err != nil {
			return nil, 0, err
		}
	} else {
		creds, err := sysCreds(st, op, oc)
		if err != nil {
			return nil, 0, err
		}
		opts = append(opts, nats.UserCredentials(creds))
	}
	opts = append(opts, nats.Name("sluice auth"), nats.Timeout(s.Timeout))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, 0, cmdutil.WithHint(cmdutil.ExitConnect, fmt.Errorf("connect to %s: %w", url, err),
			"give --server and system account credentials (--creds)")
	}
	return nc, s.Timeout, nil
}

// sysCreds finds a creds file of a user of the system account, writing
// it from the store when only the JWT and seed are there.
func sysCreds(st *authutil.Store, op *keystore.Operator, oc *jwt.OperatorClaims) (string, error) {
	if oc.SystemAccount == "" {
		return "", cmdutil.FlagErrorf("operator %q has no system account: give --creds of a system account user", op.Name)
	}
	acc, _, err := op.AccountByKey(oc.SystemAccount)
	if err != nil {
		return "", cmdutil.FlagErrorf("the system account %s is not in the store: give --creds of a system account user", oc.SystemAccount)
	}
	users, _ := op.Users(acc)
	for _, u := range users {
		p := st.Env.Keys.CredsPath(op.Name, acc, u)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		uc, tok, err := op.User(acc, u)
		if err != nil {
			continue
		}
		if kp, err := st.Env.Keys.Get(uc.Subject); err == nil {
			creds, err := authutil.Creds(tok, kp)
			if err != nil {
				return "", err
			}
			return st.Env.Keys.WriteCreds(op.Name, acc, u, creds)
		}
	}
	return "", cmdutil.FlagErrorf("no user of the system account %q has creds in the keystore: give --creds", acc)
}

// serverReply is a resolver's answer to UPDATE, DELETE and LIST.
type serverReply struct {
	Server struct {
		Name string `json:"name"`
		ID   string `json:"id"`
	} `json:"server"`
	Data  json.RawMessage `json:"data"`
	Error *struct {
		Account     string `json:"account"`
		Code        int    `json:"code"`
		Description string `json:"description"`
	} `json:"error"`
}

type updateData struct {
	Account string `json:"account"`
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// gather sends a request and collects the replies of every server: it
// waits up to timeout for the first, then for more as long as they keep
// coming within a short gap.
func gather(nc *nats.Conn, subject string, data []byte, timeout time.Duration) ([][]byte, error) {
	inbox := nc.NewRespInbox()
	ch := make(chan *nats.Msg, 64)
	sub, err := nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest(subject, inbox, data); err != nil {
		return nil, err
	}
	var out [][]byte
	wait := timeout
	for {
		select {
		case m := <-ch:
			if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
				return nil, nats.ErrNoResponders
			}
			out = append(out, m.Data)
			wait = 250 * time.Millisecond
		case <-time.After(wait):
			if len(out) == 0 {
				return nil, cmdutil.WithHint(cmdutil.ExitTimeout, fmt.Errorf("no resolver answered on %s within %s", subject, timeout),
					"is the server in operator mode with a nats (full) resolver, and the user in the system account?")
			}
			return out, nil
		}
	}
}

// saveRaw stores an account JWT fetched from a server as it is, under
// name (its directory is created with the users directory).
func saveRaw(op *keystore.Operator, name, tok string) error {
	ac, err := jwt.DecodeAccountClaims(tok)
	if err != nil {
		return err
	}
	if ac.Name == name {
		_, err = op.SaveAccount(tok)
		return err
	}
	return op.SaveAccountAs(name, tok)
}
