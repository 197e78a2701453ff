package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// user is one entry of the -users file. Sub, when absent, is derived from
// the username, so it stays the same across restarts.
type user struct {
	Sub      string   `json:"sub"`
	Username string   `json:"username"`
	Password string   `json:"password"`
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	Groups   []string `json:"groups"`
}

func loadUsers(path string) ([]*user, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	var users []*user
	if err := json.Unmarshal(b, &users); err != nil {
		return nil, fmt.Errorf("parse users %s: %w", path, err)
	}
	for i, u := range users {
		if u.Username == "" || u.Password == "" {
			return nil, fmt.Errorf("users[%d]: username and password are required", i)
		}
		if u.Sub == "" {
			sum := sha256.Sum256([]byte(u.Username))
			u.Sub = "u-" + hex.EncodeToString(sum[:8])
		}
		if u.Groups == nil {
			u.Groups = []string{}
		}
	}
	return users, nil
}

// loadKey reads the RSA key in path, or makes one (written to path when a
// path is given, so a restarted provider signs with the same key, as a real
// one does).
func loadKey(path string) (*rsa.PrivateKey, error) {
	if path != "" {
		b, err := os.ReadFile(path)
		if err == nil {
			blk, _ := pem.Decode(b)
			if blk == nil {
				return nil, fmt.Errorf("key %s: no PEM block", path)
			}
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("key %s: %w", path, err)
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("key %s: not an RSA key", path)
			}
			return rk, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	if path != "" {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// client is the one registered confidential (web) client: client_secret_basic
// or client_secret_post, authorization code and refresh token grants.
type client struct {
	id, secret string
	redirects  []string
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                       { return c.id }
func (c *client) RedirectURIs() []string              { return c.redirects }
func (c *client) PostLogoutRedirectURIs() []string    { return c.redirects }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) LoginURL(id string) string            { return "/login?authRequestID=" + id }
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration       { return 10 * time.Minute }
func (c *client) DevMode() bool                        { return false }
func (c *client) IsScopeAllowed(scope string) bool     { return scope == "groups" }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// authRequest is one authorization request, from /authorize to the code's
// exchange.
type authRequest struct {
	id        string
	created   time.Time
	clientID  string
	redirect  string
	state     string
	nonce     string
	scopes    []string
	respType  oidc.ResponseType
	respMode  oidc.ResponseMode
	challenge *oidc.CodeChallenge
	prompt    []string
	userID    string
	authTime  time.Time
	done      bool
}

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirect }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.respType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.respMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.userID }
func (a *authRequest) Done() bool                            { return a.done }
func (a *authRequest) GetAMR() []string {
	if a.done {
		return []string{"pwd"}
	}
	return nil
}

// grant is what a refresh token stands for: a user's consent to a client,
// from one sign-in.
type grant struct {
	token    string
	userID   string
	clientID string
	scopes   []string
	authTime time.Time
	amr      []string
	expires  time.Time
	access   string // the id of the access token last issued with it
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

// refreshRequest is a grant as the refresh_token exchange sees it.
type refreshRequest struct{ g *grant }

func (r *refreshRequest) GetAMR() []string            { return r.g.amr }
func (r *refreshRequest) GetAudience() []string       { return []string{r.g.clientID} }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.g.authTime }
func (r *refreshRequest) GetClientID() string         { return r.g.clientID }
func (r *refreshRequest) GetScopes() []string         { return r.g.scopes }
func (r *refreshRequest) GetSubject() string          { return r.g.userID }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.g.scopes = s }

// accessToken is an issued (opaque) access token.
type accessToken struct {
	id       string
	userID   string
	clientID string
	scopes   []string
	expires  time.Time
	refresh  string // the refresh token it came with, if any
}
