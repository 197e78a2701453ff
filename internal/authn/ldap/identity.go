package ldap

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"
)

// The attributes tried, in order, when ldap.user_search.id_attribute or
// password_changed_attribute is empty: OpenLDAP's (and most servers') first,
// then Active Directory's. Asking a server for an attribute it does not
// know is harmless (it is left out of the answer).
var (
	defaultIDAttributes              = []string{"entryUUID", "objectGUID"}
	defaultPasswordChangedAttributes = []string{"pwdChangedTime", "pwdLastSet"}
)

// idAttributes and pwdChangedAttributes are the attributes read from a user
// entry for its identifier and password change time.
func (l *Directory) idAttributes() []string {
	if a := l.cfg.UserSearch.IDAttribute; a != "" {
		return []string{a}
	}
	return defaultIDAttributes
}

func (l *Directory) pwdChangedAttributes() []string {
	if a := l.cfg.UserSearch.PasswordChangedAttribute; a != "" {
		return []string{a}
	}
	return defaultPasswordChangedAttributes
}

// entryID is the entry's identifier as store.LDAPUser.EntryID wants it:
// "<attribute>:<value>" for the first identifier attribute the entry has
// (a binary value such as objectGUID in hex), else "dn:<lower-cased DN>".
func (l *Directory) entryID(e *ldap.Entry) string {
	for _, a := range l.idAttributes() {
		for _, ea := range e.Attributes {
			if !strings.EqualFold(ea.Name, a) || len(ea.ByteValues) == 0 {
				continue
			}
			v := ea.ByteValues[0]
			if strings.EqualFold(a, "objectGUID") || !utf8.Valid(v) {
				return a + ":" + hex.EncodeToString(v)
			}
			return a + ":" + string(v)
		}
	}
	return "dn:" + strings.ToLower(e.DN)
}

// passwordChanged is when the entry's password last changed, zero when the
// entry does not say. now stands for "changed, at an unknown time": Active
// Directory's pwdLastSet 0 (must change at next logon) and a value that
// cannot be read (fail closed: credentials issued before are refused).
func (l *Directory) passwordChanged(e *ldap.Entry, now time.Time) time.Time {
	for _, a := range l.pwdChangedAttributes() {
		v := e.GetEqualFoldAttributeValue(a)
		if v == "" {
			continue
		}
		t, err := parseDirectoryTime(v)
		if err != nil {
			l.log.Warn("ldap password change time unreadable: counted as changed now", "dn", e.DN, "attribute", a, "err", err)
			return now
		}
		if t.IsZero() {
			return now
		}
		return t
	}
	return time.Time{}
}

// fileTimeToUnix is the number of seconds from 1601-01-01, where Windows
// FILETIME counts from, to 1970-01-01.
const fileTimeToUnix = 11644473600

// parseDirectoryTime reads an LDAP generalized time (20261201183000Z,
// fractions and offsets allowed) or a Windows FILETIME (100 ns intervals
// since 1601, all digits); FILETIME 0 is the zero time.
func parseDirectoryTime(v string) (time.Time, error) {
	if strings.Trim(v, "0123456789") == "" && len(v) != 14 {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("filetime %q: %w", v, err)
		}
		if n == 0 {
			return time.Time{}, nil
		}
		const perSecond = 10_000_000
		return time.Unix(n/perSecond-fileTimeToUnix, n%perSecond*100).UTC(), nil
	}
	t, err := time.Parse("20060102150405Z0700", v)
	if err != nil {
		return time.Time{}, fmt.Errorf("generalized time %q: %w", v, err)
	}
	return t.UTC(), nil
}

// EntryIDText is a recorded entry identifier (store.LDAPUser.EntryID) in
// its server's own text form, for people: an objectGUID, stored as the hex
// of its 16 bytes, in Active Directory's GUID form (the first three fields
// little-endian: "objectGUID:044d5ae2-…"); anything else as it is.
func EntryIDText(id string) string {
	attr, v, ok := strings.Cut(id, ":")
	if !ok || !strings.EqualFold(attr, "objectGUID") {
		return id
	}
	b, err := hex.DecodeString(v)
	if err != nil || len(b) != 16 {
		return id
	}
	return attr + ":" + GUIDString(b)
}

// GUIDString is a 16-byte GUID as Active Directory writes it.
func GUIDString(b []byte) string {
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint16(b[4:6]),
		binary.LittleEndian.Uint16(b[6:8]), b[8:10], b[10:16])
}
