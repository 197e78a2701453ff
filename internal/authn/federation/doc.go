// Package federation verifies OIDC JWTs of trusted workload issuers (CI, Kubernetes) and matches them against a federated robot's trust policy.
package federation
