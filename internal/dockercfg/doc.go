// Package dockercfg keeps registry credentials where docker and its peers read them: the identitytoken of a registry in docker's config.json (as `docker login` writes it, through a configured credential helper when there is one), and the docker credential-helper protocol (get, store, erase, list) over a 0600 file, for docker-credential-authserver.
package dockercfg
