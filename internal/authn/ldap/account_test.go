package ldap

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/config"
)

// filetime is t as a Windows FILETIME string.
func filetime(t time.Time) string {
	return fmt.Sprint((t.Unix()+fileTimeToUnix)*10_000_000 + int64(t.Nanosecond()/100))
}

// Active Directory's account state, read from the attributes of
// ldap.account_state: each refusal, and the values that mean "never".
func TestAccountState(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	past, future := filetime(now.Add(-time.Hour)), filetime(now.Add(time.Hour))
	tests := []struct {
		name  string
		attrs map[string]string
		want  string // part of the refusal; "" means admitted
	}{
		{name: "fresh account", attrs: map[string]string{"userAccountControl": "512", "msDS-User-Account-Control-Computed": "0",
			"accountExpires": "9223372036854775807", "pwdLastSet": filetime(now.Add(-24 * time.Hour)),
			"msDS-UserPasswordExpiryTimeComputed": "9223372036854775807", "lockoutTime": "0"}},
		{name: "accountExpires 0 is never", attrs: map[string]string{"accountExpires": "0"}},
		{name: "expires later", attrs: map[string]string{"accountExpires": future}},
		{name: "expired", attrs: map[string]string{"accountExpires": past}, want: "account expired"},
		{name: "disabled", attrs: map[string]string{"userAccountControl": "514"}, want: "account disabled"},
		{name: "locked out (computed)", attrs: map[string]string{"msDS-User-Account-Control-Computed": "16", "lockoutTime": past},
			want: "locked out"},
		{name: "lockout over: the DC no longer computes LOCKOUT", attrs: map[string]string{"msDS-User-Account-Control-Computed": "0",
			"lockoutTime": past}},
		{name: "lockoutTime without the computed attribute", attrs: map[string]string{"lockoutTime": past}, want: "locked out"},
		{name: "must change (pwdLastSet 0)", attrs: map[string]string{"pwdLastSet": "0"}, want: "must be changed"},
		{name: "must change (expiry 0)", attrs: map[string]string{"msDS-UserPasswordExpiryTimeComputed": "0"}, want: "must be changed"},
		{name: "password expired (computed bit)", attrs: map[string]string{"msDS-User-Account-Control-Computed": "8388608"},
			want: "password expired"},
		{name: "password expired (max age passed)", attrs: map[string]string{"msDS-UserPasswordExpiryTimeComputed": past},
			want: "password expired"},
		{name: "password expires later", attrs: map[string]string{"msDS-UserPasswordExpiryTimeComputed": future}},
		{name: "unreadable: refused", attrs: map[string]string{"accountExpires": "soon"}, want: "account expired"},
	}
	cfg := config.LDAP{AccountState: config.LDAPAccountState{Check: "on", ControlAttribute: "userAccountControl",
		ComputedControlAttribute: "msDS-User-Account-Control-Computed", ExpiresAttribute: "accountExpires",
		LockoutTimeAttribute: "lockoutTime", PasswordExpiresAttribute: "msDS-UserPasswordExpiryTimeComputed"}}
	l := &Directory{cfg: cfg, log: slog.New(slog.DiscardHandler)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &ldap.Entry{DN: "CN=x,DC=example,DC=org"}
			for k, v := range tt.attrs {
				e.Attributes = append(e.Attributes, &ldap.EntryAttribute{Name: k, Values: []string{v}, ByteValues: [][]byte{[]byte(v)}})
			}
			got := l.accountState(e).Refusal(now)
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("Refusal = %q, want %q", got, tt.want)
			}
		})
	}
	if r := (authn.AccountState{Disabled: true}).Refusal(now); r != "" {
		t.Errorf("an unchecked state refused: %q", r)
	}
}

// Active Directory's reason for a refused bind comes from the sub-code of
// its diagnostic message.
func TestBindRefusal(t *testing.T) {
	ad := func(data string) error {
		return &ldap.Error{ResultCode: ldap.LDAPResultInvalidCredentials,
			Err: errors.New("80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data " + data + ", v1db1")}
	}
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{name: "wrong password", err: ad("52e"), want: "wrong password (AD data 52e)"},
		{name: "disabled", err: ad("533"), want: "account disabled (AD data 533)"},
		{name: "expired", err: ad("701"), want: "account expired (AD data 701)"},
		{name: "must change", err: ad("773"), want: "password must be changed (AD data 773)"},
		{name: "locked out", err: ad("775"), want: "account locked out (AD data 775)"},
		{name: "password expired", err: ad("532"), want: "password expired (AD data 532)"},
		{name: "unknown code", err: ad("999"), want: "AD data 999"},
		{name: "openldap", err: &ldap.Error{ResultCode: ldap.LDAPResultInvalidCredentials, Err: errors.New("")}, want: ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := bindRefusal(tt.err); got != tt.want {
				t.Errorf("bindRefusal = %q, want %q", got, tt.want)
			}
		})
	}
}

// A bind refused for lack of TLS says so; other errors are left alone.
func TestTLSRequired(t *testing.T) {
	strong := &ldap.Error{ResultCode: ldap.LDAPResultStrongAuthRequired, Err: errors.New("BindSimple: Transport encryption required.")}
	if err := tlsRequired(strong); !errors.Is(err, ErrTLSRequired) || !strings.Contains(err.Error(), "use ldaps:// or start_tls") {
		t.Errorf("tlsRequired(strongAuthRequired) = %v", err)
	}
	other := &ldap.Error{ResultCode: ldap.LDAPResultInvalidCredentials}
	if err := tlsRequired(other); errors.Is(err, ErrTLSRequired) {
		t.Errorf("tlsRequired(invalidCredentials) = %v", err)
	}
}

// objectGUID is shown in Active Directory's GUID form (the first three
// fields little-endian); other identifiers as they are.
func TestEntryIDText(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		// Samba gave this objectGUID (base64 AZ1FVyKGN0auZkVlwjIHmA==).
		{name: "objectGUID", in: "objectGUID:019d455722863746ae664565c2320798", want: "objectGUID:57459d01-8622-4637-ae66-4565c2320798"},
		{name: "entryUUID", in: "entryUUID:3e679b4a-8201-1041-8a98-c92bc9dcc3c9", want: "entryUUID:3e679b4a-8201-1041-8a98-c92bc9dcc3c9"},
		{name: "dn", in: "dn:cn=ann,dc=corp", want: "dn:cn=ann,dc=corp"},
		{name: "short hex left alone", in: "objectGUID:0102", want: "objectGUID:0102"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := EntryIDText(tt.in); got != tt.want {
				t.Errorf("EntryIDText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
