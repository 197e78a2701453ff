package main

import (
	"fmt"
	"log/slog"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/metrics"
)

// enableFederation lets the robots of passwords (the robot authenticator
// at the front of the stack) log in with JWTs of federation.issuers.
func enableFederation(cfg config.Config, passwords authn.PasswordAuthenticator, m *metrics.Metrics, log *slog.Logger) error {
	robots, ok := passwords.(*authn.Robots)
	if !ok || len(cfg.Federation.Issuers) == 0 {
		return nil
	}
	fed, err := authn.NewFederation(cfg.Federation, authn.FederationOptions{})
	if err != nil {
		return fmt.Errorf("federation: %w", err)
	}
	robots.SetFederation(fed, m)
	log.Info("federated robots enabled", "issuers", fed.Issuers())
	return nil
}
