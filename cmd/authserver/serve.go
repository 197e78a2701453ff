package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	authapp "github.com/authserver/authserver/internal/app"
)

func (a *app) serveCmd() *cobra.Command {
	cmd := a.configCmd("serve", "Run the token server", func(cmd *cobra.Command, cfg authapp.Config) error {
		return a.serve(cmd.Context(), cfg)
	})
	cmd.Flags().StringVar(&a.addr, "addr", "", "host:port to listen on, replacing server.addr and $"+authapp.AddrEnv)
	return cmd
}

func (a *app) serve(ctx context.Context, cfg authapp.Config) error {
	log := authapp.NewLogger(cfg, a.stderr)
	for _, w := range cfg.Warnings() {
		log.Warn("insecure configuration", "problem", w)
	}
	if cfg.Server.MetricsAddr == "" {
		log.Info("/metrics is served on the main listener; set server.metrics_addr to keep it off the clients' network")
	}
	srvApp, err := authapp.New(ctx, cfg, authapp.Options{Logger: log, Version: buildVersion(), Bootstrap: authapp.ServeBootstrap(cfg)})
	if err != nil {
		return err
	}
	defer srvApp.Close()
	srv := srvApp.HTTPServer()
	block, err := authapp.RegistryAuthBlock(cfg)
	if err != nil {
		return err
	}
	log.Info("authserver listening", "addr", cfg.Server.Addr, "tls", srv.TLSConfig != nil, "realm", srvApp.Server.Realm,
		"service", cfg.Token.Service, "issuer", cfg.Token.Issuer, "kid", srvApp.Keys.Issuer().Signer().KID(),
		"storage", cfg.Storage.Driver, "database", authapp.DatabaseName(cfg), "metrics_addr", cfg.Server.MetricsAddr, "version", buildVersion())
	if cfg.Log.Format == "json" {
		log.Info("registry auth block", "config_yml", block)
	} else {
		// Plain text so it can be pasted into the registry's config.yml.
		fmt.Fprintf(a.stderr, "\nPoint the registry at authserver with this block in its config.yml:\n\n%s\n", block)
	}
	return srvApp.Run(ctx, srv)
}
