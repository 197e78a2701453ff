package store

// ListQuery selects one page of a listing (PageUsers, PageProjects,
// PageGroups, PageMembers, PageRobots): the rows that meet every Filter,
// ordered by Sort and then by id, Offset rows skipped, at most Limit
// (0: all). The listing's method returns that page and the number of rows
// that meet the filters (one count(*) query), so a page is never read by
// reading the whole table. A Field that the listing does not have, a Match
// with the wrong number of Values or a value that is not of the field's
// type (an integer for the *ID and Owner fields, true or false for
// FieldPublic and FieldSystem) is a plain error: validating is the
// caller's job.
type ListQuery struct {
	Filters []Filter
	Sort    []Sort
	Offset  int
	Limit   int
}

// Filter is one condition of a ListQuery on a field.
type Filter struct {
	Field string
	Match Match
	// Values: one for MatchExact and MatchFuzzy; two for MatchRange (the
	// lower and upper bound, both included, "" for none); one or more for
	// MatchSet.
	Values []string
}

// Match is how a Filter compares.
type Match int

// The kinds of Match (Harbor's q forms k=v, k=~v, k=[a~b], k={a b}).
const (
	MatchExact Match = iota // the field equals the value
	MatchFuzzy              // the field contains the value, ASCII letters in any case
	MatchRange              // the field lies between the bounds (integer fields as numbers)
	MatchSet                // the field equals one of the values
)

// Sort orders a listing by a field, descending when Desc.
type Sort struct {
	Field string
	Desc  bool
}

// The fields of the listings. Every listing has FieldID and FieldName
// (for members the user's or group's name); the others are named with the
// listings that have them.
const (
	FieldID       = "id"           // integer
	FieldName     = "name"         // text
	FieldCreated  = "created_at"   // time (sort only): users, projects, groups, robots
	FieldUpdated  = "updated_at"   // time (sort only): users, robots
	FieldEmail    = "email"        // text: users
	FieldRealName = "display_name" // text: users
	FieldAdmin    = "admin"        // true or false: users
	FieldPublic   = "public"       // true or false: projects
	FieldOwner    = "owner"        // text, the owner's user name: projects
	FieldOwnerID  = "owner_id"     // integer: projects
	FieldDN       = "dn"           // text, compared lower-cased: groups
	FieldSystem   = "system"       // true or false, a system robot: robots
	FieldProject  = "project_id"   // integer, a project robot's project: robots
	FieldRole     = "role"         // text: members
	FieldKind     = "kind"         // "user" or "group": members
)
