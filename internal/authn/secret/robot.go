package secret

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/store"
)

// Robots authenticates robot accounts, Harbor's model: a login name that
// starts with the robot prefix ("robot$team+ci") is a robot, checked against
// its stored secret hash with one indexed lookup by name; any other login
// goes to next, so robot secrets never reach a password backend (or LDAP)
// and user passwords never reach the robot table.
type Robots struct {
	layer
	store  store.Robots
	prefix string
	// fed verifies the JWTs of robots with a trust policy (robot_federated.go).
	fed        FederatedVerifier
	fedMetrics FederationMetrics
}

var _ authn.PasswordAuthenticator = (*Robots)(nil)

// NewRobots returns a Robots authenticator for names starting with prefix,
// passing other logins to next. now (nil = time.Now) decides expiry; log
// receives why a robot was refused.
func NewRobots(st store.Robots, prefix string, next authn.PasswordAuthenticator, now func() time.Time, log *slog.Logger) *Robots {
	return &Robots{layer: newLayer(next, now, log), store: st, prefix: prefix}
}

// Dummy is next's dummy comparison, run for every refused robot login (a
// robot secret is checked with a fast hash, so a refusal would otherwise
// answer faster than a wrong password).
func (r *Robots) Dummy() *authn.Dummy { return r.dummy }

// Prefix is the robot name prefix.
func (r *Robots) Prefix() string { return r.prefix }

// Login implements PasswordAuthenticator.
func (r *Robots) Login(ctx context.Context, username, password string) (authn.Identity, bool, error) {
	bare, ok := strings.CutPrefix(username, r.prefix)
	if !ok {
		return r.next.Login(ctx, username, password)
	}
	if password == "" {
		return authn.Identity{}, false, nil
	}
	if bare == "" {
		return r.refuse(ctx, password)
	}
	rb, err := r.store.GetRobot(ctx, bare)
	if errors.Is(err, store.ErrNotFound) {
		r.log.Info("robot refused", "robot", username, "reason", "no such robot")
		return r.refuse(ctx, password)
	}
	if err != nil {
		return authn.Identity{}, false, fmt.Errorf("robot login: %w: %w", authn.ErrUnavailable, err)
	}
	if rb.Trust != nil {
		return r.loginFederated(ctx, username, password, rb)
	}
	if SlowHash(rb.SecretHash) {
		if err := authn.SlowCheck(ctx); err != nil {
			return authn.Identity{}, false, err
		}
	}
	reason := "wrong secret"
	if Verify(rb.SecretHash, password) { // slow check when SlowSecretHash: Harbor's PBKDF2, or bcrypt (a chosen secret)
		reason = r.refusal(rb)
	}
	if reason != "" {
		r.log.Info("robot refused", "robot", username, "reason", reason)
		if HashKind(rb.SecretHash) == "bcrypt" {
			return authn.Identity{}, false, nil // the bcrypt just run stands for the dummy's
		}
		return r.refuse(ctx, password)
	}
	return authn.Identity{
		Name:          username,
		Method:        authn.MethodRobot,
		Robot:         authn.PermissionsOf(rb),
		Conditions:    authn.RobotCondition(rb, username),
		TokenLifetime: rb.TokenLifetime,
	}, true, nil
}

// refusal says why rb, its credential checked, may not log in
// (RobotRefusal), or "".
func (r *Robots) refusal(rb store.Robot) string { return authn.RobotRefusal(rb, r.now()) }

// RobotActions normalises a robot's actions: only pull, push and delete,
// push implies pull, each once, in that order. It refuses anything else
// (including "*", which would be ambiguous) and an empty list.
func RobotActions(actions []string) ([]string, error) {
	have := map[string]bool{}
	for _, a := range actions {
		a = strings.ToLower(strings.TrimSpace(a))
		switch a {
		case "":
		case "pull", "push", "delete":
			have[a] = true
		default:
			return nil, fmt.Errorf("robot action %q: want pull, push or delete", a)
		}
	}
	if have["push"] {
		have["pull"] = true
	}
	var out []string
	for _, a := range []string{"pull", "push", "delete"} {
		if have[a] {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("robot actions: give at least one of pull, push, delete")
	}
	return out, nil
}

// RobotName is the stored name of a robot: "<project>+<name>" for a project
// robot, "<name>" for a system robot (project store.SystemRobotProject).
// name must be a plain word: no '+', '$', ':', spaces or control
// characters, at most 128 bytes.
func RobotName(project, name string) (string, error) {
	if name == "" || len(name) > 128 {
		return "", fmt.Errorf("robot name %q: want 1 to 128 characters", name)
	}
	if strings.ContainsFunc(name, func(c rune) bool { return c <= ' ' || c == 0x7f || strings.ContainsRune("+$:/", c) }) {
		return "", fmt.Errorf("robot name %q: '+', '$', ':', '/', spaces and control characters are not allowed", name)
	}
	if project == store.SystemRobotProject {
		return name, nil
	}
	if project == "" {
		return "", errors.New("robot: a project (or '*' for a system robot) is required")
	}
	return project + "+" + name, nil
}
