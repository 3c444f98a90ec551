// Package callout is auth callout: delegating a login to an external
// service. It reads the auth_callout block, builds the authorization
// request JWT the server signs (client information, CONNECT options, TLS
// certificates, nonce) and sends on $SYS.REQ.USER.AUTH, encrypts it with
// xkey when configured, and checks the service's response JWT (issuer,
// audience = this server, subject = the login's one-time user nkey) and
// the user JWT inside it.
//
// It does not publish or wait: the broker sends the request, waits for
// the reply with its own timeout and hands the reply back here. It must
// not import internal/server.
package callout
