package zotverify

import "testing"

func TestForRequest(t *testing.T) {
	tests := []struct {
		name, method, path string
		want               Access
		ok                 bool
	}{
		{"base", "GET", "/v2/", Access{}, true},
		{"catalog", "GET", "/v2/_catalog", Access{"repository", "", "pull"}, true},
		{"manifest get", "GET", "/v2/team/app/manifests/1", Access{"repository", "team/app", "pull"}, true},
		{"blob head", "HEAD", "/v2/team/app/blobs/sha256:ab", Access{"repository", "team/app", "pull"}, true},
		{"upload start", "POST", "/v2/team/app/blobs/uploads/", Access{"repository", "team/app", "push"}, true},
		{"upload chunk", "PATCH", "/v2/team/app/blobs/uploads/123", Access{"repository", "team/app", "push"}, true},
		{"manifest put", "PUT", "/v2/a/b/c/manifests/v1", Access{"repository", "a/b/c", "push"}, true},
		{"delete", "DELETE", "/v2/team/app/manifests/sha256:ab", Access{"repository", "team/app", "delete"}, true},
		{"tags", "GET", "/v2/team/app/tags/list", Access{"repository", "team/app", "pull"}, true},
		{"name holding a route word", "GET", "/v2/x/tags/app/manifests/1", Access{"repository", "x/tags/app", "pull"}, true},
		{"not the API", "GET", "/metrics", Access{}, false},
		{"unknown route", "GET", "/v2/team/app", Access{}, false},
		{"unknown method", "OPTIONS", "/v2/team/app/manifests/1", Access{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ForRequest(tt.method, tt.path)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("ForRequest(%s %s) = %+v, %v; want %+v, %v", tt.method, tt.path, got, ok, tt.want, tt.ok)
			}
		})
	}
}
