// Package zotverify is a test-only token verifier that applies zot's rules (project-zot/zot v2.1.20), so tests can prove that a registry other than distribution accepts exactly what it should.
package zotverify
