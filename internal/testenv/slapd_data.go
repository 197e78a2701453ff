package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Generated fixtures, added to testdata/ldap/fixtures.ldif at load time.
const (
	// ManyGroups is how many groups uid=many,ou=people,ou=many is in.
	ManyGroups = 200
	// DeepChain is the length of the chain deep-01 ← deep-02 ← … in
	// ou=nested: nina is in deep-01, deep-N has deep-(N-1) as member.
	DeepChain = 14
)

// ManyGroupDN is the DN of the i-th (0-based) group of the user "many".
func ManyGroupDN(i int) string { return fmt.Sprintf("cn=g%03d,ou=groups,ou=many,%s", i, LDAPSuffix) }

// DeepGroupDN is the DN of deep-NN (1-based) in ou=nested.
func DeepGroupDN(n int) string {
	return fmt.Sprintf("cn=deep-%02d,ou=groups,ou=nested,%s", n, LDAPSuffix)
}

// GeneratedLDIF returns the entries too repetitive to keep in the fixture
// file: the 200 groups of "many" and the deep nesting chain.
func GeneratedLDIF() []byte {
	var b strings.Builder
	many := "uid=many,ou=people,ou=many," + LDAPSuffix
	for i := range ManyGroups {
		fmt.Fprintf(&b, "\ndn: %s\nobjectClass: groupOfNames\ncn: g%03d\nmember: %s\nmember: cn=placeholder\n", ManyGroupDN(i), i, many)
	}
	for n := 1; n <= DeepChain; n++ {
		member := "uid=nina,ou=people,ou=nested," + LDAPSuffix
		if n > 1 {
			member = DeepGroupDN(n - 1)
		}
		fmt.Fprintf(&b, "\ndn: %s\nobjectClass: groupOfNames\ncn: deep-%02d\nmember: %s\n", DeepGroupDN(n), n, member)
	}
	return []byte(b.String())
}

// writeSlapdTLS writes ca.pem, server.pem and server.key (a certificate for
// 127.0.0.1 and localhost signed by the CA) and other-ca.pem (an unrelated
// CA) into dir.
func writeSlapdTLS(dir string) error {
	caKey, caCert, caDER, err := newCA("authserver test LDAP CA")
	if err != nil {
		return err
	}
	_, _, otherDER, err := newCA("authserver untrusted CA")
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	files := map[string]*pem.Block{
		"ca.pem":       {Type: "CERTIFICATE", Bytes: caDER},
		"other-ca.pem": {Type: "CERTIFICATE", Bytes: otherDER},
		"server.pem":   {Type: "CERTIFICATE", Bytes: der},
		"server.key":   {Type: "PRIVATE KEY", Bytes: keyDER},
	}
	for name, block := range files {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			return err
		}
	}
	return nil
}

func newCA(name string) (*ecdsa.PrivateKey, *x509.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, der, err
}
