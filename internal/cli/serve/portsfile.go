package servecmd

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/server"
)

// ports is the JSON nats-server writes to <program>_<pid>.ports.
type ports struct {
	Nats       []string `json:"nats,omitempty"`
	Monitoring []string `json:"monitoring,omitempty"`
	Cluster    []string `json:"cluster,omitempty"`
	WebSocket  []string `json:"websocket,omitempty"`
}

// writePortsFile records the listen URLs for tools that started the
// server on random ports.
func writePortsFile(dir string, s *server.Server) (string, error) {
	addr, ok := s.Addr().(*net.TCPAddr)
	if !ok {
		return "", fmt.Errorf("server is not listening")
	}
	p := ports{Nats: listenURLs("nats", addr)}
	if m, ok := s.MonitorAddr().(*net.TCPAddr); ok {
		scheme := "http"
		if strings.HasPrefix(s.MonitorURL(), "https:") {
			scheme = "https"
		}
		p.Monitoring = listenURLs(scheme, m)
	}
	if r := s.Routes(); r != nil {
		if a := r.Addr(); a != nil {
			scheme := "nats"
			if r.Config().TLSConfig != nil {
				scheme = "tls"
			}
			p.Cluster = listenURLs(scheme, a)
		}
	}
	if w := s.WebsocketAddr(); w != nil {
		scheme := "ws"
		if strings.HasPrefix(s.WebsocketURL(), "wss:") {
			scheme = "wss"
		}
		p.WebSocket = listenURLs(scheme, w)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	name := fmt.Sprintf("%s_%d.ports", filepath.Base(os.Args[0]), os.Getpid())
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o666); err != nil {
		return "", err
	}
	return path, nil
}

// listenURLs lists scheme://ip:port for every address a listener on addr
// is reachable at: each interface address when bound to all of them.
func listenURLs(scheme string, addr *net.TCPAddr) []string {
	port := strconv.Itoa(addr.Port)
	if !addr.IP.IsUnspecified() {
		return []string{scheme + "://" + net.JoinHostPort(addr.IP.String(), port)}
	}
	var urls []string
	ifaddrs, _ := net.InterfaceAddrs()
	for _, a := range ifaddrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLinkLocalUnicast() || (addr.IP.To4() != nil && ipn.IP.To4() == nil) {
			continue
		}
		urls = append(urls, scheme+"://"+net.JoinHostPort(ipn.IP.String(), port))
	}
	if len(urls) == 0 {
		urls = append(urls, scheme+"://"+net.JoinHostPort("127.0.0.1", port))
	}
	return urls
}
