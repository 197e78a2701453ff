package authn

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/authserver/authserver/internal/store"
)

// Local checks users created with `authserver user add` against their bcrypt
// hash in the store.
type Local struct {
	users store.Users
	// dummy is compared against when the user is unknown, disabled or not
	// local, so the response time does not reveal which names exist.
	dummy []byte
}

var _ PasswordAuthenticator = (*Local)(nil)

// NewLocal returns a Local authenticator. cost is the bcrypt cost new
// hashes use; the dummy hash is made with the same cost so timing matches.
func NewLocal(users store.Users, cost int) (*Local, error) {
	dummy, err := bcrypt.GenerateFromPassword([]byte("authserver-dummy-password"), cost)
	if err != nil {
		return nil, fmt.Errorf("local authenticator: %w", err)
	}
	return &Local{users: users, dummy: dummy}, nil
}

// Login implements PasswordAuthenticator.
func (l *Local) Login(ctx context.Context, username, password string) (Identity, bool, error) {
	if username == "" || password == "" {
		return Identity{}, false, nil
	}
	u, err := l.users.GetUser(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword(l.dummy, []byte(password))
		return Identity{}, false, nil
	}
	if err != nil {
		return Identity{}, false, fmt.Errorf("local login: %w: %w", ErrUnavailable, err)
	}
	hash := []byte(u.PasswordHash)
	if u.Source != store.SourceLocal || u.PasswordHash == "" {
		hash = l.dummy
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || u.Disabled || u.Source != store.SourceLocal {
		return Identity{}, false, nil
	}
	return Identity{UserID: u.ID, Name: u.Name, Admin: u.Admin, Method: MethodPassword}, true, nil
}

// HashPassword returns the bcrypt hash of a new password. It refuses an
// empty password and one longer than bcrypt's 72-byte limit, rather than
// silently truncating it.
func HashPassword(password string, cost int) (string, error) {
	if password == "" {
		return "", errors.New("password must not be empty")
	}
	if len(password) > 72 {
		return "", errors.New("password longer than 72 bytes (bcrypt's limit)")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}
