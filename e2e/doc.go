// Package e2e tests authserver end to end: the built binary and its CLI, real registries (v3.1.2, Debian 2.8.2) and real clients (crane, oras, regctl, skopeo, the docker CLI, podman, buildah, containerd's ctr, helm), with every token the clients use also checked against zot's rules.
package e2e
