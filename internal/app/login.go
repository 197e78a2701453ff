package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/authserver/authserver/internal/devicelogin"
	"github.com/authserver/authserver/internal/dockercfg"
)

// LoginOptions are those of `authserver login REGISTRY`.
type LoginOptions struct {
	Registry string // host[:port] as docker names it
	Insecure bool   // plain http to the registry (loopback hosts always are)
	// Authserver replaces the authserver URL found from the registry's
	// realm (<public_url>/service/token).
	Authserver string
	Scope      string // optional scopes to ask for with the device code
	HTTP       *http.Client
}

// Login signs a person in to a registry's authserver with the device flow
// (internal/devicelogin): it prints the address and code to open in a
// browser on out, waits for the approval, and stores the refresh token as
// the registry's identitytoken in docker's config (internal/dockercfg).
func Login(ctx context.Context, opts LoginOptions, out io.Writer) error {
	hc := opts.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	regURL, err := devicelogin.RegistryURL(opts.Registry, opts.Insecure)
	if err != nil {
		return err
	}
	ch, err := devicelogin.Discover(ctx, hc, regURL)
	if err != nil {
		return err
	}
	base := opts.Authserver
	if base == "" {
		if base, err = ch.Base(); err != nil {
			return err
		}
	}
	c := &devicelogin.Client{HTTP: hc, Base: base, TokenURL: ch.Realm, Service: ch.Service, Scope: opts.Scope}
	if opts.Authserver != "" {
		c.TokenURL = ""
	}
	dc, err := c.Start(ctx)
	if err != nil {
		return err
	}
	open := dc.VerificationURIComplete
	if open == "" {
		open = dc.VerificationURI
	}
	fmt.Fprintf(out, "To sign in to %s, open this address in a browser:\n\n    %s\n\nand check that it shows the code %s (enter it at %s if asked).\nWaiting for the approval (the code expires in %s)...\n",
		opts.Registry, open, dc.UserCode, dc.VerificationURI, time.Duration(dc.ExpiresIn)*time.Second)
	tok, err := c.Poll(ctx, dc)
	if err != nil {
		return err
	}
	path, err := dockercfg.ConfigPath()
	if err != nil {
		return err
	}
	user := tok.Subject()
	key := dockercfg.ServerKey(opts.Registry)
	stored, err := dockercfg.StoreIdentityToken(path, key, user, tok.RefreshToken)
	if err != nil {
		return err
	}
	who := ""
	if user != "" {
		who = " as " + user
	}
	if stored.Helper != "" {
		fmt.Fprintf(out, "Signed in to %s%s. The docker config %s names the credential helper %q for %s (credHelpers/credsStore): the refresh token was stored through docker-credential-%s, as docker login does, and %s keeps only an empty entry.\n",
			key, who, path, stored.Helper, key, stored.Helper, path)
		return nil
	}
	fmt.Fprintf(out, "Signed in to %s%s. The refresh token is stored as the identitytoken of %s in %s; docker, crane, podman and buildah use it.\n",
		key, who, key, path)
	return nil
}

// CredentialHelperName is the name the binary answers the docker
// credential-helper protocol under (a link or copy of authserver).
const CredentialHelperName = "docker-credential-authserver"

// CredentialHelper runs one docker credential-helper action (get, store,
// erase, list) over the helper's 0600 file (internal/dockercfg).
func CredentialHelper(args []string, in io.Reader, out io.Writer) error {
	path, err := dockercfg.HelperPath()
	if err != nil {
		return err
	}
	return dockercfg.Helper(path, args, in, out)
}
