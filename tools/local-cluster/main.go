// Command local-cluster runs a real kube-apiserver with an embedded etcd in one process.
//
// It is the control plane that kubectl-oam's tests and demo run against: server-side apply,
// managedFields, conflicts, dry-run and RBAC are all decided by the upstream API server code,
// not by a fake. No controller-manager runs, so there are no pods or status updates.
//
// Usage: local-cluster -dir STATE_DIR [-port 16443] [-etcd-port 12379]
//
// It writes STATE_DIR/kubeconfig (contexts admin, dev, ops) once the server is serving.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	"k8s.io/kubernetes/pkg/controller/clusterroleaggregation"
)

// Fixed test identities. The tokens are for a throwaway local cluster on loopback only.
var identities = []struct {
	user, token, groups string
}{
	{"admin", "oam-admin-token", "system:masters"},
	{"dev", "oam-dev-token", "oam:developers"},
	{"ops", "oam-ops-token", "oam:operators"},
}

func main() {
	dir := flag.String("dir", ".local-cluster", "state directory")
	port := flag.Int("port", 16443, "kube-apiserver secure port on 127.0.0.1")
	etcdPort := flag.Int("etcd-port", 12379, "embedded etcd client port on 127.0.0.1 (peer port is +1)")
	flag.Parse()

	if err := run(*dir, *port, *etcdPort); err != nil {
		fmt.Fprintf(os.Stderr, "local-cluster: %v\n", err)
		os.Exit(1)
	}
}

func run(dir string, port, etcdPort int) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	pki := filepath.Join(dir, "pki")
	if err := os.MkdirAll(pki, 0o700); err != nil {
		return err
	}
	for _, p := range []int{port, etcdPort, etcdPort + 1} {
		if err := checkPortFree(p); err != nil {
			return err
		}
	}
	if err := writePKI(pki); err != nil {
		return fmt.Errorf("writing certificates: %w", err)
	}
	tokenFile := filepath.Join(pki, "tokens.csv")
	if err := writeTokens(tokenFile); err != nil {
		return err
	}

	etcd, err := startEtcd(filepath.Join(dir, "etcd"), etcdPort)
	if err != nil {
		return fmt.Errorf("starting etcd: %w", err)
	}
	defer etcd.Close()

	server := fmt.Sprintf("https://127.0.0.1:%d", port)
	if err := writeKubeconfig(filepath.Join(dir, "kubeconfig"), server, filepath.Join(pki, "ca.crt")); err != nil {
		return err
	}

	// The built-in edit/view/admin ClusterRoles are aggregated by a controller-manager controller;
	// run just that one, so RBAC tests can bind the real `edit` role.
	go runClusterRoleAggregation(filepath.Join(dir, "kubeconfig"))

	cmd := app.NewAPIServerCommand()
	cmd.SetArgs([]string{
		"--etcd-servers=" + fmt.Sprintf("http://127.0.0.1:%d", etcdPort),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", port),
		"--cert-dir=" + filepath.Join(dir, "cert-dir"),
		"--tls-cert-file=" + filepath.Join(pki, "serving.crt"),
		"--tls-private-key-file=" + filepath.Join(pki, "serving.key"),
		"--client-ca-file=" + filepath.Join(pki, "ca.crt"),
		"--token-auth-file=" + tokenFile,
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + filepath.Join(pki, "sa.key"),
		"--service-account-signing-key-file=" + filepath.Join(pki, "sa.key"),
		// No controller-manager creates default service accounts, so pods would never admit.
		"--disable-admission-plugins=ServiceAccount",
		"--allow-privileged=true",
		"--endpoint-reconciler-type=none",
		"--v=0",
	})
	return cmd.Execute()
}

func checkPortFree(port int) error {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("port %d on 127.0.0.1 is in use: %w", port, err)
	}
	return l.Close()
}

func startEtcd(dataDir string, port int) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Dir = dataDir
	cfg.LogLevel = "error"
	cfg.UnsafeNoFsync = true // a test cluster: speed over durability
	client := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", port)}
	peer := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", port+1)}
	cfg.ListenClientUrls = []url.URL{client}
	cfg.AdvertiseClientUrls = []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, fmt.Errorf("etcd not ready after 60s")
	}
}

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

func writeKubeconfig(path, server, caPath string) error {
	ca, err := os.ReadFile(caPath)
	if err != nil {
		return err
	}
	out := "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n" +
		"    server: " + server + "\n" +
		"    certificate-authority-data: " + base64.StdEncoding.EncodeToString(ca) + "\n" +
		"users:\n"
	for _, id := range identities {
		out += "- name: " + id.user + "\n  user:\n    token: " + id.token + "\n"
	}
	out += "contexts:\n"
	for _, id := range identities {
		out += "- name: " + id.user + "\n  context:\n    cluster: local\n    user: " + id.user + "\n    namespace: default\n"
	}
	out += "current-context: admin\n"
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

// runClusterRoleAggregation waits for the server, then fills aggregated ClusterRoles (edit, view,
// admin) from their parts, as kube-controller-manager does in a full cluster.
func runClusterRoleAggregation(kubeconfig string) {
	ctx := context.Background()
	var client kubernetes.Interface
	for {
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err == nil {
			cs, err := kubernetes.NewForConfig(cfg)
			if err == nil {
				if _, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx); err == nil {
					client = cs
					break
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	factory := informers.NewSharedInformerFactory(client, 0)
	controller := clusterroleaggregation.NewClusterRoleAggregation(factory.Rbac().V1().ClusterRoles(), client.RbacV1())
	factory.Start(ctx.Done())
	controller.Run(ctx, 1)
}
