package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// healthcheckCmd probes a running server, for container HEALTHCHECKs on
// images without curl (distroless).
func (a *app) healthcheckCmd() *cobra.Command {
	var url string
	cmd := leaf("healthcheck [--url URL]", "Exit 0 when a running authserver answers 200 at URL (default its /healthz)", func(cmd *cobra.Command) error {
		if url == "" {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			url = cfg.RealmBase() + "/healthz"
		}
		client := &http.Client{Timeout: 3 * time.Second}
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
	cmd.Flags().StringVar(&url, "url", "", "URL to probe (default <public URL>/healthz)")
	return cmd
}
