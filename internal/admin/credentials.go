package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/store"
)

// Robot is a robot account with its login name (prefix + Name).
type Robot struct {
	store.Robot
	Login string
	// TrustRefused, for a federated robot, says why its trust policy lets
	// no JWT in (an issuer no longer configured, a policy that does not pin
	// the workload's identity: see trustRefusal); "" when it can.
	TrustRefused string
}

func (s *Service) robot(r store.Robot) Robot {
	out := Robot{Robot: r, Login: s.opt.RobotPrefix + r.Name}
	if r.Trust != nil {
		if err := s.trustRefusal(*r.Trust); err != nil {
			out.TrustRefused = err.Error()
		}
	}
	return out
}

// bare maps a robot name as typed, with or without the prefix, to the
// stored name.
func (s *Service) bare(name string) string { return strings.TrimPrefix(name, s.opt.RobotPrefix) }

// robotRight is what managing robots of project takes: a system robot
// (project "*") is the sysadmin's, a project robot the project's admin's.
func (s *Service) allowRobots(ctx context.Context, who Actor, project string) error {
	if project == store.SystemRobotProject || project == "" {
		return s.allow(ctx, who, rightSystem, "", "manage system robots")
	}
	return s.allow(ctx, who, rightManageProject, project, "manage the robots of project "+project)
}

// NewRobot is a robot to create.
type NewRobot struct {
	// Name is the robot's own name, without project or prefix ("ci").
	Name string
	// Project is the project robot's project, or "*" for a system robot.
	Project string
	// Actions are pull, push, delete (push implies pull) on Project (on
	// every project for a system robot), when Permissions is empty.
	Actions []string
	// Permissions, for a system robot instead of Actions, are its actions
	// per project: several projects, each with its own actions, or "*"
	// for every project (Harbor's system robots).
	Permissions []store.RobotPermission
	// SystemAccess are a system robot's access entries of Harbor's kind
	// "system" (store.Robot.SystemAccess): kept, granting nothing.
	SystemAccess []store.RobotAccess
	Description  string
	// Lifetime is how long it works from now: 0 is
	// Options.DefaultRobotLifetime, Never never.
	Lifetime time.Duration
	// For an import: ExpiresAt, when set, is the expiry instead of
	// Lifetime; SecretHash, when set, is the stored secret as it is (a
	// Harbor robot's, authn.HarborSecretHash), and no secret is returned.
	ExpiresAt  time.Time
	SecretHash string
	// Secret, when set, is the robot's secret, which must meet the password
	// policy (ValidPassword) and is stored with bcrypt, like a password;
	// empty: a random one is generated (256 bits, stored as its SHA-256).
	Secret string
	// Disabled creates it disabled.
	Disabled bool
	// Trust, when set, makes a federated robot: it logs in with a JWT that
	// meets this policy and has no secret (CreateRobot returns ""); Secret
	// and SecretHash must then be empty.
	Trust *store.TrustPolicy
	// Repos limit a project robot to the repositories of its project
	// whose path matches one of these patterns (authz.ValidRepoPattern).
	Repos []string
	// AllowFrom are the networks its logins may come from (CIDRs).
	AllowFrom []string
	// TokenLifetime is the lifetime of its tokens (0: the configured
	// one), at most Options.MaxTokenLifetime.
	TokenLifetime time.Duration
}

// robotSecret returns a robot's secret and its stored form: the chosen
// secret, when set, checked against the password policy and hashed with
// bcrypt at passwords.bcrypt_cost (a person picked it: it may be
// guessable); else a new random one (256 bits) and its SHA-256
// (authn.HashSecret). bcrypt is slow: call it before any transaction.
func (s *Service) robotSecret(chosen string) (sec, hash string, err error) {
	if chosen != "" {
		if err := s.validPassword("robot secret", chosen); err != nil {
			return "", "", err
		}
		hash, err := secret.HashPassword(chosen, s.opt.BcryptCost)
		return chosen, hash, err
	}
	if sec, err = secret.New("", false); err != nil {
		return "", "", err
	}
	return sec, secret.Hash(sec), nil
}

// CreateRobot creates a robot and returns it with its secret, which is
// stored only as a hash: show it once. A federated robot (nr.Trust) has
// no secret: the secret returned is "".
func (s *Service) CreateRobot(ctx context.Context, who Actor, nr NewRobot) (Robot, string, error) {
	if err := s.allowRobots(ctx, who, nr.Project); err != nil {
		return Robot{}, "", err
	}
	if err := ValidText("description", nr.Description, MaxDescriptionBytes); err != nil {
		return Robot{}, "", err
	}
	perms := nr.Permissions
	switch {
	case len(perms) == 0:
		perms = []store.RobotPermission{{Project: nr.Project, Actions: nr.Actions}}
	case nr.Actions != nil:
		return Robot{}, "", invalidf("robot: give actions or permissions, not both")
	}
	perms, err := s.robotPermissions(ctx, who, nr.Project, perms)
	if err != nil {
		return Robot{}, "", err
	}
	if err := validSystemAccess(nr.Project, nr.SystemAccess); err != nil {
		return Robot{}, "", err
	}
	exp, err := s.expiry(nr.Lifetime, s.opt.DefaultRobotLifetime)
	if err != nil {
		return Robot{}, "", err
	}
	if !nr.ExpiresAt.IsZero() {
		exp = nr.ExpiresAt.UTC()
	}
	bare, err := secret.RobotName(nr.Project, nr.Name)
	if err != nil {
		return Robot{}, "", invalid(err)
	}
	repos, nets, lifetime, err := s.validRobotPolicy(nr.Project, nr.Repos, nr.AllowFrom, nr.TokenLifetime)
	if err != nil {
		return Robot{}, "", err
	}
	r := store.Robot{Name: bare, Project: nr.Project, Permissions: perms, Description: nr.Description,
		ExpiresAt: exp, Disabled: nr.Disabled, SystemAccess: slices.Clone(nr.SystemAccess),
		Repos: repos, AllowFrom: nets, TokenLifetime: lifetime}
	sec := ""
	switch {
	case nr.Trust != nil && (nr.Secret != "" || nr.SecretHash != ""):
		return Robot{}, "", invalidf("a robot cannot have both a secret and a trust policy")
	case nr.Trust != nil:
		if r.Trust, err = s.trustPolicy(*nr.Trust); err != nil {
			return Robot{}, "", err
		}
	case nr.SecretHash != "":
		if !secret.IsHarborHash(nr.SecretHash) {
			return Robot{}, "", invalidf("robot secret hash: want a harbor-pbkdf2-sha256 hash")
		}
		r.SecretHash = nr.SecretHash
	default:
		if sec, r.SecretHash, err = s.robotSecret(nr.Secret); err != nil {
			return Robot{}, "", err
		}
	}
	if err := s.change(ctx, who, "robot.create", "robot "+s.opt.RobotPrefix+bare, func(st store.Store) error {
		if max := s.opt.MaxRobotsPerProject; max > 0 && nr.Project != store.SystemRobotProject {
			rs, err := st.ListRobots(ctx, nr.Project)
			if err != nil {
				return err
			}
			if len(rs) >= max {
				return &Error{Kind: KindExists, Msg: fmt.Sprintf("project %s has %d robots, robots.max_per_project: delete one first", nr.Project, len(rs))}
			}
		}
		return storeErr(st.CreateRobot(ctx, &r), "robot "+s.opt.RobotPrefix+bare, "project "+nr.Project+" not found", "")
	}); err != nil {
		return Robot{}, "", err
	}
	return s.robot(r), sec, nil
}

// maxRobotPermissions bounds a system robot's entries (one per project).
const maxRobotPermissions = 100

