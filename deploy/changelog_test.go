package deploy

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestChangelogListsVersion keeps CHANGELOG.md true to VERSION: the version
// being built has its own dated section (Keep a Changelog), below
// Unreleased, and a link at the foot.
func TestChangelogListsVersion(t *testing.T) {
	v, err := os.ReadFile("../VERSION")
	if err != nil {
		t.Fatal(err)
	}
	version := strings.TrimSpace(string(v))
	c, err := os.ReadFile("../CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(c)
	heading := regexp.MustCompile(`(?m)^## \[` + regexp.QuoteMeta(version) + `\] - \d{4}-\d{2}-\d{2}$`)
	at := heading.FindStringIndex(text)
	if at == nil {
		t.Fatalf("CHANGELOG.md has no section \"## [%s] - YYYY-MM-DD\"", version)
	}
	if u := strings.Index(text, "## [Unreleased]"); u < 0 || u > at[0] {
		t.Errorf("CHANGELOG.md: want an Unreleased section above [%s]", version)
	}
	if !strings.Contains(text, "\n["+version+"]: ") {
		t.Errorf("CHANGELOG.md: no link for [%s] at the foot", version)
	}
}
