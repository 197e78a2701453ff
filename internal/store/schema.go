package store

import "fmt"

// MemberColumns names, for the SQL backends, the members column that holds
// a member of kind and the table that column refers to.
func MemberColumns(kind MemberKind) (col, table string, err error) {
	switch kind {
	case MemberUser:
		return "user_id", "users", nil
	case MemberGroup:
		return "group_id", "groups", nil
	}
	return "", "", fmt.Errorf("unknown member kind %q", kind)
}
