// Package secret checks the credentials authserver itself issues or stores a hash of: local users' passwords (bcrypt, Harbor's PBKDF2), robot secrets, personal access tokens and refresh tokens, and makes and hashes their secrets.
package secret
