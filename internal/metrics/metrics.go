package metrics

import (
	"net/http"
	"regexp"
	"runtime"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Result labels of authserver_token_requests_total.
const (
	ResultIssued       = "issued"
	ResultUnauthorized = "unauthorized"
	ResultBadRequest   = "bad_request"
	ResultUnavailable  = "unavailable"
	ResultThrottled    = "throttled"
)

// Metrics holds every collector. A nil *Metrics is valid and records
// nothing, so packages and tests need not wire one.
type Metrics struct {
	reg *prometheus.Registry
	// ours are authserver's own collectors, for Names.
	ours []prometheus.Collector

	// TokenRequests counts token requests by result and auth method.
	TokenRequests *prometheus.CounterVec
	// TokenDuration is the latency of token requests by result.
	TokenDuration *prometheus.HistogramVec
	// CacheHits and CacheMisses count credential-cache lookups by cache
	// (local, ldap).
	CacheHits   *prometheus.CounterVec
	CacheMisses *prometheus.CounterVec
	// TokenReuses counts answers that reused an already-signed token.
	TokenReuses prometheus.Counter
	// LDAPOps counts LDAP operations by op (bind, search) and result (ok, error).
	LDAPOps *prometheus.CounterVec
	// LDAPDuration is the latency of LDAP operations by op.
	LDAPDuration *prometheus.HistogramVec
	// StoreErrors counts store failures (reported to clients as 503).
	StoreErrors prometheus.Counter
	// Logins counts login attempts at every endpoint (internal/login) by
	// endpoint (token, api), result (ok, unauthorized, throttled, busy,
	// unavailable, bad_request, error) and auth method.
	Logins *prometheus.CounterVec
	// Throttled counts requests refused with 429, at every endpoint.
	Throttled prometheus.Counter
	// AuditDropped counts audit records lost because the buffer was full
	// or the store failed.
	AuditDropped prometheus.Counter
	// FederatedLogins counts federated robot logins by issuer name and
	// result (ok, refused, unavailable).
	FederatedLogins *prometheus.CounterVec
	// SigningKeyInfo is 1 for the kid this process signs with (one
	// series; SigningKey replaces it on a reload).
	SigningKeyInfo *prometheus.GaugeVec
	// UntrustedForwarded counts requests carrying X-Forwarded-For from a
	// peer outside server.trusted_proxies (the header is ignored): a
	// balancer missing from the list makes every client look like it.
	UntrustedForwarded prometheus.Counter
	// StoreReads counts the token path's reads of users, robots and
	// project access (read: user, robot, access; one per project) by
	// result: hit (from memory, cache.store_reads) or miss (from the
	// store). PolicyVersionReads counts the policy-version reads that
	// checked them (at most one per request; requests arriving during a
	// read share the next).
	StoreReads         *prometheus.CounterVec
	PolicyVersionReads prometheus.Counter
	storeRead          map[string][2]prometheus.Counter // [miss, hit] by read
}

// New registers every collector, plus Go runtime and process metrics and
// authserver_build_info{version, goversion}.
func New(version string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		TokenRequests: counterVec("authserver_token_requests_total",
			"Token requests by result (issued, unauthorized, bad_request, unavailable, throttled) and auth method.",
			"result", "method"),
		TokenDuration: histogramVec("authserver_token_request_duration_seconds",
			"Latency of token requests by result.",
			[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}, "result"),
		CacheHits: counterVec("authserver_credential_cache_hits_total",
			"Logins answered from the verified-credential cache, by cache.",
			"cache"),
		CacheMisses: counterVec("authserver_credential_cache_misses_total",
			"Logins that had to be verified by the backend, by cache.",
			"cache"),
		TokenReuses: counter("authserver_token_reuses_total",
			"Token answers that reused an already-signed token."),
		LDAPOps: counterVec("authserver_ldap_operations_total",
			"LDAP operations by op and result.",
			"op", "result"),
		LDAPDuration: histogramVec("authserver_ldap_operation_duration_seconds",
			"Latency of LDAP operations by op.",
			[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}, "op"),
		StoreErrors: counter("authserver_store_errors_total",
			"Store operations that failed (answered 503)."),
		Logins: counterVec("authserver_logins_total",
			"Login attempts at every endpoint by endpoint (token, api), result (ok, unauthorized, throttled, busy, unavailable, bad_request, error) and auth method.",
			"endpoint", "result", "method"),
		Throttled: counter("authserver_throttled_requests_total",
			"Requests refused with 429 because of failed logins, at every endpoint."),
		AuditDropped: counter("authserver_audit_records_dropped_total",
			"Audit records lost because the buffer was full or the store failed."),
		FederatedLogins: counterVec("authserver_federated_logins_total",
			"Federated robot logins (an OIDC JWT as the password) by issuer and result (ok, refused, unavailable).",
			"issuer", "result"),
		SigningKeyInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "authserver_signing_key_info",
			Help: "Always 1; the kid label is the key this replica signs tokens with."}, []string{"kid"}),
		UntrustedForwarded: counter("authserver_untrusted_forwarded_requests_total",
			"Requests with X-Forwarded-For from a peer outside server.trusted_proxies (the header was ignored)."),
		StoreReads: counterVec("authserver_store_reads_total",
			"The token path's reads of users, robots and project access (one per project) by result: hit (from memory, cache.store_reads) or miss (from the store).",
			"read", "result"),
		PolicyVersionReads: counter("authserver_policy_version_reads_total",
			"Reads of the policy version that checked the store reads kept in memory (at most one per request)."),
		storeRead: map[string][2]prometheus.Counter{},
	}
	for _, read := range []string{"user", "robot", "access"} {
		m.storeRead[read] = [2]prometheus.Counter{m.StoreReads.WithLabelValues(read, "miss"), m.StoreReads.WithLabelValues(read, "hit")}
	}
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "authserver_build_info",
		Help: "Always 1; labels say which build is running.",
	}, []string{"version", "goversion"})
	buildInfo.WithLabelValues(version, runtime.Version()).Set(1)
	m.register(m.TokenRequests, m.TokenDuration, m.CacheHits, m.CacheMisses, m.TokenReuses,
		m.LDAPOps, m.LDAPDuration, m.StoreErrors, m.Logins, m.Throttled, m.AuditDropped, m.FederatedLogins, buildInfo,
		m.SigningKeyInfo, m.UntrustedForwarded, m.StoreReads, m.PolicyVersionReads)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// register adds authserver's own collectors.
