package authutil

import (
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// Creds returns a creds file for a user token and its key.
func Creds(token string, kp nkeys.KeyPair) ([]byte, error) {
	seed, err := kp.Seed()
	if err != nil {
		return nil, err
	}
	return jwt.FormatUserConfig(token, seed)
}

// SysAccountClaims are the claims of a system account as nsc makes it:
// a signing key and the exports of the per-account monitoring subjects.
func SysAccountClaims(pub, signingKey string) *jwt.AccountClaims {
	ac := jwt.NewAccountClaims(pub)
	ac.Name = "SYS"
	ac.SigningKeys.Add(signingKey)
	ac.Exports = jwt.Exports{
		&jwt.Export{
			Name: "account-monitoring-services", Subject: "$SYS.REQ.ACCOUNT.*.*", Type: jwt.Service,
			ResponseType: jwt.ResponseTypeStream, AccountTokenPosition: 4,
			Info: jwt.Info{Description: "Request account specific monitoring services for: SUBSZ, CONNZ, LEAFZ, JSZ and INFO",
				InfoURL: "https://docs.nats.io/nats-server/configuration/sys_accounts"},
		},
		&jwt.Export{
			Name: "account-monitoring-streams", Subject: "$SYS.ACCOUNT.*.>", Type: jwt.Stream, AccountTokenPosition: 3,
			Info: jwt.Info{Description: "Account specific monitoring stream",
				InfoURL: "https://docs.nats.io/nats-server/configuration/sys_accounts"},
		},
	}
	return ac
}

// Created is one entity a command made, for its report.
type Created struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	PublicKey string `json:"public_key"`
	JWT       string `json:"jwt_path,omitempty"`
	Key       string `json:"key_path,omitempty"`
	Creds     string `json:"creds_path,omitempty"`
}
