// Command local-cluster runs a small but complete Kubernetes control plane in one process: a real
// kube-apiserver with an embedded etcd, kube-controller-manager and kube-scheduler, plus kwok (a
// child process) simulating a few nodes and the pods on them.
//
// It is the control plane that kubectl-oam's tests and demo run against: server-side apply,
// managedFields, conflicts, dry-run and RBAC are decided by the upstream API server code, and the
// upstream controllers roll Deployments out, run Jobs, scale for HPAs and delete namespaces. Pods
// never run containers: kwok marks them Running and Ready once the scheduler has bound them.
//
// Usage: local-cluster -dir STATE_DIR [-port 16443] [-etcd-port 12379] [-kwok PATH] [-nodes 3] [-name NAME]
//
// It writes STATE_DIR/kubeconfig (contexts admin, dev, ops; NAME-admin, NAME-dev, NAME-ops with
// -name, and so its cluster and users, so that the kubeconfigs of two clusters merge) before the
// server starts serving,
// STATE_DIR/parts (one line per part as it becomes ready) and STATE_DIR/ready once every part is.
// If any part stops, the whole process exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
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
	kwokPath := flag.String("kwok", "", "kwok binary that simulates the nodes (none: no nodes, pods stay Pending)")
	nodes := flag.Int("nodes", 3, "fake nodes to create for kwok")
	name := flag.String("name", "", "prefix of the kubeconfig's context, cluster and user names (NAME-admin, …)")
	flag.Parse()

	// Upstream clients name themselves (User-Agent, and so the managedFields manager) after the
	// program: make the API server's own writes read "kube-apiserver" as in a real cluster.
	os.Args[0] = "kube-apiserver"

	if err := run(*dir, *name, *port, *etcdPort, *kwokPath, *nodes); err != nil && !errors.Is(err, errSignal) {
		fmt.Fprintf(os.Stderr, "local-cluster: %v\n", err)
		os.Exit(1)
	}
}

func run(dir, name string, port, etcdPort int, kwokPath string, nodes int) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	pki := filepath.Join(dir, "pki")
	if err := os.MkdirAll(pki, 0o700); err != nil {
		return err
	}
	for _, name := range []string{"parts", "ready"} {
		_ = os.Remove(filepath.Join(dir, name))
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
	parts := &partsFile{path: filepath.Join(dir, "parts")}

	start := time.Now()
	// etcd is never closed: it ends with the process, and every start begins with fresh data.
	if _, err := startEtcd(filepath.Join(dir, "etcd"), etcdPort); err != nil {
		return fmt.Errorf("starting etcd: %w", err)
	}
	parts.ready("etcd", start)

	server := fmt.Sprintf("https://127.0.0.1:%d", port)
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(kubeconfig, name, server, filepath.Join(pki, "ca.crt")); err != nil {
		return err
	}

	// Every part runs until a signal (SIGTERM, SIGINT) or until one of them stops, whatever the
	// reason; either ends the process.
	stopped := make(chan error, 16)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() { stopped <- fmt.Errorf("%w (%v)", errSignal, <-signals) }()
	go func() {
		err := apiServer(dir, pki, port, etcdPort, tokenFile).Execute()
		stopped <- fmt.Errorf("kube-apiserver stopped: %v", err)
	}()

	client, err := waitForAPIServer(kubeconfig, stopped)
	if err != nil {
		return err
	}
	parts.ready("kube-apiserver", start)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := startControllerManager(ctx, kubeconfig, pki, stopped); err != nil {
		return fmt.Errorf("kube-controller-manager: %w", err)
	}
	schedulerSynced, err := startScheduler(ctx, kubeconfig, stopped)
	if err != nil {
		return fmt.Errorf("kube-scheduler: %w", err)
	}
	if kwokPath != "" {
		kwok, err := startKwok(kwokPath, dir, kubeconfig, stopped)
		if err != nil {
			return fmt.Errorf("kwok: %w", err)
		}
		defer kwok.stop()
	}

	if err := waitUntil(stopped, 60*time.Second, "the controllers to create the default service account and aggregate the edit role",
		func() bool { return controllersActing(ctx, client) }); err != nil {
		return err
	}
	parts.ready("kube-controller-manager", start)
	if err := waitUntil(stopped, 60*time.Second, "the scheduler to sync", func() bool { return schedulerSynced.Load() }); err != nil {
		return err
	}
	parts.ready("kube-scheduler", start)
	if kwokPath != "" {
		if err := createNodes(ctx, client, nodes); err != nil {
			return fmt.Errorf("creating nodes: %w", err)
		}
		if err := waitUntil(stopped, 60*time.Second, fmt.Sprintf("kwok to make %d nodes Ready", nodes),
			func() bool { return readyNodes(ctx, client) >= nodes }); err != nil {
			return err
		}
		parts.ready(fmt.Sprintf("kwok (%d nodes Ready)", nodes), start)
	}
	readyFile := filepath.Join(dir, "ready")
	if err := os.WriteFile(readyFile, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return err
	}
	defer os.Remove(readyFile)
	return <-stopped
}

// errSignal: asked to stop. The API server's own graceful shutdown waits for the other parts'
// watches to drain (up to a minute); the state is thrown away at the next start, so do not wait.
var errSignal = errors.New("stopped by a signal")

func apiServer(dir, pki string, port, etcdPort int, tokenFile string) interface{ Execute() error } {
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
		// No node-lifecycle controller runs (kwok's nodes need no health checks), so nothing would
		// lift the not-ready taint this plugin puts on new nodes.
		"--disable-admission-plugins=TaintNodesByCondition",
		"--allow-privileged=true",
		"--endpoint-reconciler-type=none",
		"--v=0",
	})
	return cmd
}

// waitForAPIServer waits until /readyz answers ok, and returns an admin client.
func waitForAPIServer(kubeconfig string, stopped <-chan error) (kubernetes.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.Timeout = 5 * time.Second
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	err = waitUntil(stopped, 120*time.Second, "kube-apiserver to become ready", func() bool {
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(context.Background())
		return err == nil && strings.TrimSpace(string(body)) == "ok"
	})
	return client, err
}

// waitUntil polls cond every 100ms until it holds; a part stopping or the timeout is an error.
func waitUntil(stopped <-chan error, timeout time.Duration, what string, cond func() bool) error {
	deadline := time.After(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case err := <-stopped:
			return fmt.Errorf("while waiting for %s: %w", what, err)
		case <-deadline:
			return fmt.Errorf("timed out after %s waiting for %s", timeout, what)
		case <-tick.C:
		}
	}
	return nil
}

// partsFile records, one line each, the parts that are ready and how long each took from start.
type partsFile struct {
	path  string
	lines []string
}

func (p *partsFile) ready(part string, since time.Time) {
	p.lines = append(p.lines, fmt.Sprintf("%s ready after %.1fs", part, time.Since(since).Seconds()))
	_ = os.WriteFile(p.path, []byte(strings.Join(p.lines, "\n")+"\n"), 0o644)
	fmt.Fprintf(os.Stderr, "local-cluster: %s\n", p.lines[len(p.lines)-1])
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
