package server

import (
	"encoding/base64"
	"errors"
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
	ExpiresIn   int    `json:"expires_in"`
	IssuedAt    string `json:"issued_at"`
}

// errBadBasic is a malformed Authorization: Basic header.
var errBadBasic = errors.New("malformed Basic credentials")

// parseBasic reads Authorization. present is false when there is none.
// A scheme other than Basic is reported as present with ok false, so it is
// treated as bad credentials rather than as anonymous.
func parseBasic(h string) (user, pass string, present bool, err error) {
	if h == "" {
		return "", "", false, nil
	}
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", true, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return "", "", true, errBadBasic
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", true, errBadBasic
	}
	return user, pass, true, nil
}

// handleTokenGet is GET /service/token and GET /token: the classic token
// request with Basic credentials (or none, for anonymous).
func (s *Server) handleTokenGet(w http.ResponseWriter, r *http.Request) {
	log := s.logFor(r)
	q := r.URL.Query()
	if svc := q.Get("service"); svc != "" && svc != s.opts.Issuer.Service() {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "unknown service "+svc)
		return
	}
	scopes, err := authz.ParseScopes(q["scope"])
	if err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
		return
	}

	user, pass, present, err := parseBasic(r.Header.Get("Authorization"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
		return
	}
	id := authn.Identity{Method: authn.MethodAnonymous}
	if present {
		var ok bool
		id, ok, err = s.opts.Passwords.Login(r.Context(), user, pass)
		if err != nil {
			log.Error("authentication backend failed", "user", user, "err", err)
			writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "authentication backend unavailable, try again later")
			return
		}
		if !ok {
			log.Info("authentication failed", "user", user)
			s.unauthorized(w)
			return
		}
		if acct := q.Get("account"); acct != "" && acct != id.Name {
			log.Info("account hint differs from authenticated user; ignored", "account", acct, "user", id.Name)
		}
	}

	subj := authz.Subject{
		Anonymous: !present,
		Name:      id.Name,
		UserID:    id.UserID,
		Admin:     id.Admin,
		GroupDNs:  id.GroupDNs,
	}
	decisions, err := s.opts.Authorizer.Authorize(r.Context(), subj, scopes)
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
	log.Info("token issued", "user", id.Name, "method", id.Method, "client_id", q.Get("client_id"),
		"requested", scopeStrings(scopes), "granted", grantedStrings(decisions))
	writeJSON(w, tokenResponse{
		Token:       tok.Raw,
		AccessToken: tok.Raw,
		ExpiresIn:   tok.ExpiresIn(),
		IssuedAt:    tok.IssuedAt.UTC().Format(time.RFC3339),
	})
}

// unauthorized answers 401 with a Basic challenge, so clients know to send
// (different) credentials.
func (s *Server) unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="`+s.opts.Realm+`"`)
	writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required: bad username or password")
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
