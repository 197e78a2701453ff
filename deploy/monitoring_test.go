//go:build integration

package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/metrics"
)

// TestAlertRules: promtool accepts the rules and their unit tests pass
// (each alert fires on the series that should raise it, and not on normal
// traffic).
func TestAlertRules(t *testing.T) {
	for _, args := range [][]string{{"check", "rules", "alerts.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		cmd := exec.Command("promtool", args...)
		cmd.Dir = "monitoring"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// metricRef finds metric names in a PromQL expression: authserver's own,
// Go's and the process's.
var metricRef = regexp.MustCompile(`\b(?:authserver|go|process)_[a-z0-9_]+\b`)

// TestMonitoringUsesExportedMetrics: every metric the alert rules and the
// Grafana dashboard query is one the server exports (metrics.Names, plus
// the standard Go and process collectors), so a renamed metric cannot
// leave a silent alert or an empty panel behind.
func TestMonitoringUsesExportedMetrics(t *testing.T) {
	m := metrics.New("test")
	m.WatchPasswordChecks(func() int { return 0 }, 1)
	m.WatchSigningCertificate(func() (time.Time, bool) { return time.Time{}, false })
	exported := m.Names()
	standard := []string{"go_goroutines", "process_resident_memory_bytes", "process_cpu_seconds_total", "go_memstats_heap_alloc_bytes"}
	check := func(where, expr string) {
		for _, name := range metricRef.FindAllString(expr, -1) {
			if !slices.Contains(exported, name) && !slices.Contains(standard, name) {
				t.Errorf("%s queries %s, which authserver does not export", where, name)
			}
		}
	}
	rules := docs(t, "monitoring/alerts.yaml")[0]
	n := 0
	for _, g := range rules["groups"].([]any) {
		for _, r := range g.(map[string]any)["rules"].([]any) {
			rule := r.(map[string]any)
			check("alert "+rule["alert"].(string), rule["expr"].(string))
			n++
		}
	}
	data, err := os.ReadFile("monitoring/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Query any `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatal(err)
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			check("panel "+p.Title, tg.Expr)
			n++
		}
	}
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(string); ok {
			check("dashboard variable", q)
		}
	}
	if n < 20 {
		t.Fatalf("only %d queries found", n)
	}
}
