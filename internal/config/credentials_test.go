package config

import (
	"strings"
	"testing"
	"time"
)

func TestCredentialsConfig(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		check   func(t *testing.T, c Config)
		wantErr []string
	}{
		{name: "defaults", yaml: "",
			check: func(t *testing.T, c Config) {
				rt := c.RefreshTokens
				if rt.MaxLifetime.D() != 90*24*time.Hour || rt.MaxIdle.D() != 30*24*time.Hour || rt.BindClientID || c.Robots.Prefix != "robot$" {
					t.Fatalf("%+v %+v", rt, c.Robots)
				}
			}},
		{name: "overrides", yaml: "refresh_tokens: {max_lifetime: 0s, max_idle: 12h, bind_client_id: true}\nrobots: {prefix: robot_}\n",
			check: func(t *testing.T, c Config) {
				rt := c.RefreshTokens
				if rt.MaxLifetime != 0 || rt.MaxIdle.D() != 12*time.Hour || !rt.BindClientID || c.Robots.Prefix != "robot_" {
					t.Fatalf("%+v %+v", rt, c.Robots)
				}
			}},
		{name: "dollar prefix is not an env reference", yaml: "robots: {prefix: \"bot$\"}",
			check: func(t *testing.T, c Config) {
				if c.Robots.Prefix != "bot$" {
					t.Fatal(c.Robots.Prefix)
				}
			}},
		{name: "every problem reported",
			yaml:    "refresh_tokens: {max_lifetime: 1d, max_idle: 2d}\nrobots: {prefix: \"\"}\n",
			wantErr: []string{"refresh_tokens.max_idle", "robots.prefix"}},
		{name: "colon in prefix", yaml: "robots: {prefix: \"r:\"}", wantErr: []string{"robots.prefix", "colons"}},
		{name: "plus in prefix", yaml: "robots: {prefix: \"r+\"}", wantErr: []string{"robots.prefix", "+"}},
		{name: "bad duration", yaml: "refresh_tokens: {max_idle: soon}", wantErr: []string{"soon"}},
		{name: "unknown key", yaml: "refresh_tokens: {max_age: 1d}", wantErr: []string{"max_age"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, c)
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}
