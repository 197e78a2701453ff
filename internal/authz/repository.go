package authz

import "strings"

// repositoryGrammar describes the names validRepositoryName accepts, for
// error messages.
const repositoryGrammar = "want lowercase path components of [a-z0-9] joined by '.', '_', '__' or '-', separated by '/', " +
	"optionally after a host:port/ prefix"

// validRepositoryName reports whether name is a repository name in the
// grammar of distribution's reference package, the names the registry's
// router serves:
//
//	name          := [domain '/'] path
//	path          := path-component ['/' path-component]*
//	path-component:= alpha-numeric [separator alpha-numeric]*
//	alpha-numeric := [a-z0-9]+
//	separator     := '.' | '_' | '__' | '-'+
//	domain        := host [':' port]
//	host          := domain-name | '[' [a-fA-F0-9:]+ ']'
//	domain-name   := label ['.' label]*, label [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?
//	port          := [0-9]+
//
// A first component is read as a domain only when it holds a ':' (a port,
// or an IPv6 literal), as ProjectOf reads it; any other first component is
// a path component, so "Team/app" is refused although distribution would
// take "Team" for a host. Every name accepted here is thus a name
// distribution accepts, read the way ProjectOf reads it. So "..", empty
// components, upper case and leading or trailing slashes never reach the
// authorizer. The scan is linear and allocates nothing.
func validRepositoryName(name string) bool {
	path := name
	if first, rest, ok := strings.Cut(name, "/"); ok && strings.IndexByte(first, ':') >= 0 {
		if !isDomain(first) {
			return false
		}
		path = rest
	}
	for {
		comp, rest, more := strings.Cut(path, "/")
		if !isPathComponent(comp) {
			return false
		}
		if !more {
			return true
		}
		path = rest
	}
}

// isPathComponent: alpha-numeric [separator alpha-numeric]*.
func isPathComponent(c string) bool {
	i := 0
	for {
		start := i
		for i < len(c) && isLowerAlnum(c[i]) {
			i++
		}
		if i == start {
			return false // empty, or a separator not followed by alpha-numerics
		}
		if i == len(c) {
			return true
		}
		switch c[i] {
		case '.':
			i++
		case '_':
			i++
			if i < len(c) && c[i] == '_' {
				i++
			}
		case '-':
			for i < len(c) && c[i] == '-' {
				i++
			}
		default:
			return false
		}
	}
}

// isDomain: host [':' port], host a domain name or a bracketed IPv6 literal.
func isDomain(d string) bool {
	if strings.HasPrefix(d, "[") {
		end := strings.IndexByte(d, ']')
		if end < 2 || strings.Trim(d[1:end], "0123456789abcdefABCDEF:") != "" {
			return false
		}
		port, hasPort := strings.CutPrefix(d[end+1:], ":")
		return (hasPort && isDigits(port)) || d[end+1:] == ""
	}
	host, port, hasPort := strings.Cut(d, ":")
	return isDomainName(host) && (!hasPort || isDigits(port))
}

// isDigits: [0-9]+.
func isDigits(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }

// isDomainName: labels of letters, digits and inner '-', joined by '.'.
func isDomainName(host string) bool {
	for {
		label, rest, more := strings.Cut(host, ".")
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if b := label[i]; !isLowerAlnum(b) && b != '-' && (b < 'A' || b > 'Z') {
				return false
			}
		}
		if !more {
			return true
		}
		host = rest
	}
}

func isLowerAlnum(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }
