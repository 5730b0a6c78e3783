package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	kcm "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	kcmoptions "k8s.io/kubernetes/cmd/kube-controller-manager/app/options"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	scheduleroptions "k8s.io/kubernetes/cmd/kube-scheduler/app/options"
)

// The controllers a workload needs to roll out, scale, finish and be deleted, and those that make
// a namespace usable (service accounts, the root CA ConfigMap) and the built-in roles complete, and
// the one that lets a deleted claim go (pvc-protection: its finalizer holds a namespace's deletion).
var controllers = []string{
	"deployment", "replicaset", "statefulset", "daemonset", "job", "cronjob",
	"horizontalpodautoscaling", "namespace", "garbagecollector", "serviceaccount",
	"serviceaccount-token", "root-ca-cert-publisher", "clusterrole-aggregation", "podgc", "pvc-protection",
	"ttl-after-finished",
}

// startControllerManager runs kube-controller-manager in this process through its options API (the
// cobra command would apply logging and signal handling a second time).
func startControllerManager(ctx context.Context, kubeconfig, pki string, stopped chan<- error) error {
	opts, err := kcmoptions.NewKubeControllerManagerOptions()
	if err != nil {
		return err
	}
	all, disabled, aliases := kcm.KnownControllers(), kcm.ControllersDisabledByDefault(), kcm.ControllerAliases()
	named := opts.Flags(all, disabled, aliases)
	fs := pflag.NewFlagSet("kube-controller-manager", pflag.ContinueOnError)
	for _, f := range named.FlagSets {
		fs.AddFlagSet(f)
	}
	err = fs.Parse([]string{
		"--kubeconfig=" + kubeconfig,
		"--leader-elect=false", // one instance; losing a lease would end the process
		"--secure-port=0",
		"--controllers=" + strings.Join(controllers, ","),
		"--service-account-private-key-file=" + filepath.Join(pki, "sa.key"),
		"--root-ca-file=" + filepath.Join(pki, "ca.crt"),
		// Without metrics the HPA only clamps replicas to min/max: do it within a second.
		"--horizontal-pod-autoscaler-sync-period=1s",
	})
	if err != nil {
		return err
	}
	opts.ParsedFlags = &named
	if err := opts.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	config, err := opts.Config(ctx, all, disabled, aliases)
	if err != nil {
		return err
	}
	// Every controller client is built from this config: name them kube-controller-manager, so
	// managedFields read as in a real cluster (not after this program).
	config.Kubeconfig.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return userAgentAs{name: "kube-controller-manager", next: rt}
	})
	go func() {
		err := kcm.Run(ctx, config.Complete())
		stopped <- fmt.Errorf("kube-controller-manager stopped: %v", err)
	}()
	return nil
}

// startScheduler runs kube-scheduler in this process through its options API; the returned flag
// turns true once its informers have synced.
func startScheduler(ctx context.Context, kubeconfig string, stopped chan<- error) (*atomic.Bool, error) {
	opts := scheduleroptions.NewOptions()
	fs := pflag.NewFlagSet("kube-scheduler", pflag.ContinueOnError)
	for _, f := range opts.Flags.FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse([]string{"--kubeconfig=" + kubeconfig, "--leader-elect=false", "--secure-port=0"}); err != nil {
		return nil, err
	}
	if err := opts.ComponentGlobalsRegistry.Set(); err != nil {
		return nil, err
	}
	cc, sched, err := scheduler.Setup(ctx, opts)
	if err != nil {
		return nil, err
	}
	go func() {
		err := scheduler.Run(ctx, cc, sched)
		stopped <- fmt.Errorf("kube-scheduler stopped: %v", err)
	}()
	synced := &atomic.Bool{}
	go func() {
		if sched.WaitForHandlersSync(ctx) == nil {
			synced.Store(true)
		}
	}()
	return synced, nil
}

// controllersActing: the service account controller has made the default namespace's account and
// the aggregation controller has filled the built-in edit role.
func controllersActing(ctx context.Context, client kubernetes.Interface) bool {
	if _, err := client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
		return false
	}
	edit, err := client.RbacV1().ClusterRoles().Get(ctx, "edit", metav1.GetOptions{})
	return err == nil && len(edit.Rules) > 0
}

// userAgentAs replaces the program name at the start of each request's User-Agent.
type userAgentAs struct {
	name string
	next http.RoundTripper
}

func (u userAgentAs) RoundTrip(req *http.Request) (*http.Response, error) {
	agent := u.name
	if ua := req.Header.Get("User-Agent"); strings.Contains(ua, "/") {
		agent += ua[strings.Index(ua, "/"):]
	}
	req = req.Clone(req.Context())
	req.Header.Set("User-Agent", agent)
	return u.next.RoundTrip(req)
}
