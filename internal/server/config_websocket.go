package server

import (
	"crypto/tls"

	"github.com/sluicehq/sluice/internal/server/tlsconf"
	"github.com/sluicehq/sluice/internal/server/websocket"
	"github.com/sluicehq/sluice/pkg/conf"
)

// readWebsocket hands the websocket {} block to its package; its tls {}
// is read by the same code as the server's.
func readWebsocket(r *configReader, key string, it *conf.Item) {
	readTLSBlock := func(tit *conf.Item) (*tls.Config, bool, tlsconf.PinnedCerts, bool) {
		sub := &configReader{opts: &Options{}, strict: r.strict}
		readTLS(sub, "tls", tit)
		r.warns = append(r.warns, sub.warns...)
		r.errs = append(r.errs, sub.errs...)
		so := sub.opts
		return so.TLSConfig, so.TLSMap, so.TLSPinnedCerts, len(sub.errs) == 0 && so.TLSConfig != nil
	}
	for _, is := range websocket.Parse(it, &r.opts.Websocket, readTLSBlock, r.strict) {
		if is.Warning {
			r.warnf(is.Pos, "%s", is.Msg)
		} else {
			r.errorf(is.Pos, "%s", is.Msg)
		}
	}
}
