package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/store"
)

// The policy beyond Harbor's model (issue 24) under /api/authserver/v1:
// repository rules, a robot's repository patterns, networks and token
// lifetime, and the networks a user may log in from.

type ruleResp struct {
	ID           int64    `json:"id"`
	Project      string   `json:"project"`
	Repos        string   `json:"repos"`
	Subject      string   `json:"subject"`
	Name         string   `json:"name,omitempty"`
	Actions      []string `json:"actions"`
	Effect       string   `json:"effect"`
	CreationTime string   `json:"creation_time"`
}

func toRule(r store.Rule) ruleResp {
	effect := "allow"
	if r.Deny {
		effect = "deny"
	}
	return ruleResp{r.ID, r.Project, r.Repos, string(r.Subject), r.Name, r.Actions, effect, harborTime(r.CreatedAt)}
}

func (c *call) listRules() error {
	p, err := c.project()
	if err != nil {
		return err
	}
	rs, err := c.a.opt.Admin.ListRules(c.r.Context(), c.who, p.Name)
	return all(c, rs, err, toRule)
}

func (c *call) addRule() error {
	var req struct {
		Repos   string   `json:"repos"`
		Subject string   `json:"subject"`
		Name    string   `json:"name"`
		Actions []string `json:"actions"`
		Effect  string   `json:"effect"`
	}
	p, err := change(c, c.project, &req)
	if err != nil {
		return err
	}
	deny := false
	switch req.Effect {
	case "", "allow":
	case "deny":
		deny = true
	default:
		return badf("effect %q: want allow or deny", req.Effect)
	}
	r, err := c.a.opt.Admin.AddRule(c.r.Context(), c.who, admin.NewRule{Project: p.Name, Repos: req.Repos,
		Subject: admin.RuleSubject(req.Subject), Name: req.Name, Actions: req.Actions, Deny: deny})
	if err != nil {
		return err
	}
	c.w.Header().Set("Location", "/api/authserver/v1/projects/"+strconv.FormatInt(p.ID, 10)+"/rules/"+strconv.FormatInt(r.ID, 10))
	return c.json(http.StatusCreated, toRule(r))
}

func (c *call) removeRule() error {
	id, err := strconv.ParseInt(chiParam(c, "rule_id"), 10, 64)
	if err != nil {
		return badf("rule_id %q: want a number", chiParam(c, "rule_id"))
	}
	return act(c, c.project, func(p store.Project) error {
		_, err := c.a.opt.Admin.RemoveRule(c.r.Context(), c.who, p.Name, id)
		return err
	})
}

// robotPolicy is a robot's policy beyond Harbor's: token_lifetime in
// seconds (0: the configured one).
type robotPolicy struct {
	Repos         []string `json:"repos"`
	AllowFrom     []string `json:"allow_from"`
	TokenLifetime int64    `json:"token_lifetime"`
}

func toRobotPolicy(r admin.Robot) robotPolicy {
	return robotPolicy{nonNil(r.Repos), nonNil(r.AllowFrom), int64(r.TokenLifetime / time.Second)}
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func (c *call) getRobotPolicy() error { return show(c, c.robot, toRobotPolicy) }

// setRobotPolicy replaces the three (a field left out: none).
func (c *call) setRobotPolicy() error {
	var req robotPolicy
	r, err := change(c, c.robot, &req)
	if err != nil {
		return err
	}
	if req.TokenLifetime < 0 {
		return badf("token_lifetime %d: want seconds, 0 for the configured lifetime", req.TokenLifetime)
	}
	life := time.Duration(req.TokenLifetime) * time.Second
	r, err = c.a.opt.Admin.UpdateRobot(c.r.Context(), c.who, r.ID, admin.RobotChange{Repos: &req.Repos, AllowFrom: &req.AllowFrom,
		TokenLifetime: &life})
	if err != nil {
		return err
	}
	return c.ok(toRobotPolicy(r))
}

func (c *call) setUserAllowFrom() error {
	var req struct {
		AllowFrom []string `json:"allow_from"`
	}
	u, err := change(c, c.user, &req)
	if err != nil {
		return err
	}
	u, err = c.a.opt.Admin.SetUserAllowFrom(c.r.Context(), c.who, u.Name, req.AllowFrom)
	if err != nil {
		return err
	}
	return c.ok(map[string][]string{"allow_from": nonNil(u.AllowFrom)})
}

type applyResp struct {
	Changes []applyChange `json:"changes"`
	// Secrets of the robots created, shown this once (none in a dry run).
	Secrets []robotSecretResp `json:"secrets"`
}

type applyChange struct {
	Op   string `json:"op"`
	What string `json:"what"`
}

type robotSecretResp struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

// applyPolicy is `authserver apply` over the API: the document as JSON,
// dry_run and prune as query parameters.
func (c *call) applyPolicy() error {
	var doc admin.PolicyDocument
	if err := c.decode(&doc); err != nil {
		return err
	}
	var opt admin.ApplyOptions
	for name, dst := range map[string]*bool{"dry_run": &opt.DryRun, "prune": &opt.Prune} {
		if v := c.r.URL.Query().Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return badf("%s %q: want true or false", name, v)
			}
			*dst = b
		}
	}
	res, err := c.a.opt.Admin.Apply(c.r.Context(), c.who, doc, opt)
	if err != nil {
		return err
	}
	out := applyResp{Changes: []applyChange{}, Secrets: []robotSecretResp{}}
	for _, ch := range res.Changes {
		out.Changes = append(out.Changes, applyChange{ch.Op, ch.What})
	}
	for _, s := range res.Secrets {
		out.Secrets = append(out.Secrets, robotSecretResp{s.Login, s.Secret})
	}
	return c.ok(out)
}

func (c *call) exportPolicy() error {
	doc, err := c.a.opt.Admin.Export(c.r.Context(), c.who)
	if err != nil {
		return err
	}
	return c.ok(doc)
}
