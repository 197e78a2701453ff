package api_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/authserver/authserver/internal/server/api"
)

// succeeded holds the operationId of every operation the suite got a 2XX
// answer from, checked complete when the whole suite ran
// (everyOperationExercised).
var succeeded sync.Map

// everyOperationExercised fails a run of the whole package (no -run) in
// which an operation of the document never succeeded: each is then
// checked against the document at least once with a real answer.
func everyOperationExercised() int {
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
		return 0
	}
	rec := httptest.NewRecorder()
	api.New(api.Options{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		fmt.Fprintf(os.Stderr, "openapi: %v\n", err)
		return 1
	}
	var missing []string
	ids := map[string]bool{}
	for path, item := range doc.Paths {
		for method, op := range item {
			id := op.OperationID
			if ids[id] {
				missing = append(missing, "operationId "+id+" twice")
			}
			ids[id] = true
			if _, ok := succeeded.Load(id); !ok {
				missing = append(missing, strings.ToUpper(method)+" "+path+" ("+id+")")
			}
		}
	}
	if len(missing) == 0 {
		return 0
	}
	slices.Sort(missing)
	fmt.Fprintf(os.Stderr, "openapi: no test got a 2XX answer from these operations, so none checked them against the document:\n  %s\n",
		strings.Join(missing, "\n  "))
	return 1
}

// conformance checks every request the API test suite makes under /api,
// and the answer, against /api/openapi.json as the handler serves it,
// with kin-openapi's request and response validation: a request the
// document allows gets an answer the document describes (for its status,
// else the error schema; no body where it describes none); a request it
// refuses (a field or type its schemas lack, a parameter out of range) is
// answered 4XX, never 2XX. Every fixture's server goes through it, so the
// document and the behaviour cannot drift apart.
type conformance struct {
	t      *testing.T
	next   http.Handler
	router routers.Router
}

// conforming wraps handler (the whole server, /api mounted) in the check,
// with the document handler serves at /api/openapi.json.
func conforming(t *testing.T, handler http.Handler) http.Handler {
	t.Helper()
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api/openapi.json: %d %s", rec.Code, rec.Body)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("/api/openapi.json does not load: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("/api/openapi.json is not a valid OpenAPI document: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("/api/openapi.json: %v", err)
	}
	return &conformance{t: t, next: handler, router: router}
}

func (c *conformance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		c.next.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	c.next.ServeHTTP(rec, r)
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())

	what := r.Method + " " + r.URL.RequestURI()
	route, params, err := c.router.FindRoute(cloneWith(r, body))
	if err != nil {
		if rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed && rec.Code != http.StatusBadRequest {
			c.t.Errorf("openapi: %s is no operation of the document (%v), yet answered %d %s", what, err, rec.Code, rec.Body)
		}
		return
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: cloneWith(r, body), PathParams: params, Route: route, Options: opts}
	reqErr := openapi3filter.ValidateRequest(r.Context(), in)
	if reqErr != nil && rec.Code < 400 {
		c.t.Errorf("openapi: %s: the document refuses the request (%v), the API answered %d %s", what, reqErr, rec.Code, rec.Body)
	}
	in.Request = cloneWith(r, body)
	respErr := openapi3filter.ValidateResponse(r.Context(), &openapi3filter.ResponseValidationInput{RequestValidationInput: in,
		Status: rec.Code, Header: rec.Header(), Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}})
	if respErr != nil {
		c.t.Errorf("openapi: %s answered %d, which the document does not describe: %v\nbody: %.500s", what, rec.Code, respErr, rec.Body)
	}
	if rec.Code < 300 {
		succeeded.Store(route.Operation.OperationID, true)
	}
	if resp := route.Operation.Responses.Status(rec.Code); resp != nil && len(resp.Value.Content) == 0 && rec.Body.Len() > 0 &&
		r.Method != http.MethodHead {
		c.t.Errorf("openapi: %s answered %d with a body the document does not describe: %.200s", what, rec.Code, rec.Body)
	}
}

// cloneWith is r with a fresh reader of body.
func cloneWith(r *http.Request, body []byte) *http.Request {
	out := r.Clone(r.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	return out
}
