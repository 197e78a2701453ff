package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/authserver/authserver/internal/admin"
	authapp "github.com/authserver/authserver/internal/app"
)

func (a *app) auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Read the audit trail of token requests and administrative changes"}
	var f admin.AuditFilter
	var since string
	list := leaf("list [--kind token|admin] [--user U] [--since 1h] [--result issued|unauthorized|throttled|done] [--jti JTI] [--limit N]", "List audit records, newest first", func(cmd *cobra.Command) error {
		if err := admin.ValidAuditFilter(f); err != nil {
			return fmt.Errorf("--%w", err) // before opening anything; names the flag
		}
		if since != "" {
			d, err := authapp.ParseDuration(since)
			if err != nil {
				return err
			}
			f.Since = time.Now().Add(-d)
		}
		return a.withAdmin(cmd, func(ctx context.Context, adm *admin.Service) error {
			recs, err := adm.ListAudit(ctx, cli, f)
			// Every field a record stores, in the table and in JSON.
			type item struct {
				ID               int64     `json:"id"`
				Time             time.Time `json:"time"`
				Kind             string    `json:"kind"`
				Subject          string    `json:"subject"`
				Method           string    `json:"method"`
				Result           string    `json:"result"`
				Endpoint         string    `json:"endpoint,omitempty"`
				ClientIP         string    `json:"client_ip"`
				UserAgent        string    `json:"user_agent"`
				Service          string    `json:"service"`
				ClientID         string    `json:"client_id"`
				Requested        []string  `json:"requested"`
				Granted          []string  `json:"granted"`
				JTI              string    `json:"jti,omitempty"`
				FederatedIssuer  string    `json:"federated_issuer,omitempty"`
				FederatedSubject string    `json:"federated_subject,omitempty"`
				RequestID        string    `json:"request_id"`
				Action           string    `json:"action,omitempty"`
				Target           string    `json:"target,omitempty"`
				Reason           string    `json:"reason,omitempty"`
			}
			header := []string{"TIME", "SUBJECT", "METHOD", "RESULT", "ENDPOINT", "CLIENT_IP", "CLIENT_ID", "SERVICE",
				"REQUESTED", "GRANTED", "JTI", "FEDERATED_ISSUER", "FEDERATED_SUBJECT", "ACTION", "USER_AGENT", "REQUEST_ID", "REASON"}
			if f.Kind == admin.AuditKindAdmin {
				header = []string{"TIME", "ACTOR", "METHOD", "RESULT", "CLIENT_IP", "ACTION", "TARGET", "REQUEST_ID"}
			}
			return printEach(a, err, header, recs, func(r admin.AuditRecord) ([]string, item) {
				at := r.Time.UTC().Format(time.RFC3339)
				row := []string{at, r.Subject, r.Method, r.Result, r.Endpoint, r.ClientIP, r.ClientID, r.Service,
					strings.Join(r.Requested, " "), strings.Join(r.Granted, " "), r.JTI, r.FederatedIssuer, r.FederatedSubject,
					r.Action, r.UserAgent, r.RequestID, r.Reason}
				if f.Kind == admin.AuditKindAdmin {
					row = []string{at, r.Subject, r.Method, r.Result, r.ClientIP, r.Action, r.Target, r.RequestID}
				}
				return row, item{r.ID, r.Time.UTC(), r.Kind, r.Subject, r.Method, r.Result, r.Endpoint, r.ClientIP, r.UserAgent,
					r.Service, r.ClientID, append([]string{}, r.Requested...), append([]string{}, r.Granted...), r.JTI,
					r.FederatedIssuer, r.FederatedSubject, r.RequestID, r.Action, r.Target, r.Reason}
			})
		})
	})
	list.Flags().StringVar(&f.Kind, "kind", "", "only token requests (token) or administrative changes (admin)")
	list.Flags().StringVar(&f.Subject, "user", "", "only this user or robot (for admin records: the actor)")
	list.Flags().StringVar(&since, "since", "", "only records newer than this (e.g. 1h, 7d)")
	list.Flags().StringVar(&f.Result, "result", "", "only this result: issued, unauthorized, throttled or done")
	list.Flags().StringVar(&f.JTI, "jti", "", "only the records of the token with this jti (the JWT's jti claim)")
	list.Flags().IntVar(&f.Limit, "limit", 100, "at most this many records")
	a.addOutputFlag(list)
	cmd.AddCommand(list)
	return cmd
}
