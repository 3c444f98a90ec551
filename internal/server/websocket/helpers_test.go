package websocket_test

import "github.com/sluicehq/sluice/internal/server/websocket"

type wsOptions = websocket.Options

func wsOpts(f func(*wsOptions)) websocket.Options {
	o := websocket.Options{Port: -1, NoTLS: true}
	f(&o)
	return o
}
