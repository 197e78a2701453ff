package secret

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/sqlite"
)

// Harbor's published vectors (src/common/utils/encrypt_test.go): password
// "content", salt "salt", 4,096 rounds, 16 bytes.
const (
	vectorSHA1   = "dc79e76c88415c97eb089d9cc80b4ab0"
	vectorSHA256 = "83d3d6f3e7cacb040423adf7ced63d21"
)

func TestHarborVectors(t *testing.T) {
	tests := []struct {
		name, version, hex string
		kind               string
	}{
		{name: "sha1", version: "sha1", hex: vectorSHA1, kind: "harbor-pbkdf2-sha1/4096"},
		{name: "empty version is sha1", version: "", hex: vectorSHA1, kind: "harbor-pbkdf2-sha1/4096"},
		{name: "sha256", version: "sha256", hex: vectorSHA256, kind: "harbor-pbkdf2-sha256/4096"},
		{name: "upper-case hex", version: "sha256", hex: strings.ToUpper(vectorSHA256), kind: "harbor-pbkdf2-sha256/4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stored, err := HarborPasswordHash(tt.version, "salt", tt.hex)
			if err != nil {
				t.Fatal(err)
			}
			if !verifyHarbor(stored, "content") {
				t.Errorf("%s does not verify %q", stored, "content")
			}
			if verifyHarbor(stored, "Content") {
				t.Errorf("%s verifies a wrong password", stored)
			}
			if got := HashKind(stored); got != tt.kind {
				t.Errorf("HashKind = %q, want %q", got, tt.kind)
			}
			if err := ValidStoredHash(stored); err != nil {
				t.Errorf("ValidStoredHash: %v", err)
			}
		})
	}
	// A robot secret is the sha256 form; VerifySecret takes it natively.
	stored, _ := HarborSecretHash("salt", vectorSHA256)
	if !Verify(stored, "content") || Verify(stored, "contents") {
		t.Error("VerifySecret on a Harbor robot hash")
	}
	if !Verify(Hash("s3"), "s3") || Verify(Hash("s3"), "s4") {
		t.Error("VerifySecret on a SHA-256 hash")
	}
}

func TestHarborHashParsing(t *testing.T) {
	good := "harbor-pbkdf2-sha256$4096$sa$lt$" + vectorSHA256
	if h, ok := parseHarbor(good); !ok || h.salt != "sa$lt" || h.iter != 4096 {
		t.Fatalf("parse %q = %+v, %v: want salt sa$lt", good, h, ok)
	}
	for _, bad := range []string{
		"", "bcrypt", "harbor-pbkdf2-md5$4096$salt$" + vectorSHA256,
		"harbor-pbkdf2-sha256$0$salt$" + vectorSHA256,
		"harbor-pbkdf2-sha256$99999999$salt$" + vectorSHA256,
		"harbor-pbkdf2-sha256$4096$$" + vectorSHA256,
		"harbor-pbkdf2-sha256$4096$salt$abcd",
		"harbor-pbkdf2-sha256$4096$salt$" + strings.Repeat("z", 32),
		"harbor-pbkdf2-sha256$4096" + vectorSHA256,
	} {
		if IsHarborHash(bad) || Verify(bad, "content") {
			t.Errorf("%q parsed as a Harbor hash", bad)
		}
	}
	if _, err := HarborPasswordHash("md5", "salt", vectorSHA1); err == nil {
		t.Error("unknown password_version accepted")
	}
	if _, err := HarborPasswordHash("sha1", "", vectorSHA1); err == nil {
		t.Error("empty salt accepted")
	}
	if HashKind("$2a$10$abc") != "bcrypt" || HashKind("") != "none" || HashKind("x") != "unknown" {
		t.Error("HashKind of bcrypt, empty, other")
	}
}

// TestHarborLoginRehash: an imported Harbor hash logs in, is replaced by
// bcrypt once, and the rehash revokes none of the user's refresh tokens.
func TestHarborLoginRehash(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/db.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	harbor, _ := HarborPasswordHash("sha256", "salt", vectorSHA256)
	u := store.User{Name: "hu", PasswordHash: harbor, Source: store.SourceLocal}
	if err := st.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	off := store.User{Name: "hoff", PasswordHash: harbor, Source: store.SourceLocal, Disabled: true}
	if err := st.CreateUser(ctx, &off); err != nil {
		t.Fatal(err)
	}
	local, err := NewLocal(st, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := local.SetCache(60e9, 100, nil); err != nil {
		t.Fatal(err)
	}
	login := func(user, pw string) bool {
		t.Helper()
		_, ok, err := local.Login(ctx, user, pw)
		if err != nil {
			t.Fatalf("Login(%s): %v", user, err)
		}
		return ok
	}

	runs := local.Dummy().Runs()
	if login("hu", "wrong") || login("hoff", "content") {
		t.Fatal("wrong password or disabled user logged in")
	}
	if got := local.Dummy().Runs() - runs; got != 2 {
		t.Errorf("dummy bcrypt ran %d times for 2 refusals, want 2", got)
	}
	if got, _ := st.GetUser(ctx, "hu"); got.PasswordHash != harbor {
		t.Fatal("a refused login changed the hash")
	}

	// A stale rehash (another login rehashed first) writes nothing.
	if !login("hu", "content") {
		t.Fatal("Harbor password refused")
	}
	first, _ := st.GetUser(ctx, "hu")
	if HashKind(first.PasswordHash) != "bcrypt" {
		t.Fatalf("after the first login the hash is %s, want bcrypt", HashKind(first.PasswordHash))
	}
	tok := store.RefreshToken{UserID: u.ID, Hash: Hash("rt"), Service: "svc"}
	if err := st.CreateRefreshToken(ctx, &tok); err != nil {
		t.Fatal(err)
	}
	if _, ok := local.rehash(ctx, u, "content"); ok {
		t.Error("a rehash from a stale read wrote")
	}
	if !login("hu", "content") || !login("hu", "content") {
		t.Fatal("bcrypt password refused after the rehash")
	}
	if got, _ := st.GetUser(ctx, "hu"); got.PasswordHash != first.PasswordHash {
		t.Error("later logins rewrote the hash")
	}
	if _, err := st.GetRefreshToken(ctx, tok.Hash); errors.Is(err, store.ErrNotFound) {
		t.Error("the refresh token was revoked by logins after the rehash")
	}
}
