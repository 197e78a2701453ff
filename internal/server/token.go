package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/token"
)

// tokenResponse is the JSON answer of the token endpoint (PROTOCOL.md,
// "Response"): token and access_token are equal.
type tokenResponse struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	// TokenType is "Bearer" on POST, as OAuth2 clients expect.
	TokenType string `json:"token_type,omitempty"`
	ExpiresIn int    `json:"expires_in"`
	IssuedAt  string `json:"issued_at"`
	// Scope is, on POST only, the granted scopes space-joined (entries
	// with no granted action left out).
	Scope string `json:"scope,omitempty"`
	// RefreshToken is present only when offline access was asked (or on a
	// refresh grant, which hands back the token it was given).
	RefreshToken string `json:"refresh_token,omitempty"`
}

// handleTokenGet is GET /service/token and GET /token: the classic token
// request with Basic credentials (or none, for anonymous).
func (s *Server) handleTokenGet(w http.ResponseWriter, r *http.Request) {
	req, rerr := s.parseGet(r)
	if rerr != nil {
		writeError(w, rerr.status, rerr.code, rerr.message)
		return
	}
	s.serveToken(w, r, req)
}

// handleTokenPost is POST /service/token and POST /token: the OAuth2 token
// request (password or refresh_token grant).
func (s *Server) handleTokenPost(w http.ResponseWriter, r *http.Request) {
	req, rerr := s.parsePost(w, r)
	if rerr != nil {
		writeError(w, rerr.status, rerr.code, rerr.message)
		return
	}
	s.serveToken(w, r, req)
}

// serveToken is the one pipeline behind both methods: authenticate →
// authorize → issue → respond.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request, req tokenRequest) {
	log := s.logFor(r)
	id, ok := s.authenticate(w, r, req)
	if !ok {
		return
	}
	subj := authz.Subject{
		Anonymous: req.grant == grantAnonymous,
		Name:      id.Name,
		UserID:    id.UserID,
		Admin:     id.Admin,
		GroupDNs:  id.GroupDNs,
	}
	if id.Robot != nil {
		subj.Robot = &authz.RobotPermissions{Project: id.Robot.Project, Actions: id.Robot.Actions}
	}
	decisions, err := s.opts.Authorizer.Authorize(r.Context(), subj, req.scopes)
	if err != nil {
		log.Error("authorization backend failed", "user", id.Name, "err", err)
		writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "permission store unavailable, try again later")
		return
	}
	access := make([]token.ResourceActions, len(decisions))
	for i, d := range decisions {
		access[i] = token.ResourceActions{Type: d.Scope.Type, Name: d.Scope.Name, Actions: d.Granted}
	}
	tok, err := s.opts.Issuer.Issue(id.Name, access)
	if err != nil {
		log.Error("signing failed", "err", err)
		writeError(w, http.StatusInternalServerError, "UNKNOWN", "cannot sign token")
		return
	}
	resp := tokenResponse{
		Token:       tok.Raw,
		AccessToken: tok.Raw,
		ExpiresIn:   tok.ExpiresIn(),
		IssuedAt:    tok.IssuedAt.UTC().Format(time.RFC3339),
	}
	if req.post {
		resp.TokenType = "Bearer"
		resp.Scope = strings.Join(grantedScopes(decisions), " ")
	}
	switch {
	case req.grant == grantRefresh:
		resp.RefreshToken = req.refreshToken
	case req.offline && s.opts.Refresh != nil && authn.Refreshable(id):
		rt, err := s.opts.Refresh.Issue(r.Context(), id, req.service, req.clientID)
		if err != nil {
			log.Error("cannot issue refresh token", "user", id.Name, "err", err)
			writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "cannot store refresh token, try again later")
			return
		}
		resp.RefreshToken = rt
	}
	log.Info("token issued", "user", id.Name, "method", id.Method, "grant", req.grant, "client_id", req.clientID,
		"requested", scopeStrings(req.scopes), "granted", grantedStrings(decisions),
		"refresh_token", resp.RefreshToken != "" && req.grant != grantRefresh)
	writeJSON(w, resp)
}

// authenticate establishes the caller's identity. On failure it has
// answered (401, or 503 when a backend could not be asked) and ok is false.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, req tokenRequest) (authn.Identity, bool) {
	log := s.logFor(r)
	var (
		id  authn.Identity
		ok  bool
		err error
	)
	switch req.grant {
	case grantAnonymous:
		return authn.Identity{Method: authn.MethodAnonymous}, true
	case grantRefresh:
		id, ok, err = s.opts.Refresh.Redeem(r.Context(), req.refreshToken, req.service, req.clientID)
	default: // grantBasic, grantPassword
		id, ok, err = s.opts.Passwords.Login(r.Context(), req.username, req.password)
	}
	if err != nil {
		log.Error("authentication backend failed", "user", req.username, "grant", req.grant, "err", err)
		writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "authentication backend unavailable, try again later")
		return id, false
	}
	if !ok {
		log.Info("authentication failed", "user", req.username, "grant", req.grant, "client_id", req.clientID)
		if req.grant == grantRefresh {
			s.unauthorizedMsg(w, "authentication required: invalid, expired or revoked refresh token")
		} else {
			s.unauthorized(w)
		}
		return id, false
	}
	if req.account != "" && req.account != id.Name {
		log.Info("account hint differs from authenticated user; ignored", "account", req.account, "user", id.Name)
	}
	return id, true
}

// unauthorized answers 401 with a Basic challenge, so clients know to send
// (different) credentials.
func (s *Server) unauthorized(w http.ResponseWriter) {
	s.unauthorizedMsg(w, "authentication required: bad username or password")
}

func (s *Server) unauthorizedMsg(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="`+s.opts.Realm+`"`)
	writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", msg)
}

func scopeStrings(scopes []authz.Scope) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = s.String()
	}
	return out
}

func grantedStrings(ds []authz.Decision) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Scope.Type + ":" + d.Scope.Name + ":" + strings.Join(d.Granted, ",")
	}
	return out
}

// grantedScopes is the OAuth2 "scope" of the answer: the granted scopes in
// type:name:actions form, leaving out those with nothing granted.
func grantedScopes(ds []authz.Decision) []string {
	var out []string
	for _, d := range ds {
		if len(d.Granted) > 0 {
			out = append(out, d.Scope.Type+":"+d.Scope.Name+":"+strings.Join(d.Granted, ","))
		}
	}
	return out
}
