package harborimport

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The ldap: block, with authserver's keys (internal/config/ldap.go); only
// what Harbor sets is written.
type ldapBlock struct {
	URL                string          `yaml:"url"`
	InsecureSkipVerify bool            `yaml:"insecure_skip_verify,omitempty"`
	BindDN             string          `yaml:"bind_dn,omitempty"`
	BindPassword       string          `yaml:"bind_password,omitempty"`
	Timeout            string          `yaml:"timeout,omitempty"`
	UserSearch         ldapUserSearch  `yaml:"user_search"`
	GroupSearch        *ldapGroupBlock `yaml:"group_search,omitempty"`
	AdminGroupDN       string          `yaml:"admin_group_dn,omitempty"`
}

type ldapUserSearch struct {
	BaseDN            string `yaml:"base_dn"`
	Filter            string `yaml:"filter,omitempty"`
	UsernameAttribute string `yaml:"username_attribute,omitempty"`
	Scope             string `yaml:"scope,omitempty"`
}

type ldapGroupBlock struct {
	BaseDN        string `yaml:"base_dn"`
	Filter        string `yaml:"filter,omitempty"`
	NameAttribute string `yaml:"name_attribute,omitempty"`
}

// ldapConfig renders Harbor's ldap_* properties as authserver's ldap: block.
func ldapConfig(props map[string]string) string {
	b := ldapBlock{
		URL:          props["ldap_url"],
		BindDN:       props["ldap_search_dn"],
		AdminGroupDN: props["ldap_group_admin_dn"],
		UserSearch: ldapUserSearch{
			BaseDN:            props["ldap_base_dn"],
			Filter:            ldapFilter(props["ldap_filter"]),
			UsernameAttribute: props["ldap_uid"],
			Scope:             ldapScope(props["ldap_scope"]),
		},
	}
	if b.URL != "" && !strings.Contains(b.URL, "://") {
		b.URL = "ldap://" + b.URL // Harbor accepts a bare host
	}
	if b.BindDN != "" {
		b.BindPassword = "CHANGE-ME (Harbor's ldap_search_password, which it keeps encrypted)"
	}
	if v := props["ldap_verify_cert"]; v == "false" {
		b.InsecureSkipVerify = true
	}
	if n, err := strconv.Atoi(props["ldap_timeout"]); err == nil && n > 0 {
		b.Timeout = strconv.Itoa(n) + "s"
	}
	if base := props["ldap_group_base_dn"]; base != "" {
		b.GroupSearch = &ldapGroupBlock{BaseDN: base, Filter: ldapFilter(props["ldap_group_search_filter"]),
			NameAttribute: props["ldap_group_attribute_name"]}
	}
	var out strings.Builder
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(map[string]ldapBlock{"ldap": b}); err != nil {
		return ""
	}
	return out.String()
}

// ldapScope maps Harbor's ldap_scope (0 base, 1 one level, 2 subtree).
func ldapScope(v string) string {
	if v == "1" {
		return "one"
	}
	return "sub"
}

// ldapFilter wraps a bare filter in parentheses, as Harbor does.
func ldapFilter(f string) string {
	f = strings.TrimSpace(f)
	if f != "" && !strings.HasPrefix(f, "(") {
		f = "(" + f + ")"
	}
	return f
}