// robotPermissions checks the permissions of a robot of project ("*": a
// system robot) as who gives them, and returns them normalised (actions as
// authn.RobotActions, ordered by project). A project robot holds exactly
// one entry, for its own project, with actions who's role holds; a system
// robot (sysadmin only, checked by allowRobots) one to maxRobotPermissions
// entries, each an existing project or "*", none twice.
func (s *Service) robotPermissions(ctx context.Context, who Actor, project string, perms []store.RobotPermission) ([]store.RobotPermission, error) {
	system := project == store.SystemRobotProject
	switch {
	case !system && (len(perms) != 1 || perms[0].Project != project):
		return nil, invalidf("a project robot acts on its own project only (" + project + ")")
	case len(perms) == 0 || len(perms) > maxRobotPermissions:
		return nil, invalidf(fmt.Sprintf("a system robot names 1 to %d projects (or '*')", maxRobotPermissions))
	}
	out := make([]store.RobotPermission, len(perms))
	for i, p := range perms {
		var acts []string
		var err error
		if len(p.Actions) > 0 || len(p.Other) == 0 {
			if acts, err = secret.RobotActions(p.Actions); err != nil {
				return nil, invalid(fmt.Errorf("project %s: %w", p.Project, err))
			}
		}
		if err := validAccess(p.Project, p.Other); err != nil {
			return nil, err
		}
		if slices.ContainsFunc(perms[:i], func(q store.RobotPermission) bool { return q.Project == p.Project }) {
			return nil, invalidf("project " + p.Project + " is named twice")
		}
		switch {
		case !system:
			err = s.capActions(ctx, who, project, acts)
		case p.Project != store.SystemRobotProject:
			_, err = s.st.GetProject(ctx, p.Project)
			err = fromStore(err, "project "+p.Project)
		}
		if err != nil {
			return nil, err
		}
		out[i] = store.RobotPermission{Project: p.Project, Actions: acts, Other: slices.Clone(p.Other)}
	}
	slices.SortFunc(out, func(a, b store.RobotPermission) int { return strings.Compare(a.Project, b.Project) })
	return out, nil
}

// validSystemAccess checks access entries of kind system: a system
// robot's only, as validAccess checks others.
func validSystemAccess(project string, as []store.RobotAccess) error {
	if len(as) > 0 && project != store.SystemRobotProject {
		return invalidf("access entries of kind system are a system robot's")
	}
	return validAccess("system", as)
}

// maxOtherAccess bounds a permission's other access entries.
const maxOtherAccess = 64

// validAccess checks a permission's other access entries (Harbor's
// resources other than repository pull, push and delete): kept as given,
// each a resource and an action of at most 64 printable bytes, an effect
// "", "allow" or "deny"; at most maxOtherAccess.
func validAccess(project string, as []store.RobotAccess) error {
	if len(as) > maxOtherAccess {
		return invalidf(fmt.Sprintf("project %s: at most %d access entries besides pull, push and delete", project, maxOtherAccess))
	}
	word := func(s string) bool {
		return s != "" && len(s) <= 64 && !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })
	}
	for _, a := range as {
		switch {
		case !word(a.Resource) || !word(a.Action):
			return invalidf(fmt.Sprintf("project %s: access %q %q: want a resource and an action of 1 to 64 printable bytes", project, a.Resource, a.Action))
		case a.Effect != "" && a.Effect != "allow" && a.Effect != "deny":
			return invalidf(fmt.Sprintf("project %s: access effect %q: want allow or deny", project, a.Effect))
		}
	}
	return nil
}

// GetRobot returns the robot with id; one of a private project the actor
// is no member of is not found.
func (s *Service) GetRobot(ctx context.Context, who Actor, id int64) (Robot, error) {
	r, err := s.st.GetRobotByID(ctx, id)
	if err != nil {
		return Robot{}, fromStore(err, fmt.Sprintf("robot %d", id))
	}
	if err := s.allowRobots(ctx, who, r.Project); err != nil {
		if errors.Is(err, ErrNotFound) {
			return Robot{}, &Error{Kind: KindNotFound, Msg: fmt.Sprintf("robot %d not found", id), Err: store.ErrNotFound}
		}
		return Robot{}, err
	}
	return s.robot(r), nil
}

// FindRobot returns the robot named name, with or without the prefix: how
// the CLI turns a name it was given into the robot, once. A name that
// starts with the prefix is the login name; the stored name is tried as
// given when no robot has that login.
func (s *Service) FindRobot(ctx context.Context, who Actor, name string) (Robot, error) {
	r, err := s.st.GetRobot(ctx, s.bare(name))
	if errors.Is(err, store.ErrNotFound) && s.bare(name) != name {
		r, err = s.st.GetRobot(ctx, name)
	}
	if err != nil {
		return Robot{}, fromStore(err, "robot "+s.opt.RobotPrefix+s.bare(name))
	}
	if err := s.allowRobots(ctx, who, r.Project); err != nil {
		return Robot{}, err
	}
	return s.robot(r), nil
}

// ListRobots lists robots by name: all of them when project is "", system
// robots for "*", else those of project.
func (s *Service) ListRobots(ctx context.Context, who Actor, project string) ([]Robot, error) {
	if err := s.allowRobots(ctx, who, project); err != nil {
		return nil, err
	}
	rs, err := s.st.ListRobots(ctx, project)
	if err != nil {
		return nil, err
	}
	out := make([]Robot, len(rs))
	for i, r := range rs {
		out[i] = s.robot(r)
	}
	return out, nil
}

