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
	list := leaf("list [--kind token|admin] [--user U] [--since 1h] [--result issued|unauthorized|throttled|done] [--limit N]", "List audit records, newest first", func(cmd *cobra.Command) error {
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
			type item struct {
				Time      time.Time `json:"time"`
				Subject   string    `json:"subject"`
				Method    string    `json:"method"`
				Result    string    `json:"result"`
				ClientIP  string    `json:"client_ip"`
				UserAgent string    `json:"user_agent"`
				Service   string    `json:"service"`
				ClientID  string    `json:"client_id"`
				Requested []string  `json:"requested"`
				Granted   []string  `json:"granted"`
				RequestID string    `json:"request_id"`
				Kind      string    `json:"kind"`
				Action    string    `json:"action,omitempty"`
				Target    string    `json:"target,omitempty"`
			}
			header := []string{"TIME", "SUBJECT", "METHOD", "RESULT", "CLIENT_IP", "CLIENT_ID", "REQUESTED", "GRANTED"}
			if f.Kind == admin.AuditKindAdmin {
				header = []string{"TIME", "ACTOR", "CLIENT_IP", "ACTION", "TARGET"}
			}
			return printEach(a, err, header, recs, func(r admin.AuditRecord) ([]string, item) {
				row := []string{r.Time.UTC().Format(time.RFC3339), r.Subject, r.Method, r.Result, r.ClientIP,
					r.ClientID, strings.Join(r.Requested, " "), strings.Join(r.Granted, " ")}
				if f.Kind == admin.AuditKindAdmin {
					row = []string{r.Time.UTC().Format(time.RFC3339), r.Subject, r.ClientIP, r.Action, r.Target}
				}
				return row, item{r.Time.UTC(), r.Subject, r.Method, r.Result, r.ClientIP, r.UserAgent, r.Service,
					r.ClientID, append([]string{}, r.Requested...), append([]string{}, r.Granted...), r.RequestID,
					r.Kind, r.Action, r.Target}
			})
		})
	})
	list.Flags().StringVar(&f.Kind, "kind", "", "only token requests (token) or administrative changes (admin)")
	list.Flags().StringVar(&f.Subject, "user", "", "only this user or robot (for admin records: the actor)")
	list.Flags().StringVar(&since, "since", "", "only records newer than this (e.g. 1h, 7d)")
	list.Flags().StringVar(&f.Result, "result", "", "only this result: issued, unauthorized, throttled or done")
	list.Flags().IntVar(&f.Limit, "limit", 100, "at most this many records")
	a.addOutputFlag(list)
	cmd.AddCommand(list)
	return cmd
}
