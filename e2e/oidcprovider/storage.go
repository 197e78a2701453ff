package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Lifetimes of what the provider hands out.
const (
	codeLifetime    = 5 * time.Minute
	accessLifetime  = 5 * time.Minute
	refreshLifetime = 8 * time.Hour
	sessionLifetime = 8 * time.Hour
)

// storage is op.Storage in memory: everything a restart forgets (requests,
// codes, tokens, grants and browser sessions) lives here.
type storage struct {
	users  map[string]*user // by username
	byID   map[string]*user // by sub
	client *client
	key    *rsa.PrivateKey
	keyID  string
	rotate bool

	mu       sync.Mutex
	requests map[string]*authRequest
	codes    map[string]string // code → request id
	access   map[string]*accessToken
	grants   map[string]*grant  // by refresh token
	sessions map[string]session // browser session cookie → who signed in
}

// session is a browser's sign-in at the provider.
type session struct {
	userID  string
	at      time.Time
	expires time.Time
}

func newStorage(users []*user, c *client, key *rsa.PrivateKey, rotate bool) *storage {
	s := &storage{
		users: map[string]*user{}, byID: map[string]*user{}, client: c, key: key, rotate: rotate,
		requests: map[string]*authRequest{}, codes: map[string]string{}, access: map[string]*accessToken{},
		grants: map[string]*grant{}, sessions: map[string]session{},
	}
	for _, u := range users {
		s.users[u.Username], s.byID[u.Sub] = u, u
	}
	// The key id is its JWK thumbprint: the same key gives the same kid.
	jwk := jose.JSONWebKey{Key: &key.PublicKey}
	tp, _ := jwk.Thumbprint(crypto.SHA256)
	s.keyID = base64.RawURLEncoding.EncodeToString(tp)
	return s
}

var (
	_ op.Storage                   = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
)

func randomID() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// --- the login form's side ---

// checkPassword reports the user with this name and password, or nil.
func (s *storage) checkPassword(username, password string) *user {
	u := s.users[username]
	if u == nil || subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) != 1 {
		return nil
	}
	return u
}

// completeRequest marks the request signed in as userID.
func (s *storage) completeRequest(id, userID string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[id]
	if !ok {
		return errors.New("unknown or finished sign-in request")
	}
	r.userID, r.authTime, r.done = userID, at, true
	return nil
}

// request returns a pending request (for the login page).
func (s *storage) request(id string) (*authRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[id]
	return r, ok
}

func (s *storage) newSession(userID string, now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := randomID()
	s.sessions[id] = session{userID: userID, at: now, expires: now.Add(sessionLifetime)}
	return id
}

func (s *storage) session(id string, now time.Time) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[id]
	if !ok || now.After(ss.expires) {
		delete(s.sessions, id)
		return session{}, false
	}
	return ss, true
}

func (s *storage) endSession(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, id)
}

// --- op.AuthStorage ---

// CreateAuthRequest keeps a validated authorization request. This provider
// is stricter than the spec on purpose, to catch a client that forgets one:
// PKCE with S256 and a nonce are required.
func (s *storage) CreateAuthRequest(_ context.Context, ar *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	if ar.CodeChallenge == "" || ar.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("this provider requires PKCE with S256")
	}
	if ar.Nonce == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("this provider requires a nonce")
	}
	if slices.Contains(ar.Prompt, oidc.PromptNone) {
		return nil, oidc.ErrLoginRequired()
	}
	r := &authRequest{
		id: randomID(), created: time.Now(), clientID: ar.ClientID, redirect: ar.RedirectURI, state: ar.State,
		nonce: ar.Nonce, scopes: ar.Scopes, respType: ar.ResponseType, respMode: ar.ResponseMode,
		challenge: &oidc.CodeChallenge{Challenge: ar.CodeChallenge, Method: ar.CodeChallengeMethod},
		prompt:    ar.Prompt, userID: userID,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[r.id] = r
	return r, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[id]
	if !ok {
		return nil, errors.New("auth request not found")
	}
	return r, nil
}

// AuthRequestByCode finds the request of a code; a code lives codeLifetime
// and is used once (DeleteAuthRequest forgets it).
func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[s.codes[code]]
	if !ok || time.Since(r.created) > codeLifetime {
		return nil, errors.New("code invalid or expired")
	}
	return r, nil
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

func (s *storage) newAccess(userID, clientID, refresh string, scopes []string) *accessToken {
	t := &accessToken{id: randomID(), userID: userID, clientID: clientID, scopes: scopes,
		expires: time.Now().Add(accessLifetime), refresh: refresh}
	s.access[t.id] = t
	return t
}

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.newAccess(req.GetSubject(), s.client.id, "", req.GetScopes())
	return t.id, t.expires, nil
}

