package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/authserver/authserver/internal/admin"
)

// parseClaims reads --claim values.
func parseClaims(claims []string) ([]admin.ClaimCondition, error) {
	return parseEach(claims, admin.ParseCondition, func(string) string { return "--claim" })
}

// trustFlags is the trust policy of `robot create --federate --claim`, nil
// without --federate.
func trustFlags(cmd *cobra.Command, federate string, claims []string) (*admin.TrustPolicy, error) {
	if federate == "" {
		if cmd.Flags().Changed("claim") {
			return nil, errors.New("--claim needs --federate ISSUER")
		}
		return nil, nil
	}
	conds, err := parseClaims(claims)
	if err != nil {
		return nil, err
	}
	if len(conds) == 0 {
		return nil, errors.New("--federate needs at least one --claim CLAIM=PATTERN")
	}
	return &admin.TrustPolicy{Issuer: federate, Conditions: conds}, nil
}

// printFederated reports a created federated robot: no secret to show.
func (a *app) printFederated(err error, r admin.Robot) error {
	if err != nil {
		return err
	}
	if a.output == "json" {
		return a.printJSON(toRobotJSON(r))
	}
	fmt.Fprintf(a.stdout, "name:    %s\ntrust:   %s\nexpires: %s\n\nNo secret: log in as %s with a JWT of issuer %s as the password.\n",
		r.Login, admin.TrustText(r.Trust), fmtOptTime(r.ExpiresAt, "never"), r.Login, r.Trust.Issuer)
	return nil
}

// setTrust replaces a federated robot's conditions.
func (a *app) setTrust(cmd *cobra.Command, name string, claims []string) error {
	conds, err := parseClaims(claims)
	if err != nil {
		return err
	}
	return a.withAdmin(cmd, func(ctx context.Context, adm *admin.Service) error {
		r, err := adm.FindRobot(ctx, cli, name)
		if err == nil {
			r, err = adm.SetRobotTrust(ctx, cli, r.ID, admin.TrustPolicy{Conditions: conds})
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "robot %s now trusts %s\n", r.Login, admin.TrustText(r.Trust))
		return nil
	})
}
