// Package policy is the policy-as-code file format of `authserver apply` and `authserver export`: decoded strictly, encoded in a stable order.
package policy