// RobotChange is a change to a robot; nil fields stay as they are.
type RobotChange struct {
	// Lifetime renews the expiry from now: a pointer to 0 is
	// Options.DefaultRobotLifetime, to Never never.
	Lifetime *time.Duration
	// Actions replace the actions of a robot with one permission (every
	// project robot); Permissions replace a system robot's permissions.
	Actions     []string
	Permissions []store.RobotPermission
	// SystemAccess replaces a system robot's entries of kind system.
	SystemAccess *[]store.RobotAccess
	Description  *string
	Disabled     *bool
	// For an import: ExpiresAt sets the expiry as it is (zero: never), and
	// SecretHash the stored secret (see NewRobot.SecretHash).
	ExpiresAt  *time.Time
	SecretHash *string
	// Trust replaces a federated robot's trust policy (see SetRobotTrust).
	Trust *store.TrustPolicy
	// Repos, AllowFrom and TokenLifetime replace those of NewRobot (an
	// empty list: none; 0: the configured lifetime).
	Repos         *[]string
	AllowFrom     *[]string
	TokenLifetime *time.Duration
}

// UpdateRobot applies ch to the robot with id in one transaction; its
// secret stays.
func (s *Service) UpdateRobot(ctx context.Context, who Actor, id int64, ch RobotChange) (Robot, error) {
	if ch.Lifetime == nil && ch.Actions == nil && ch.Permissions == nil && ch.Description == nil && ch.Disabled == nil &&
		ch.ExpiresAt == nil && ch.SecretHash == nil && ch.Trust == nil && ch.SystemAccess == nil &&
		ch.Repos == nil && ch.AllowFrom == nil && ch.TokenLifetime == nil {
		return Robot{}, invalidf("nothing to change")
	}
	if ch.SecretHash != nil && !secret.IsHarborHash(*ch.SecretHash) {
		return Robot{}, invalidf("robot secret hash: want a harbor-pbkdf2-sha256 hash")
	}
	if ch.Description != nil {
		if err := ValidText("description", *ch.Description, MaxDescriptionBytes); err != nil {
			return Robot{}, err
		}
	}
	return s.modifyRobot(ctx, who, id, "robot.update", func(r *store.Robot) error {
		var err error
		if ch.Lifetime != nil {
			if r.ExpiresAt, err = s.expiry(*ch.Lifetime, s.opt.DefaultRobotLifetime); err != nil {
				return err
			}
		}
		perms := ch.Permissions
		switch {
		case ch.Actions != nil && perms != nil:
			return invalidf("robot: give actions or permissions, not both")
		case ch.Actions != nil && len(r.Permissions) != 1:
			return invalidf("robot " + s.opt.RobotPrefix + r.Name + " names several projects: give its permissions")
		case ch.Actions != nil:
			perms = []store.RobotPermission{{Project: r.Permissions[0].Project, Actions: ch.Actions}}
		}
		if perms != nil {
			if r.Permissions, err = s.robotPermissions(ctx, who, r.Project, perms); err != nil {
				return err
			}
		}
		if ch.SystemAccess != nil {
			if err := validSystemAccess(r.Project, *ch.SystemAccess); err != nil {
				return err
			}
			r.SystemAccess = slices.Clone(*ch.SystemAccess)
		}
		set(&r.Description, ch.Description)
		set(&r.Disabled, ch.Disabled)
		if ch.SecretHash != nil && r.Trust != nil {
			return invalidf("robot " + s.opt.RobotPrefix + r.Name + " is federated: it cannot take a secret")
		}
		set(&r.SecretHash, ch.SecretHash)
		if ch.Trust != nil {
			if err := s.replaceTrust(r, *ch.Trust); err != nil {
				return err
			}
		}
		if ch.ExpiresAt != nil {
			r.ExpiresAt = ch.ExpiresAt.UTC()
		}
		if ch.Repos != nil || ch.AllowFrom != nil || ch.TokenLifetime != nil {
			repos, nets, lifetime := r.Repos, r.AllowFrom, r.TokenLifetime
			set(&repos, ch.Repos)
			set(&nets, ch.AllowFrom)
			set(&lifetime, ch.TokenLifetime)
			if r.Repos, r.AllowFrom, r.TokenLifetime, err = s.validRobotPolicy(r.Project, repos, nets, lifetime); err != nil {
				return err
			}
		}
		return nil
	})
}