func (m *Metrics) register(cs ...prometheus.Collector) {
	m.reg.MustRegister(cs...)
	m.ours = append(m.ours, cs...)
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// Names lists the names of authserver's own metrics as a scrape shows them
// (a histogram as name_bucket, name_sum and name_count), whether or not
// they have samples yet: the dashboards and alert rules in
// deploy/monitoring may use only these (and Go's and the process's).
func (m *Metrics) Names() []string {
	var out []string
	for _, c := range m.ours {
		ch := make(chan *prometheus.Desc, 8)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			name := fqName.FindStringSubmatch(d.String())[1]
			if _, histogram := c.(*prometheus.HistogramVec); histogram {
				out = append(out, name+"_bucket", name+"_sum", name+"_count")
				continue
			}
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// WatchSigningCertificate publishes when the signing key's certificate
// expires (authserver_signing_certificate_expiry_timestamp_seconds), read
// from notAfter when scraped (the key can change on SIGHUP); ok false (no
// certificate) publishes 0.
func (m *Metrics) WatchSigningCertificate(notAfter func() (time.Time, bool)) {
	if m == nil {
		return
	}
	m.register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "authserver_signing_certificate_expiry_timestamp_seconds",
		Help: "When the signing key's certificate expires (Unix time); 0 without a certificate."},
		func() float64 {
			if t, ok := notAfter(); ok {
				return float64(t.Unix())
			}
			return 0
		}))
}

func counter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
}

func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

func histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
}

