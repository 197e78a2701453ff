package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

func (c *call) ping() error {
	c.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := c.w.Write([]byte("Pong"))
	return err
}

func (c *call) systeminfo() error {
	mode := c.a.opt.AuthMode
	return c.ok(map[string]any{"auth_mode": mode, "primary_auth_mode": true, "harbor_version": "authserver " + c.a.opt.Version,
		"registry_url": c.a.opt.RegistryURL, "external_url": c.a.opt.RegistryURL, "self_registration": false,
		"read_only": false, "with_chartmuseum": false, "has_ca_root": false, "project_creation_restriction": c.a.projectCreation()})
}

func (a *API) projectCreation() string {
	if a.opt.AdminOnlyProjects {
		return "adminonly"
	}
	return "everyone"
}

func (c *call) health() error {
	return c.ok(map[string]any{"status": "healthy", "components": []any{}})
}

// configurations are Harbor's settings that automation reads; none is
// editable here (authserver's config file holds them).
func (c *call) configurations() error {
	if !c.who.Admin {
		return &admin.Error{Kind: admin.KindForbidden, Msg: c.who.Name + " may not read the configuration: it takes a sysadmin"}
	}
	item := func(v any) map[string]any { return map[string]any{"value": v, "editable": false} }
	return c.ok(map[string]any{
		"auth_mode":                    item(c.a.opt.AuthMode),
		"robot_name_prefix":            item(c.a.opt.RobotPrefix),
		"project_creation_restriction": item(c.a.projectCreation()),
		"self_registration":            item(false),
		"read_only":                    item(false),
	})
}

// Extensions under /authserver/v1: a user's own credentials, the audit
// trail and explain.

type patResp struct {
	ID         int64    `json:"id"`
	Name       string   `json:"name"`
	CreatedAt  string   `json:"created_at"`
	ExpiresAt  string   `json:"expires_at,omitempty"`
	LastUsedAt string   `json:"last_used_at,omitempty"`
	AllowFrom  []string `json:"allow_from,omitempty"`
}

func toPAT(t store.PersonalToken) patResp {
	out := patResp{ID: t.ID, Name: t.Name, CreatedAt: harborTime(t.CreatedAt), AllowFrom: t.AllowFrom}
	if !t.ExpiresAt.IsZero() {
		out.ExpiresAt = harborTime(t.ExpiresAt)
	}
	if !t.LastUsedAt.IsZero() {
		out.LastUsedAt = harborTime(t.LastUsedAt)
	}
	return out
}

func (c *call) listPATs() error {
	ts, err := c.a.opt.Admin.ListPATs(c.r.Context(), c.who, c.who.Name)
	return all(c, ts, err, toPAT)
}

func (c *call) createPAT() error {
	var req struct {
		Name         string   `json:"name"`
		DurationDays int64    `json:"duration_days"`
		AllowFrom    []string `json:"allow_from"`
	}
	if err := c.decode(&req); err != nil {
		return err
	}
	life, err := lifetime(req.DurationDays)
	if err != nil {
		return err
	}
	t, secret, err := c.a.opt.Admin.CreatePAT(c.r.Context(), c.who, admin.NewPAT{User: c.who.Name, Name: req.Name, Lifetime: life,
		AllowFrom: req.AllowFrom})
	if err != nil {
		return err
	}
	c.w.Header().Set("Location", "/api/authserver/v1/users/current/tokens/"+t.Name)
	return c.json(http.StatusCreated, map[string]any{"id": t.ID, "name": t.Name, "secret": secret})
}

func (c *call) revokePAT() error {
	return c.done(c.a.opt.Admin.RevokePAT(c.r.Context(), c.who, c.who.Name, chiParam(c, "name")))
}

type refreshTokenResp struct {
	ID         int64  `json:"id"`
	Service    string `json:"service"`
	ClientID   string `json:"client_id"`
	CreatedAt  string `json:"created_at"`
	LastUsedAt string `json:"last_used_at"`
}

func toRefreshToken(t store.RefreshToken) refreshTokenResp {
	return refreshTokenResp{t.ID, t.Service, t.ClientID, harborTime(t.CreatedAt), harborTime(t.LastUsedAt)}
}

func (c *call) listRefreshTokens() error {
	ts, err := c.a.opt.Admin.ListRefreshTokens(c.r.Context(), c.who, c.who.Name)
	return all(c, ts, err, toRefreshToken)
}

