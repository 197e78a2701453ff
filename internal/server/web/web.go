package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/oidc"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/metrics"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/throttle"
)

// Cookies.
const (
	// SessionCookie holds a browser's session: 256 random bits, stored
	// only as their SHA-256 (store.WebSession).
	SessionCookie = "authserver_session"
	// loginCookie holds a sign-in under way: its state and PKCE verifier.
	loginCookie = "authserver_login"
)

// SessionTTL bounds a browser session; it never outlives its sign-in.
const SessionTTL = 12 * time.Hour

// CSP allows nothing but the page's own stylesheet and forms posting to
// itself: no script at all, no frames, no other origin.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Store is what the pages read and write themselves (credentials go
// through admin).
type Store interface {
	CreateWebSession(ctx context.Context, w *store.WebSession) error
	GetWebSession(ctx context.Context, hash string) (store.WebSession, error)
	DeleteWebSession(ctx context.Context, hash string) error
	GetSignIn(ctx context.Context, id int64) (store.SignIn, error)
	GetOIDCUser(ctx context.Context, name string) (store.OIDCUser, error)
}

// Options are New's.
type Options struct {
	Provider *oidc.Provider
	Devices  *oidc.Devices
	Store    Store
	// Accounts re-checks the signed-in user at every request (disabled,
	// deleted, sign-in ended or refused by recheck: signed out).
	Accounts *authn.Accounts
	// Admin makes and revokes credentials and writes the audit records of
	// sign-ins and device approvals.
	Admin *admin.Service
	// PublicURL is server.public_url: whether cookies are Secure (https).
	PublicURL string
	// Registry is the registry host the login lines name
	// (config.Registry.LoginHost).
	Registry string
	// ClientIP resolves a request's client address (server.ClientIP).
	ClientIP func(*http.Request) string
	// Starts bounds the sign-ins a client network may start per minute
	// at /login (each keeps a row for 10 minutes); nil: no bound.
	// Network maps a client IP to its network (nil: the IP itself).
	Starts  *throttle.Starts
	Network func(ip string) string
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	Now     func() time.Time
}

//go:embed assets
var assets embed.FS

// Handler serves the pages.
type Handler struct {
	o      Options
	secure bool
	// base is public_url's path ("" or "/auth"): every link, redirect and
	// cookie path the browser sees starts with it.
	base   string
	pages  map[string]*template.Template
	css    []byte
	router chi.Router
}

// New returns the pages' handler.
func New(o Options) (*Handler, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ClientIP == nil {
		o.ClientIP = func(r *http.Request) string { return r.RemoteAddr }
	}
	h := &Handler{o: o, secure: strings.HasPrefix(o.PublicURL, "https://"), pages: map[string]*template.Template{}}
	if u, err := url.Parse(o.PublicURL); err == nil {
		h.base = strings.TrimRight(u.Path, "/")
	}
	for _, name := range []string{"home", "device", "message"} {
		t, err := template.ParseFS(assets, "assets/page.html", "assets/"+name+".html")
		if err != nil {
			return nil, err
		}
		h.pages[name] = t
	}
	css, err := assets.ReadFile("assets/style.css")
	if err != nil {
		return nil, err
	}
	h.css = css
	r := chi.NewRouter()
	r.Get("/assets/style.css", h.style)
	r.Get("/login", h.login)
	r.Get("/login/callback", h.callback)
	r.Post("/logout", h.logout)
	r.Get("/", h.home)
	r.Post("/tokens", h.createPAT)
	r.Post("/tokens/{name}/revoke", h.revokePAT)
	r.Post("/refresh-tokens/{id}/revoke", h.revokeRefresh)
	r.Get("/device", h.device)
	r.Post("/device", h.decide)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		h.message(w, r, http.StatusNotFound, "Not found", "There is no such page.", nil)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		h.message(w, r, http.StatusMethodNotAllowed, "Not allowed", "This page does not take "+r.Method+".", nil)
	})
	h.router = r
	return h, nil
}

// Paths are the paths the pages answer, for the server's router.
var Paths = []string{"/", "/assets/*", "/login", "/login/*", "/logout", "/tokens", "/tokens/*", "/refresh-tokens/*", "/device"}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", "no-store")
	h.router.ServeHTTP(w, r)
}

func (h *Handler) style(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(h.css)
}

// view is what a page template reads.
type view struct {
	// Base prefixes every link (public_url's path).
	Base                 string
	Title, Error, Notice string
	User, CSRF           string
	// message pages
	Next, NextText string
	// home
	SessionEnds, Registry, DefaultDays string
	NewName, NewSecret                 string
	PATs                               []patRow
	Refresh                            []refreshRow
	Projects                           []projectRow
	Groups                             []string
	// device
	Device *deviceView
}

