package login

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/store"
)

// limited is a backend whose one credential may log in from 127.0.0.2 only.
type limited struct{}

func (limited) Login(_ context.Context, user, pass string) (authn.Identity, bool, error) {
	if user == "robot$ci" && pass == "right" {
		return authn.Identity{Name: user, Method: authn.MethodRobot,
			Conditions: []authn.Condition{{On: "robot robot$ci", AllowFrom: []string{"127.0.0.2/32"}}}}, true, nil
	}
	return authn.Identity{}, false, nil
}

// A right credential from a network it may not log in from is 401, with
// the condition in the audit record and nothing told to the client; from
// its network it logs in.
func TestConditionRefusal(t *testing.T) {
	rec := &records{}
	g := New(Options{Passwords: limited{}, Audit: rec, Realm: "r"})
	id, err := g.Login(context.Background(), Attempt{Endpoint: EndpointToken, Grant: GrantBasic, Username: "robot$ci",
		Secret: "right", ClientIP: "127.0.0.2"})
	if err != nil || id.Name != "robot$ci" {
		t.Fatalf("from 127.0.0.2: %+v, %v", id, err)
	}
	_, err = g.Login(context.Background(), Attempt{Endpoint: EndpointToken, Grant: GrantBasic, Username: "robot$ci",
		Secret: "right", ClientIP: "127.0.0.3"})
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindUnauthorized || strings.Contains(e.Msg, "127.0.0.2") {
		t.Fatalf("from 127.0.0.3: %v", err)
	}
	if len(rec.recs) != 1 || rec.recs[0].Result != store.AuditUnauthorized || rec.recs[0].Method != authn.MethodRobot ||
		rec.recs[0].Reason != "robot robot$ci may log in only from 127.0.0.2/32, not from 127.0.0.3" {
		t.Errorf("audit %+v", rec.recs)
	}
}
