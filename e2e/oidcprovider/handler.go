package main

import (
	"context"
	"html/template"
	"net/http"
	"slices"
	"time"

	"golang.org/x/text/language"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// sessionCookie holds a browser's sign-in at the provider: with it, a
// second authorization request skips the form (unless prompt=login).
const sessionCookie = "oidcprovider_session"

// newHandler serves the provider's endpoints and its login form at /login.
func newHandler(issuer string, st *storage, cryptoKey [32]byte) (http.Handler, error) {
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:             cryptoKey,
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedUILocales:    []language.Tag{language.English},
		SupportedClaims:       append(op.DefaultSupportedClaims, "groups"),
	}, st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		return nil, err
	}
	l := &loginUI{st: st, callback: op.AuthCallbackURL(provider)}
	withIssuer := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	mux := http.NewServeMux()
	mux.Handle("GET /login", withIssuer.HandlerFunc(l.show))
	mux.Handle("POST /login", withIssuer.HandlerFunc(l.submit))
	mux.Handle("/", provider)
	return mux, nil
}

// loginUI is the provider's sign-in page: a plain HTML form (username,
// password), no JavaScript.
type loginUI struct {
	st       *storage
	callback func(context.Context, string) string
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test provider: sign in</title></head>
<body>
<h1>Sign in to the test provider</h1>
{{if .Error}}<p id="login-error" role="alert">{{.Error}}</p>{{end}}
<form id="login" method="post" action="/login">
<input type="hidden" name="authRequestID" value="{{.ID}}">
<label>Username <input type="text" name="username" id="username" autocomplete="username" value="{{.Username}}"></label>
<label>Password <input type="password" name="password" id="password" autocomplete="current-password"></label>
<button type="submit" id="submit">Sign in</button>
</form>
</body></html>
`))

type loginData struct{ ID, Username, Error string }

func (l *loginUI) render(w http.ResponseWriter, status int, d loginData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = loginPage.Execute(w, d)
}

// show is GET /login?authRequestID=: the form, or straight back to the
// client when the browser already has a session here.
func (l *loginUI) show(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	ar, ok := l.st.request(id)
	if !ok {
		http.Error(w, "unknown or finished sign-in request", http.StatusBadRequest)
		return
	}
	if c, err := r.Cookie(sessionCookie); err == nil && !slices.Contains(ar.prompt, oidc.PromptLogin) {
		if ss, ok := l.st.session(c.Value, time.Now()); ok {
			if err := l.st.completeRequest(id, ss.userID, ss.at); err == nil {
				http.Redirect(w, r, l.callback(r.Context(), id), http.StatusFound)
				return
			}
		}
	}
	l.render(w, http.StatusOK, loginData{ID: id})
}

// submit is POST /login: checks the password, opens a session and returns
// to the provider's callback, which redirects to the client with a code.
func (l *loginUI) submit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id, name := r.PostForm.Get("authRequestID"), r.PostForm.Get("username")
	u := l.st.checkPassword(name, r.PostForm.Get("password"))
	if u == nil {
		l.render(w, http.StatusUnauthorized, loginData{ID: id, Username: name, Error: "Wrong username or password."})
		return
	}
	now := time.Now()
	if err := l.st.completeRequest(id, u.Sub, now); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: l.st.newSession(u.Sub, now), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: int(sessionLifetime / time.Second)})
	http.Redirect(w, r, l.callback(r.Context(), id), http.StatusFound)
}