// RefreshRobotSecret gives a robot a new secret, returned to be shown
// once; the old one stops working at once.
func (s *Service) RefreshRobotSecret(ctx context.Context, who Actor, id int64) (Robot, string, error) {
	return s.SetRobotSecret(ctx, who, id, "")
}

// SetRobotSecret gives a robot secret (checked by ValidPassword, stored
// with bcrypt), or a new random one when secret is empty, and returns it;
// the old one stops working at once. Another robot may have the same
// secret: robots are found by name, and nothing tells the caller.
func (s *Service) SetRobotSecret(ctx context.Context, who Actor, id int64, sec string) (Robot, string, error) {
	// The actor's right first (modifyRobot checks it again in the
	// transaction): hashing a chosen secret is slow.
	if _, err := s.GetRobot(ctx, who, id); err != nil {
		return Robot{}, "", err
	}
	sec, hash, err := s.robotSecret(sec)
	if err != nil {
		return Robot{}, "", err
	}
	r, err := s.modifyRobot(ctx, who, id, "robot.secret", func(r *store.Robot) error {
		if r.Trust != nil {
			return invalidf("robot " + s.opt.RobotPrefix + r.Name + " is federated: it has no secret to refresh")
		}
		r.SecretHash = hash
		return nil
	})
	if err != nil {
		return Robot{}, "", err
	}
	return r, sec, nil
}

// modifyRobot checks the actor and applies change to the robot with id in
// one transaction.
func (s *Service) modifyRobot(ctx context.Context, who Actor, id int64, action string, change func(*store.Robot) error) (Robot, error) {
	cur, err := s.GetRobot(ctx, who, id)
	if err != nil {
		return Robot{}, err
	}
	var r store.Robot
	err = s.change(ctx, who, action, "robot "+cur.Login, func(st store.Store) (err error) {
		r, err = st.ModifyRobot(ctx, cur.Name, func(r store.Robot) (store.Robot, error) {
			if r.ID != id {
				return r, &Error{Kind: KindNotFound, Msg: fmt.Sprintf("robot %d not found", id), Err: store.ErrNotFound}
			}
			if err := s.allowRobots(ctx, who, r.Project); err != nil {
				return r, err
			}
			return r, change(&r)
		})
		return fromStore(err, "robot "+cur.Login)
	})
	if err != nil {
		return Robot{}, err
	}
	return s.robot(r), nil
}

// DeleteRobot deletes the robot with id and returns it as it was.
func (s *Service) DeleteRobot(ctx context.Context, who Actor, id int64) (Robot, error) {
	r, err := s.GetRobot(ctx, who, id)
	if err != nil {
		return Robot{}, err
	}
	if err := s.change(ctx, who, "robot.delete", "robot "+r.Login, func(st store.Store) error {
		if cur, err := st.GetRobotByID(ctx, id); err != nil || cur.Name != r.Name {
			return fromStore(cmpErr(err, store.ErrNotFound), fmt.Sprintf("robot %d", id))
		}
		return fromStore(st.DeleteRobot(ctx, r.Name), "robot "+r.Login)
	}); err != nil {
		return Robot{}, err
	}
	return r, nil
}

// NewPAT is a personal access token to create.
type NewPAT struct {
	User string
	// Name labels it, unique per user.
	Name string
	// Lifetime is how long it works from now; 0 or Never means forever.
	Lifetime time.Duration
	// AllowFrom are the networks its logins may come from (CIDRs; none:
	// anywhere). The owner's own networks apply as well.
	AllowFrom []string
}

