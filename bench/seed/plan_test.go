package main

import (
	"strings"
	"testing"
)

func TestPlan(t *testing.T) {
	tests := []struct {
		name    string
		plan    plan
		wantErr string
	}{
		{name: "issue dataset", plan: plan{users: 100_000, projects: 10_000, members: 1_000_000}},
		{name: "every user in every project", plan: plan{users: 7, projects: 3, members: 21, groups: 2}},
		{name: "too many members", plan: plan{users: 7, projects: 3, members: 22}, wantErr: "--members 22"},
		{name: "too many users", plan: plan{users: maxUsers + 1}, wantErr: "--users"},
		{name: "groups without projects", plan: plan{users: 1, groups: 1}, wantErr: "--groups"},
		{name: "negative public", plan: plan{publicEvery: -1}, wantErr: "--public-every"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.plan.validate()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.plan.members > 100_000 {
				return // the formula is the same; the small case checks it exhaustively
			}
			seen := map[[2]int]bool{}
			for g := range tt.plan.members {
				u, p, role := tt.plan.membership(g)
				if seen[[2]int{u, p}] || p < 0 || p >= tt.plan.projects || role == "" {
					t.Fatalf("membership %d: user %d project %d role %q repeats or is out of range", g, u, p, role)
				}
				seen[[2]int{u, p}] = true
			}
		})
	}
}
