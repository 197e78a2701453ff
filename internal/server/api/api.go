package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/server/errcode"
	"github.com/authserver/authserver/internal/throttle"
)

// Limits enforced before any credential is checked.
const (
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes = 1 << 20
	// MaxFieldBytes bounds the Basic user name and every path or query
	// parameter.
	MaxFieldBytes = 256
)

// Options are what the API needs; internal/server mounts the handler New
// returns under /api.
type Options struct {
	// Admin performs every operation, with the caller as its Actor.
	Admin *admin.Service
	// Passwords checks Basic credentials: the same authenticator as the
	// token endpoint's (server.Options.Passwords), so passwords and
	// personal access tokens work; robots are refused with 403.
	Passwords authn.PasswordAuthenticator
	// Throttle counts failed logins together with the token endpoint's;
	// nil never throttles.
	Throttle *throttle.Throttle
	// ClientIP resolves the caller's address (server.ClientIP, which
	// honours trusted proxies); nil uses the TCP peer.
	ClientIP func(*http.Request) string
	// Realm is named in WWW-Authenticate: Basic on a 401.
	Realm string
	// Version is authserver's version, reported as harbor_version.
	Version string
	// AuthMode is Harbor's auth_mode: "ldap_auth" with a directory, else
	// "db_auth".
	AuthMode string
	// RegistryURL is reported by /systeminfo (the registry's public host).
	RegistryURL string
	// RobotPrefix is robots.prefix ("robot$").
	RobotPrefix string
	// AdminOnlyProjects reports api.project_creation: adminonly (admin
	// enforces it; the API only reports it).
	AdminOnlyProjects bool
	Logger            *slog.Logger
	// PublicURL is the server's own URL (server.public_url, or the default
	// config.RealmBase derives from server.addr). A POST, PUT, PATCH or
	// DELETE whose Origin header names another origin is refused with 403
	// (browser.go); empty refuses every request that carries an Origin.
	PublicURL string
}

// API serves the REST API.
type API struct {
	opt Options
	log *slog.Logger
}

// New returns the API's handler, routed relative to /api.
func New(opt Options) http.Handler {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{opt: opt, log: opt.Logger}
	return a.router()
}

// router builds the chi router from routes, the one table that the OpenAPI
// document is built from too.
func (a *API) router() chi.Router {
	r := chi.NewRouter()
	r.Use(a.browserSafe, a.limits)
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "not found: authserver serves only the access-related part of Harbor's API")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "method "+r.Method+" is not supported here")
	})
	for _, rt := range a.routes() {
		r.Method(rt.method, rt.path, a.handle(rt))
	}
	return r
}

// limits refuses oversized bodies and parameters before authentication.
func (a *API) limits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBodyBytes {
			writeError(w, http.StatusRequestEntityTooLarge, "BAD_REQUEST", fmt.Sprintf("body larger than %d bytes", MaxBodyBytes))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		for k, vs := range r.URL.Query() {
			for _, v := range vs {
				if len(k) > MaxFieldBytes || len(v) > MaxFieldBytes {
					writeError(w, http.StatusBadRequest, "BAD_REQUEST", fmt.Sprintf("query parameter %.64s too long: at most %d bytes", k, MaxFieldBytes))
					return
				}
			}
		}
		if len(r.URL.Path) > 4*MaxFieldBytes {
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "path too long")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// route is one endpoint.
type route struct {
	method, path, summary string
	// anonymous routes serve callers without credentials too (as the
	// anonymous actor); others answer 401 first.
	anonymous bool
	// body and result name the request and 2XX response schemas in the
	// OpenAPI document (schemas.go); "" when not described.
	body, result string
	fn           func(*call) error
}

// call is one request being served.
type call struct {
	w   http.ResponseWriter
	r   *http.Request
	who admin.Actor
	a   *API
}

func (a *API) handle(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &call{w: w, r: r, a: a}
		who, ok := a.authenticate(w, r, rt.anonymous)
		if !ok {
			return
		}
		c.who = who
		if err := rt.fn(c); err != nil {
			a.fail(w, r, err)
		}
	}
}

