package server

import (
	"encoding/base64"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/login"
	"github.com/authserver/authserver/internal/server/errcode"
)

// MaxFormBytes bounds a POST body: a token request is a few hundred bytes,
// and authz.MaxScopes scopes fit easily.
const MaxFormBytes = 1 << 20

// MaxFieldBytes bounds every name a client sends (username, account,
// client_id, service, the Basic user): longer ones get 400 before any
// credential is checked, so they reach neither bcrypt, LDAP, the throttle,
// the audit trail nor the log.
const MaxFieldBytes = 256

// How the caller proves who it is.
const (
	grantAnonymous = "anonymous"         // GET without Authorization
	grantBasic     = login.GrantBasic    // GET with Authorization: Basic
	grantPassword  = login.GrantPassword // POST grant_type=password
	grantRefresh   = login.GrantRefresh  // POST grant_type=refresh_token
	// grantDevice is RFC 8628's device_code grant: the CLI's poll after
	// POST /oauth/device/code (only with oidc: configured).
	grantDevice = "urn:ietf:params:oauth:grant-type:device_code"
)

// tokenRequest is one token request, GET or POST, after parsing: the rest of
// the pipeline (authenticate → authorize → issue → respond) does not care
// which method it came by.
type tokenRequest struct {
	post     bool
	grant    string // one of the grant* constants
	service  string // never empty: defaults to the issuer's service
	clientID string // audit hint; bound into refresh tokens
	account  string // GET's account hint (audit only, never trusted)
	scopes   []authz.Scope
	// offline asks for a refresh token: GET offline_token=true, POST
	// access_type=offline.
	offline bool
	// username and password for grantBasic and grantPassword.
	username, password string
	// refreshToken for grantRefresh.
	refreshToken string
	// deviceCode for grantDevice.
	deviceCode string
}

func badRequest(msg string) *errcode.Error {
	return &errcode.Error{Status: http.StatusBadRequest, Code: "INVALID_REQUEST", Message: msg}
}

// parseGet reads GET /service/token?service=&scope=&offline_token=&client_id=&account=
// with optional Basic credentials.
func (s *Server) parseGet(r *http.Request) (tokenRequest, *errcode.Error) {
	q := r.URL.Query()
	req := tokenRequest{
		clientID: q.Get("client_id"),
		account:  q.Get("account"),
		offline:  parseBool(q.Get("offline_token")),
	}
	if rerr := checkLengths("client_id", req.clientID, "account", req.account); rerr != nil {
		return req, rerr
	}
	if rerr := s.parseCommon(&req, q.Get("service"), q["scope"]); rerr != nil {
		return req, rerr
	}
	user, pass, present, err := parseBasic(r.Header.Get("Authorization"))
	if err != nil {
		return req, badRequest(err.Error())
	}
	if rerr := checkLengths("username", user); rerr != nil {
		return req, rerr
	}
	req.grant = grantAnonymous
	if present {
		req.grant, req.username, req.password = grantBasic, user, pass
	}
	return req, nil
}

// parsePost reads an OAuth2 token request (PROTOCOL.md, "OAuth2 POST"): an
// application/x-www-form-urlencoded body of at most MaxFormBytes with
// grant_type, service, client_id, access_type, scope (one space-joined
// field and/or repeated fields), and username+password or refresh_token.
// Only the body counts: query parameters of a POST are ignored, so secrets
// in URLs are never used.
func (s *Server) parsePost(w http.ResponseWriter, r *http.Request) (tokenRequest, *errcode.Error) {
	req := tokenRequest{post: true}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return req, badRequest("POST body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return req, &errcode.Error{Status: http.StatusRequestEntityTooLarge, Code: "INVALID_REQUEST", Message: "request body too large"}
		}
		return req, badRequest("malformed form body")
	}
	f := r.PostForm
	req.clientID = f.Get("client_id")
	req.offline = f.Get("access_type") == "offline"
	if rerr := checkLengths("client_id", req.clientID, "username", f.Get("username")); rerr != nil {
		return req, rerr
	}
	if rerr := s.parseCommon(&req, f.Get("service"), f["scope"]); rerr != nil {
		return req, rerr
	}
	switch gt := f.Get("grant_type"); gt {
	case grantPassword:
		req.grant, req.username, req.password = grantPassword, f.Get("username"), f.Get("password")
		if req.username == "" {
			return req, badRequest("grant_type=password needs username")
		}
	case grantRefresh:
		req.grant, req.refreshToken = grantRefresh, f.Get("refresh_token")
		if req.refreshToken == "" {
			return req, badRequest("grant_type=refresh_token needs refresh_token")
		}
		if s.opts.Refresh == nil {
			return req, &errcode.Error{Status: http.StatusBadRequest, Code: "UNSUPPORTED", Message: "refresh tokens are not enabled"}
		}
	case grantDevice:
		if s.opts.Device == nil {
			return req, &errcode.Error{Status: http.StatusBadRequest, Code: "UNSUPPORTED", Message: "the device flow needs oidc: in the configuration"}
		}
		req.grant, req.deviceCode, req.offline = grantDevice, f.Get("device_code"), true
		if req.deviceCode == "" || req.clientID == "" {
			return req, badRequest("grant_type=" + grantDevice + " needs device_code and client_id")
		}
		if rerr := checkLengths("device_code", req.deviceCode); rerr != nil {
			return req, rerr
		}
	case "":
		return req, badRequest("missing grant_type: want password or refresh_token")
	default:
		return req, &errcode.Error{Status: http.StatusBadRequest, Code: "UNSUPPORTED",
			Message: "unsupported grant_type " + strconv.Quote(gt) + ": want password or refresh_token"}
	}
	return req, nil
}

// parseCommon checks the service and parses the scopes.
func (s *Server) parseCommon(req *tokenRequest, service string, scopes []string) *errcode.Error {
	if rerr := checkLengths("service", service); rerr != nil {
		return rerr
	}
	if service != "" && service != s.opts.Issuer.Service() {
		return badRequest("unknown service " + strconv.Quote(service))
	}
	req.service = s.opts.Issuer.Service()
	var err error
	if req.scopes, err = authz.ParseScopes(scopes); err != nil {
		return badRequest(err.Error())
	}
	return nil
}

// checkLengths takes pairs of field name and value and refuses the first
// value over MaxFieldBytes.
func checkLengths(pairs ...string) *errcode.Error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if n := len(pairs[i+1]); n > MaxFieldBytes {
			return badRequest(pairs[i] + " too long: " + strconv.Itoa(n) + " bytes, at most " + strconv.Itoa(MaxFieldBytes))
		}
	}
	return nil
}

// parseBool is strconv.ParseBool's true, anything else false, without
// building ParseBool's error for the absent parameter of every request.
func parseBool(s string) bool {
	switch s {
	case "1", "t", "T", "TRUE", "true", "True":
		return true
	}
	return false
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
