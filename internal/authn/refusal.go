package authn

import (
	"time"

	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/store"
)

// RobotRefusal says why rb, its credential checked, may not log in at now,
// or "": disabled, expired, a project robot whose project is gone, a
// system robot whose named projects are all gone. Fail closed: losing
// projects never widens a robot to every project. The robot login and
// explain (internal/admin) both ask it.
func RobotRefusal(rb store.Robot, now time.Time) string {
	switch {
	case rb.Disabled:
		return "disabled"
	case rb.Expired(now):
		return "expired"
	case rb.Project == "":
		return "its project no longer exists"
	case len(rb.Permissions) == 0:
		return "the projects it held no longer exist"
	}
	return ""
}

// UserRefusal says why u, its password checked, may not log in, or "":
// a disabled user. Explain (internal/admin) asks it as the logins do.
func UserRefusal(u store.User) string {
	if u.Disabled {
		return "disabled"
	}
	return ""
}

// PermissionsOf is what rb (just read from the store, so the caller's to
// keep) may do, as the authorizer takes it: the robot login and explain
// both build a robot's subject with it.
func PermissionsOf(rb store.Robot) *authz.RobotPermissions {
	return &authz.RobotPermissions{ID: rb.ID, Permissions: rb.Permissions, Repos: rb.Repos}
}

// RobotCondition is rb's network condition (none without allow_from);
// login is its login name.
func RobotCondition(rb store.Robot, login string) []Condition {
	if len(rb.AllowFrom) == 0 {
		return nil
	}
	return []Condition{{On: "robot " + login, AllowFrom: rb.AllowFrom}}
}