// CreateAccessAndRefreshTokens issues a grant on a code exchange with
// offline_access, or refreshes one (rotating the refresh token with
// -rotate-refresh-tokens, else keeping it).
func (s *storage) CreateAccessAndRefreshTokens(_ context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if current == "" {
		ar, ok := req.(*authRequest)
		if !ok {
			return "", "", time.Time{}, fmt.Errorf("unexpected token request %T", req)
		}
		g := &grant{token: randomID(), userID: ar.userID, clientID: ar.clientID, scopes: ar.scopes,
			authTime: ar.authTime, amr: ar.GetAMR(), expires: now.Add(refreshLifetime)}
		s.grants[g.token] = g
		t := s.newAccess(g.userID, g.clientID, g.token, g.scopes)
		g.access = t.id
		return t.id, g.token, t.expires, nil
	}
	g, ok := s.grants[current]
	if !ok || now.After(g.expires) {
		delete(s.grants, current)
		return "", "", time.Time{}, errors.New("invalid refresh token")
	}
	delete(s.access, g.access)
	if s.rotate {
		delete(s.grants, current)
		g.token = randomID()
		s.grants[g.token] = g
	}
	g.scopes = req.GetScopes()
	t := s.newAccess(g.userID, g.clientID, g.token, g.scopes)
	g.access = t.id
	return t.id, g.token, t.expires, nil
}

func (s *storage) TokenRequestByRefreshToken(_ context.Context, token string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.grants[token]
	if !ok || time.Now().After(g.expires) {
		return nil, errors.New("invalid refresh token")
	}
	// A copy: the exchange may narrow the scopes before it succeeds.
	cp := *g
	return &refreshRequest{g: &cp}, nil
}

// TerminateSession ends a user's grants to a client (end_session).
func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok, g := range s.grants {
		if g.userID == userID && g.clientID == clientID {
			delete(s.grants, tok)
		}
	}
	for id, t := range s.access {
		if t.userID == userID && t.clientID == clientID {
			delete(s.access, id)
		}
	}
	for id, ss := range s.sessions {
		if ss.userID == userID {
			delete(s.sessions, id)
		}
	}
	return nil
}

func (s *storage) RevokeToken(_ context.Context, tokenOrID, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.access[tokenOrID]; ok {
		if t.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.access, tokenOrID)
		return nil
	}
	if g, ok := s.grants[tokenOrID]; ok {
		if g.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.grants, tokenOrID)
		delete(s.access, g.access)
	}
	return nil
}

func (s *storage) GetRefreshTokenInfo(_ context.Context, _ string, token string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.grants[token]
	if !ok {
		return "", "", op.ErrInvalidRefreshToken
	}
	return g.userID, g.token, nil
}

// signingKey is the provider's one RS256 key.
type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

type publicKey struct{ signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) {
	return signingKey{id: s.keyID, key: s.key}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{signingKey{id: s.keyID, key: s.key}}}, nil
}

// --- op.OPStorage ---

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	if id != s.client.id {
		return nil, errors.New("client not found")
	}
	return s.client, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	if id != s.client.id || subtle.ConstantTimeCompare([]byte(secret), []byte(s.client.secret)) != 1 {
		return errors.New("invalid client credentials")
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromRequest(_ context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.userinfo(ui, req.GetSubject(), scopes)
}

func (s *storage) SetUserinfoFromToken(_ context.Context, ui *oidc.UserInfo, tokenID, _, _ string) error {
	s.mu.Lock()
	t, ok := s.access[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(t.expires) {
		return errors.New("access token invalid or expired")
	}
	return s.userinfo(ui, t.userID, t.scopes)
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, in *oidc.IntrospectionResponse, tokenID, _, clientID string) error {
	s.mu.Lock()
	t, ok := s.access[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(t.expires) || t.clientID != clientID {
		return errors.New("access token invalid")
	}
	ui := new(oidc.UserInfo)
	if err := s.userinfo(ui, t.userID, t.scopes); err != nil {
		return err
	}
	in.SetUserInfo(ui)
	in.Scope, in.ClientID, in.Expiration = t.scopes, t.clientID, oidc.FromTime(t.expires)
	return nil
}

// userinfo fills the claims of a user for the granted scopes; groups are
// always sent (as Okta, Entra ID and Keycloak can be set up to).
func (s *storage) userinfo(ui *oidc.UserInfo, userID string, scopes []string) error {
	u := s.byID[userID]
	if u == nil {
		return errors.New("user not found")
	}
	ui.Subject = u.Sub
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeEmail:
			ui.Email, ui.EmailVerified = u.Email, oidc.Bool(u.Email != "")
		case oidc.ScopeProfile:
			ui.PreferredUsername, ui.Name = u.Username, u.Name
		}
	}
	ui.AppendClaims("groups", u.Groups)
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT profile grants are not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT profile grants are not supported")
}

func (s *storage) Health(context.Context) error { return nil }
