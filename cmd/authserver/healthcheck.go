package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	authapp "github.com/authserver/authserver/internal/app"
)

// healthcheckCmd probes a running server, for container HEALTHCHECKs on
// images without curl (the image is FROM scratch).
func (a *app) healthcheckCmd() *cobra.Command {
	var url string
	cmd := leaf("healthcheck [--url URL]", "Exit 0 when the running authserver answers 200 at /readyz (its configured address and TLS), or at URL", func(cmd *cobra.Command) error {
		client := &http.Client{Timeout: 3 * time.Second}
		if url == "" {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			url = probeURL(cfg)
			// The process probes itself on loopback: its certificate names
			// the public host, not 127.0.0.1, so it is not verified here.
			client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}} //nolint:gosec
		}
		resp, err := client.Get(url)
		if err != nil {
			return fmt.Errorf("healthcheck: %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("healthcheck: %s answered %s", url, resp.Status)
		}
		fmt.Fprintln(a.stdout, "ok")
		return nil
	})
	cmd.Flags().StringVar(&url, "url", "", "URL to probe (default /readyz at server.addr, https when server.tls is set)")
	return cmd
}

// probeURL is /readyz at the address the server listens on: an unspecified
// host (0.0.0.0, ::, none) is reached on loopback; https when it serves TLS.
func probeURL(cfg authapp.Config) string {
	host, port, err := net.SplitHostPort(cfg.Server.Addr)
	if err != nil {
		host, port = "127.0.0.1", cfg.Server.Addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	scheme := "http"
	if cfg.Server.TLS.Cert != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/readyz"
}