// CreatePAT creates a personal access token for an enabled user and
// returns it with its secret, which is stored only as a hash.
func (s *Service) CreatePAT(ctx context.Context, who Actor, np NewPAT) (store.PersonalToken, string, error) {
	if err := s.byPassword(who, "create tokens for "+np.User); err != nil {
		return store.PersonalToken{}, "", err
	}
	if err := s.allow(ctx, who, rightOwnCredentials, np.User, "create tokens for "+np.User); err != nil {
		return store.PersonalToken{}, "", err
	}
	if err := ValidName(np.Name); err != nil {
		return store.PersonalToken{}, "", err
	}
	exp, err := s.expiry(np.Lifetime, 0)
	if err != nil {
		return store.PersonalToken{}, "", err
	}
	sec, err := secret.NewPAT()
	if err != nil {
		return store.PersonalToken{}, "", err
	}
	u, err := s.st.GetUser(ctx, np.User)
	if err != nil {
		return store.PersonalToken{}, "", fromStore(err, "user "+np.User)
	}
	if u.Disabled {
		return store.PersonalToken{}, "", invalidf(fmt.Sprintf("user %s is disabled: its tokens would not work", np.User))
	}
	nets, err := ParseAllowFrom(np.AllowFrom)
	if err != nil {
		return store.PersonalToken{}, "", err
	}
	t := store.PersonalToken{User: np.User, Name: np.Name, Hash: secret.Hash(sec), ExpiresAt: exp, AllowFrom: nets}
	if who.Name == np.User {
		t.PasswordVerifiedAt = who.PasswordVerifiedAt
		if who.SignInID != 0 {
			t.SignInID = who.SignInID
			if t.ExpiresAt.IsZero() || t.ExpiresAt.After(who.SignInEnds) {
				t.ExpiresAt = who.SignInEnds
			}
		}
	}
	if err := s.change(ctx, who, "pat.create", fmt.Sprintf("token %s of user %s", np.Name, np.User), func(st store.Store) error {
		return storeErr(st.CreatePersonalToken(ctx, &t), "user "+np.User, "",
			fmt.Sprintf("user %s already has a token named %s", np.User, np.Name))
	}); err != nil {
		return store.PersonalToken{}, "", err
	}
	return t, sec, nil
}

// ListPATs lists a user's personal access tokens, never their secrets.
func (s *Service) ListPATs(ctx context.Context, who Actor, user string) ([]store.PersonalToken, error) {
	if err := s.allow(ctx, who, rightOwnCredentials, user, "list the tokens of "+user); err != nil {
		return nil, err
	}
	ts, err := s.st.ListPersonalTokens(ctx, user)
	return ts, fromStore(err, "user "+user)
}

// RevokePAT deletes a user's personal access token by name.
func (s *Service) RevokePAT(ctx context.Context, who Actor, user, name string) error {
	if err := s.byPassword(who, "revoke the tokens of "+user); err != nil {
		return err
	}
	if err := s.allow(ctx, who, rightOwnCredentials, user, "revoke the tokens of "+user); err != nil {
		return err
	}
	return s.change(ctx, who, "pat.revoke", fmt.Sprintf("token %s of user %s", name, user), func(st store.Store) error {
		return fromStore(st.DeletePersonalToken(ctx, user, name), "token "+name+" of user "+user)
	})
}

// ListRefreshTokens lists a user's refresh tokens, never their secrets.
func (s *Service) ListRefreshTokens(ctx context.Context, who Actor, user string) ([]store.RefreshToken, error) {
	if err := s.allow(ctx, who, rightOwnCredentials, user, "list the tokens of "+user); err != nil {
		return nil, err
	}
	ts, err := s.st.ListRefreshTokens(ctx, user)
	return ts, fromStore(err, "user "+user)
}

// RevokeRefreshToken deletes one of a user's refresh tokens.
func (s *Service) RevokeRefreshToken(ctx context.Context, who Actor, user string, id int64) error {
	if err := s.byPassword(who, "revoke the tokens of "+user); err != nil {
		return err
	}
	if err := s.allow(ctx, who, rightOwnCredentials, user, "revoke the tokens of "+user); err != nil {
		return err
	}
	return s.change(ctx, who, "refresh_token.revoke", fmt.Sprintf("refresh token %d of user %s", id, user), func(st store.Store) error {
		return storeErr(st.DeleteRefreshToken(ctx, user, id), "", fmt.Sprintf("user %s has no refresh token %d", user, id), "")
	})
}

// RevokeRefreshTokens deletes all of a user's refresh tokens and returns
// how many there were.
func (s *Service) RevokeRefreshTokens(ctx context.Context, who Actor, user string) (int, error) {
	if err := s.byPassword(who, "revoke the tokens of "+user); err != nil {
		return 0, err
	}
	if err := s.allow(ctx, who, rightOwnCredentials, user, "revoke the tokens of "+user); err != nil {
		return 0, err
	}
	var n int
	err := s.change(ctx, who, "refresh_token.revoke_all", "refresh tokens of user "+user, func(st store.Store) (err error) {
		n, err = st.DeleteRefreshTokens(ctx, user)
		return fromStore(err, "user "+user)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