type patRow struct{ Name, Created, Expires, LastUsed string }
type refreshRow struct {
	ID                                 int64
	Client, Created, LastUsed, Expires string
}
type projectRow struct {
	Name, Role string
	Public     bool
}
type deviceView struct{ ClientID, Scope, UserCode string }

func (h *Handler) render(w http.ResponseWriter, status int, page string, v view) {
	v.Base = h.base
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := h.pages[page].ExecuteTemplate(w, "page", v); err != nil {
		h.o.Logger.Error("render page", "page", page, "err", err)
	}
}

// message renders a page that says one thing (an error, a result).
func (h *Handler) message(w http.ResponseWriter, r *http.Request, status int, title, text string, s *session) {
	v := view{Title: title}
	if status >= 400 {
		v.Error = text
	} else {
		v.Notice = text
	}
	if s != nil {
		v.User, v.CSRF = s.id.Name, s.web.CSRF
	}
	if status >= 400 && status != http.StatusNotFound {
		switch {
		case s != nil || r.Method == http.MethodPost:
			v.Next, v.NextText = h.base+"/", "Back to your credentials"
		case strings.HasPrefix(r.URL.Path, "/login"):
			v.Next, v.NextText = h.base+"/login", "Sign in again"
		default:
			v.Next, v.NextText = h.loginURL(r), "Sign in"
		}
	}
	h.render(w, status, "message", v)
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// loginURL is /login coming back to r's page.
func (h *Handler) loginURL(r *http.Request) string {
	return h.base + "/login?next=" + url.QueryEscape(oidc.SafeNext(r.URL.RequestURI()))
}

// redirect sends the browser to path (of authserver's own, without base).
func (h *Handler) redirect(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, h.base+path, http.StatusSeeOther)
}

func (h *Handler) setCookie(w http.ResponseWriter, name, value, path string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: h.base + path, MaxAge: maxAge, HttpOnly: true,
		Secure: h.secure, SameSite: http.SameSiteLaxMode})
}

// session is the signed-in browser.
type session struct {
	web store.WebSession
	id  authn.Identity
}

// errSignedOut is a request without a live session.
var errSignedOut = errors.New("not signed in")

// current returns the browser's session, re-checking the user: an error
// that is not errSignedOut means the check could not be made (503).
func (h *Handler) current(r *http.Request) (*session, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return nil, errSignedOut
	}
	ctx := r.Context()
	ws, err := h.o.Store.GetWebSession(ctx, secret.Hash(c.Value))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errSignedOut
	case err != nil:
		return nil, err
	case !h.o.Now().Before(ws.ExpiresAt):
		return nil, errSignedOut
	}
	id, why, err := h.o.Accounts.Current(ctx, ws.User, authn.MethodSSO, ws.CreatedAt)
	if err != nil {
		return nil, err
	}
	if why == "" && id.UserID != ws.UserID {
		why = "user was re-created"
	}
	if why == "" {
		if why, err = h.o.Accounts.SignIn(ctx, ws.SignInID); err != nil {
			return nil, err
		}
	}
	if why != "" {
		h.o.Logger.Info("web session ended", "user", ws.User, "reason", why)
		return nil, errSignedOut
	}
	si, err := h.o.Store.GetSignIn(ctx, ws.SignInID)
	if err != nil {
		return nil, err
	}
	id.SignInID, id.NotAfter = ws.SignInID, si.ExpiresAt
	return &session{web: ws, id: id}, nil
}

// signedIn runs fn with the browser's session; without one a GET goes to
// /login and comes back, anything else is 401.
func (h *Handler) signedIn(fn func(w http.ResponseWriter, r *http.Request, s *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := h.current(r)
		switch {
		case errors.Is(err, errSignedOut) && r.Method == http.MethodGet:
			http.Redirect(w, r, h.loginURL(r), http.StatusSeeOther)
			return
		case errors.Is(err, errSignedOut):
			h.message(w, r, http.StatusUnauthorized, "Signed out", "Your session has ended: sign in again.", nil)
			return
		case err != nil:
			h.fail(w, r, err, nil)
			return
		}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil || !validCSRF(r.PostForm.Get("csrf"), s.web.CSRF) {
				h.message(w, r, http.StatusForbidden, "Refused", "The form is stale or did not come from this page (CSRF token): reload the page and try again.", s)
				return
			}
		}
		fn(w, r, s)
	}
}

func validCSRF(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// actor is the signed-in person as admin sees them.
func (h *Handler) actor(r *http.Request, s *session) admin.Actor {
	return admin.Actor{Name: s.id.Name, Admin: s.id.Admin, UserID: s.id.UserID, ClientIP: h.o.ClientIP(r),
		Method: authn.MethodSSO, SignInID: s.id.SignInID, SignInEnds: s.id.NotAfter}
}
