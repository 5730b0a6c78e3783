package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// writePKI makes a CA, a serving certificate for 127.0.0.1/localhost, and a service-account key,
// reusing any that already exist so a restarted cluster keeps its kubeconfig valid.
func writePKI(pki string) error {
	caCrt, caKey := filepath.Join(pki, "ca.crt"), filepath.Join(pki, "ca.key")
	if !exists(caCrt) || !exists(caKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: "kubectl-oam-local-ca"},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().AddDate(10, 0, 0),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			return err
		}
		if err := writePEM(caCrt, "CERTIFICATE", der); err != nil {
			return err
		}
		kb, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return err
		}
		if err := writePEM(caKey, "EC PRIVATE KEY", kb); err != nil {
			return err
		}
	}
	ca, caPriv, err := loadCA(caCrt, caKey)
	if err != nil {
		return err
	}
	servingCrt := filepath.Join(pki, "serving.crt")
	if !exists(servingCrt) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(time.Now().UnixNano()),
			Subject:      pkix.Name{CommonName: "kube-apiserver"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().AddDate(10, 0, 0),
			KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			DNSNames:     []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
			IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caPriv)
		if err != nil {
			return err
		}
		kb, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return err
		}
		if err := writePEM(filepath.Join(pki, "serving.key"), "EC PRIVATE KEY", kb); err != nil {
			return err
		}
		if err := writePEM(servingCrt, "CERTIFICATE", der); err != nil {
			return err
		}
	}
	saKey := filepath.Join(pki, "sa.key")
	if !exists(saKey) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return err
		}
		if err := writePEM(saKey, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)); err != nil {
			return err
		}
	}
	return nil
}

func loadCA(crtPath, keyPath string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	crtPEM, err := os.ReadFile(crtPath)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, err
	}
	cb, _ := pem.Decode(crtPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, fmt.Errorf("unreadable CA in %s", filepath.Dir(crtPath))
	}
	crt, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	return crt, key, nil
}

func writeTokens(path string) error {
	var out string
	for i, id := range identities {
		out += fmt.Sprintf("%s,%s,%d,\"%s\"\n", id.token, id.user, 1000+i, id.groups)
	}
	return os.WriteFile(path, []byte(out), 0o600)
}

// writeKubeconfig: one cluster, a user and a context per identity. A non-empty name prefixes the
// cluster, user and context names ("east-admin"), so several clusters' files merge in a KUBECONFIG list.
func writeKubeconfig(path, name, server, caPath string) error {
	ca, err := os.ReadFile(caPath)
	if err != nil {
		return err
	}
	prefixed := func(s string) string {
		if name == "" {
			return s
		}
		return name + "-" + s
	}
	cluster := prefixed("local")
	out := "apiVersion: v1\nkind: Config\nclusters:\n- name: " + cluster + "\n  cluster:\n" +
		"    server: " + server + "\n" +
		"    certificate-authority-data: " + base64.StdEncoding.EncodeToString(ca) + "\n" +
		"users:\n"
	for _, id := range identities {
		out += "- name: " + prefixed(id.user) + "\n  user:\n    token: " + id.token + "\n"
	}
	out += "contexts:\n"
	for _, id := range identities {
		out += "- name: " + prefixed(id.user) + "\n  context:\n    cluster: " + cluster + "\n    user: " + prefixed(id.user) + "\n    namespace: default\n"
	}
	out += "current-context: " + prefixed("admin") + "\n"
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(out), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func writePEM(path, kind string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