func (a *API) clientIP(r *http.Request) string {
	if a.opt.ClientIP != nil {
		return a.opt.ClientIP(r)
	}
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// authenticate turns Basic credentials into the actor. Without
// credentials the actor is anonymous, which only anonymous routes serve.
// A failed login counts against the throttle, as at the token endpoint.
func (a *API) authenticate(w http.ResponseWriter, r *http.Request, anonymous bool) (admin.Actor, bool) {
	ip := a.clientIP(r)
	h := r.Header.Get("Authorization")
	if h == "" {
		if !anonymous {
			a.unauthorized(w, "authentication required")
			return admin.Actor{}, false
		}
		return admin.Actor{ClientIP: ip}, true
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user == "" || pass == "" {
		a.unauthorized(w, "authentication required: Basic credentials expected")
		return admin.Actor{}, false
	}
	if len(user) > MaxFieldBytes || len(pass) > 4096 {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", fmt.Sprintf("user name too long: at most %d bytes", MaxFieldBytes))
		return admin.Actor{}, false
	}
	if wait, ok := a.opt.Throttle.Check(user, ip); !ok {
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "too many failed logins; retry after "+strconv.Itoa(secs)+"s")
		return admin.Actor{}, false
	}
	id, ok, err := a.opt.Passwords.Login(r.Context(), user, pass)
	if err != nil {
		a.log.Error("api authentication backend failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "authentication backend unavailable, try again later")
		return admin.Actor{}, false
	}
	if !ok {
		a.opt.Throttle.Failure(user, ip)
		a.log.Info("api authentication failed", "user", user, "client_ip", ip)
		a.unauthorized(w, "authentication required: bad username or password")
		return admin.Actor{}, false
	}
	a.opt.Throttle.Success(user, ip)
	if id.Robot != nil {
		writeError(w, http.StatusForbidden, "FORBIDDEN", "robot accounts may not use the API")
		return admin.Actor{}, false
	}
	return admin.Actor{Name: id.Name, Admin: id.Admin, UserID: id.UserID, GroupDNs: id.GroupDNs, ClientIP: ip}, true
}

func (a *API) unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="`+a.opt.Realm+`"`)
	writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", msg)
}

// badRequest is a malformed request found by the API itself.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return &badRequest{fmt.Sprintf(format, args...)} }

// errUnsupportedMedia is a body that is not JSON: 415, as Harbor answers.
var errUnsupportedMedia = errors.New("Content-Type must be application/json")

// fail answers err: admin's kinds map to Harbor's statuses, anything else
// is a backend failure (503) and is logged.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *admin.Error
	var br *badRequest
	var mb *http.MaxBytesError
	switch {
	case errors.Is(err, errUnsupportedMedia):
		writeError(w, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", err.Error())
	case errors.As(err, &br):
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", br.msg)
	case errors.As(err, &mb):
		writeError(w, http.StatusRequestEntityTooLarge, "BAD_REQUEST", fmt.Sprintf("body larger than %d bytes", MaxBodyBytes))
	case errors.As(err, &ae):
		switch ae.Kind {
		case admin.KindNotFound:
			writeError(w, http.StatusNotFound, "NOT_FOUND", ae.Msg)
		case admin.KindExists:
			writeError(w, http.StatusConflict, "CONFLICT", ae.Msg)
		case admin.KindInvalid:
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", ae.Msg)
		case admin.KindForbidden:
			writeError(w, http.StatusForbidden, "FORBIDDEN", ae.Msg)
		default:
			writeError(w, http.StatusInternalServerError, "UNKNOWN", "internal error")
		}
	default:
		if r.Context().Err() == nil {
			a.log.Error("api backend failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "backend unavailable, try again later")
	}
}

// writeError answers with status and Harbor's error body (the registry's
// errcode shape).
func writeError(w http.ResponseWriter, status int, code, msg string) {
	errcode.Write(w, status, code, msg)
}

// json answers status with v.
func (c *call) json(status int, v any) error {
	c.w.Header().Set("Content-Type", "application/json")
	c.w.Header().Set("Cache-Control", "no-store")
	c.w.WriteHeader(status)
	return json.NewEncoder(c.w).Encode(v)
}

func (c *call) ok(v any) error { return c.json(http.StatusOK, v) }

func (c *call) empty(status int) error {
	c.w.WriteHeader(status)
	return nil
}

// done ends a change that answers nothing: err as it is, or 200 with no
// body when the change succeeded.
func (c *call) done(err error) error {
	if err != nil {
		return err
	}
	return c.empty(http.StatusOK)
}

// created answers 201 with Location: the resource's path by id, or by
// name when the request sets X-Resource-Name-In-Location: true.
func (c *call) created(collection string, id int64, name string) error {
	loc := collection + "/" + strconv.FormatInt(id, 10)
	if strings.EqualFold(c.r.Header.Get("X-Resource-Name-In-Location"), "true") && name != "" {
		loc = collection + "/" + name
	}
	c.w.Header().Set("Location", "/api/v2.0"+loc)
	c.w.WriteHeader(http.StatusCreated)
	return nil
}

// decode reads a JSON body into v strictly: unknown fields, wrong types
// and trailing data are 400.
func (c *call) decode(v any) error {
	if !isJSON(c.r) {
		return errUnsupportedMedia
	}
	dec := json.NewDecoder(c.r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return err
		}
		return badf("malformed JSON body: %v", err)
	}
	if dec.More() {
		return badf("malformed JSON body: data after the object")
	}
	return nil
}

func chiParam(c *call, name string) string { return chi.URLParam(c.r, name) }

// id parses the path parameter name as a positive integer.
func (c *call) id(name string) (int64, error) {
	v := chi.URLParam(c.r, name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, badf("%s %q: want a positive integer", name, v)
	}
	return n, nil
}

// byID finds the resource whose id is the path parameter name with get,
// which checks the actor's right to read it.
func byID[T any](c *call, name string, get func(context.Context, admin.Actor, int64) (T, error)) (T, error) {
	id, err := c.id(name)
	if err != nil {
		var zero T
		return zero, err
	}
	return get(c.r.Context(), c.who, id)
}

// show answers 200 with the path's resource, found by find and rendered
// by render.
func show[T, R any](c *call, find func() (T, error), render func(T) R) error {
	v, err := find()
	if err != nil {
		return err
	}
	return c.ok(render(v))
}

// act changes the path's resource: find it (404 when missing), then fn
// with it; 200 with no body when fn succeeds.
func act[T any](c *call, find func() (T, error), fn func(T) error) error {
	v, err := find()
	if err != nil {
		return err
	}
	return c.done(fn(v))
}

// change starts a change to the path's resource: find it (404 before any
// complaint about the body), then decode the body into req.
func change[T any](c *call, find func() (T, error), req any) (T, error) {
	v, err := find()
	if err != nil {
		return v, err
	}
	return v, c.decode(req)
}

// harborTime is Harbor's time format: RFC 3339 UTC.
func harborTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00.000Z"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
