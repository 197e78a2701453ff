package ldap

import (
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/authserver/authserver/internal/config"
)

func TestParseDirectoryTime(t *testing.T) {
	tests := []struct {
		name, in string
		want     time.Time
		wantErr  bool
	}{
		{name: "generalized time (pwdChangedTime)", in: "20261201183201Z", want: time.Date(2026, 12, 1, 18, 32, 1, 0, time.UTC)},
		{name: "fraction", in: "20261201183201.5Z", want: time.Date(2026, 12, 1, 18, 32, 1, 5e8, time.UTC)},
		{name: "offset", in: "20261201203201+0200", want: time.Date(2026, 12, 1, 18, 32, 1, 0, time.UTC)},
		// 2026-12-01T18:32:01Z is 13440623521 s after 1601-01-01.
		{name: "filetime (pwdLastSet)", in: "134406235210000001", want: time.Date(2026, 12, 1, 18, 32, 1, 100, time.UTC)},
		{name: "filetime 0 (must change at next logon)", in: "0", want: time.Time{}},
		{name: "garbage", in: "yesterday", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDirectoryTime(tt.in)
			if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
				t.Errorf("parseDirectoryTime(%q) = %v, %v; want %v (error %t)", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestEntryID(t *testing.T) {
	guid := []byte{0x01, 0xff, 0x10, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42}
	entry := func(attrs ...*ldap.EntryAttribute) *ldap.Entry {
		return &ldap.Entry{DN: "CN=Ann,DC=corp", Attributes: attrs}
	}
	tests := []struct {
		name, idAttr string
		entry        *ldap.Entry
		want         string
	}{
		{name: "entryUUID by default", entry: entry(&ldap.EntryAttribute{Name: "entryUUID", ByteValues: [][]byte{[]byte("3e679b4a-8201-1041-8a98-c92bc9dcc3c9")}}),
			want: "entryUUID:3e679b4a-8201-1041-8a98-c92bc9dcc3c9"},
		{name: "objectGUID in hex by default", entry: entry(&ldap.EntryAttribute{Name: "objectGUID", ByteValues: [][]byte{guid}}),
			want: "objectGUID:01ff1080000000000000000000000042"},
		{name: "configured attribute", idAttr: "employeeNumber",
			entry: entry(&ldap.EntryAttribute{Name: "employeeNumber", ByteValues: [][]byte{[]byte("E-17")}},
				&ldap.EntryAttribute{Name: "entryUUID", ByteValues: [][]byte{[]byte("x")}}),
			want: "employeeNumber:E-17"},
		{name: "no identifier: the DN", entry: entry(), want: "dn:cn=ann,dc=corp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &Directory{cfg: config.LDAP{UserSearch: config.LDAPUserSearch{IDAttribute: tt.idAttr}}}
			if got := l.entryID(tt.entry); got != tt.want {
				t.Errorf("entryID = %q, want %q", got, tt.want)
			}
		})
	}
}