func (c *call) revokeRefreshToken() error {
	id, err := c.id("id")
	if err != nil {
		return err
	}
	return c.done(c.a.opt.Admin.RevokeRefreshToken(c.r.Context(), c.who, c.who.Name, id))
}

// audit takes the CLI's filters (kind, user, since: a duration, result,
// jti) and pages: page and page_size (1 to 10000, default 100; limit is
// its older name), with X-Total-Count and Link.
func (c *call) audit() error {
	q := c.r.URL.Query()
	f := store.AuditFilter{Kind: q.Get("kind"), Subject: q.Get("user"), Result: q.Get("result"), JTI: q.Get("jti")}
	if v := q.Get("since"); v != "" {
		d, err := config.ParseDuration(v)
		if err != nil {
			return badf("since %q: %v", v, err)
		}
		f.Since = time.Now().Add(-d)
	}
	const maxAudit = 10000
	if v := q.Get("limit"); v != "" {
		if q.Has("page_size") {
			return badf("limit is page_size by its older name: give one of them")
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxAudit {
			return badf("limit %q: want 1 to %d", v, maxAudit)
		}
		q.Set("page_size", v)
		q.Del("limit")
		c.r.URL.RawQuery = q.Encode() // Link names page_size
	}
	p, err := c.pageUpTo(100, maxAudit)
	if err != nil {
		return err
	}
	f.Offset, f.Limit = (p.n-1)*p.size, p.size
	recs, total, err := c.a.opt.Admin.PageAudit(c.r.Context(), c.who, f)
	if err != nil {
		return err
	}
	c.pageHeaders(f.Offset, f.Limit, total)
	return c.ok(each(recs, toAudit))
}

// auditResp is every field a record stores.
type auditResp struct {
	ID               int64    `json:"id"`
	Time             string   `json:"time"`
	Kind             string   `json:"kind"`
	Subject          string   `json:"subject"`
	Method           string   `json:"method,omitempty"`
	Result           string   `json:"result"`
	Endpoint         string   `json:"endpoint,omitempty"`
	ClientIP         string   `json:"client_ip"`
	UserAgent        string   `json:"user_agent,omitempty"`
	Service          string   `json:"service,omitempty"`
	ClientID         string   `json:"client_id,omitempty"`
	Action           string   `json:"action,omitempty"`
	Target           string   `json:"target,omitempty"`
	Requested        []string `json:"requested,omitempty"`
	Granted          []string `json:"granted,omitempty"`
	JTI              string   `json:"jti,omitempty"`
	FederatedIssuer  string   `json:"federated_issuer,omitempty"`
	FederatedSubject string   `json:"federated_subject,omitempty"`
	RequestID        string   `json:"request_id,omitempty"`
	Reason           string   `json:"reason,omitempty"`
}

func toAudit(r store.AuditRecord) auditResp {
	return auditResp{r.ID, harborTime(r.Time), r.Kind, r.Subject, r.Method, r.Result, r.Endpoint, r.ClientIP, r.UserAgent,
		r.Service, r.ClientID, r.Action, r.Target, r.Requested, r.Granted, r.JTI, r.FederatedIssuer, r.FederatedSubject, r.RequestID,
		r.Reason}
}

func (c *call) explain() error {
	var req struct {
		User      string   `json:"user"`
		Robot     string   `json:"robot"`
		Anonymous bool     `json:"anonymous"`
		Scopes    []string `json:"scopes"`
		From      string   `json:"from"`
	}
	if err := c.decode(&req); err != nil {
		return err
	}
	e, err := c.a.opt.Admin.Explain(c.r.Context(), c.who, admin.ExplainRequest{User: req.User, Robot: req.Robot,
		Anonymous: req.Anonymous, Scopes: req.Scopes, From: req.From})
	if err != nil {
		return err
	}
	type decision struct {
		Scope   string   `json:"scope"`
		Granted []string `json:"granted"`
		Reasons []string `json:"reasons,omitempty"`
	}
	out := struct {
		Subject   string     `json:"subject"`
		Notes     []string   `json:"notes,omitempty"`
		Decisions []decision `json:"decisions"`
	}{Subject: e.Subject.Name, Notes: e.Notes, Decisions: []decision{}}
	for _, d := range e.Decisions {
		out.Decisions = append(out.Decisions, decision{scopeString(d), append([]string{}, d.Granted...), d.Reasons})
	}
	return c.ok(out)
}

func scopeString(d authz.Decision) string { return d.Scope.String() }