// Handler serves the metrics in Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Token records one finished token request.
func (m *Metrics) Token(result, method string, seconds float64) {
	if m == nil {
		return
	}
	m.TokenRequests.WithLabelValues(result, method).Inc()
	m.TokenDuration.WithLabelValues(result).Observe(seconds)
}

// Login records one login attempt (internal/login); a throttled one also
// counts in authserver_throttled_requests_total.
func (m *Metrics) Login(endpoint, result, method string) {
	if m == nil {
		return
	}
	m.Logins.WithLabelValues(endpoint, result, method).Inc()
	if result == ResultThrottled {
		m.Throttled.Inc()
	}
}

// WatchPasswordChecks publishes the slow credential checks running now
// (authserver_password_checks_in_flight) and the bound on them
// (authserver_password_checks_max), read from inUse and max when scraped.
func (m *Metrics) WatchPasswordChecks(inUse func() int, max int) {
	if m == nil {
		return
	}
	m.register(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "authserver_password_checks_in_flight",
			Help: "Slow credential checks (bcrypt, PBKDF2, LDAP bind) running now."},
			func() float64 { return float64(inUse()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "authserver_password_checks_max",
			Help: "The most slow credential checks that may run at once (server.max_password_checks)."},
			func() float64 { return float64(max) }))
}

// WatchThrottleWrites exports the shared throttle's writes to the database
// (throttle.store: database): holds, settlements and prunes. A login the
// credential cache answers adds none.
func (m *Metrics) WatchThrottleWrites(writes func() int64) {
	if m == nil {
		return
	}
	m.register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "authserver_throttle_writes_total",
		Help: "Writes of the shared login throttle to the database (holds, settlements, prunes)."},
		func() float64 { return float64(writes()) }))
}

// SigningKey says which kid this process signs with now.
func (m *Metrics) SigningKey(kid string) {
	if m == nil {
		return
	}
	m.SigningKeyInfo.Reset()
	m.SigningKeyInfo.WithLabelValues(kid).Set(1)
}

// UntrustedForward counts a request whose X-Forwarded-For was ignored
// because its peer is not a trusted proxy.
func (m *Metrics) UntrustedForward() {
	if m != nil {
		m.UntrustedForwarded.Inc()
	}
}

// Cache records a credential-cache lookup.
func (m *Metrics) Cache(cache string, hit bool) {
	if m == nil {
		return
	}
	if hit {
		m.CacheHits.WithLabelValues(cache).Inc()
	} else {
		m.CacheMisses.WithLabelValues(cache).Inc()
	}
}

// StoreRead records n reads of kind read (user, robot, access) answered
// from memory (hit) or from the store.
func (m *Metrics) StoreRead(read string, hit bool, n int) {
	if m == nil || n <= 0 {
		return
	}
	c, ok := m.storeRead[read]
	if !ok {
		return
	}
	if hit {
		c[1].Add(float64(n))
	} else {
		c[0].Add(float64(n))
	}
}

// PolicyVersionRead records one read of the policy version.
func (m *Metrics) PolicyVersionRead() {
	if m != nil {
		m.PolicyVersionReads.Inc()
	}
}

// LDAP records one LDAP operation.
func (m *Metrics) LDAP(op string, err error, seconds float64) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.LDAPOps.WithLabelValues(op, result).Inc()
	m.LDAPDuration.WithLabelValues(op).Observe(seconds)
}

// Reuse records a reused token.
func (m *Metrics) Reuse() {
	if m != nil {
		m.TokenReuses.Inc()
	}
}

// StoreError records a store failure.
func (m *Metrics) StoreError() {
	if m != nil {
		m.StoreErrors.Inc()
	}
}

// AuditDrop records n lost audit records.
func (m *Metrics) AuditDrop(n int) {
	if m != nil {
		m.AuditDropped.Add(float64(n))
	}
}

// FederatedLogin records one federated robot login.
func (m *Metrics) FederatedLogin(issuer, result string) {
	if m == nil {
		return
	}
	m.FederatedLogins.WithLabelValues(issuer, result).Inc()
}
