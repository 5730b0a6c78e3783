package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// kwokStages is kwok's configuration: how nodes and pods move through their lives.
//
//go:embed kwok-stages.yaml
var kwokStages []byte

type kwokProcess struct{ cmd *exec.Cmd }

// startKwok runs kwok as a child process that manages every node; its log goes to DIR/kwok.log.
func startKwok(binary, dir, kubeconfig string, stopped chan<- error) (*kwokProcess, error) {
	stages := filepath.Join(dir, "kwok-stages.yaml")
	if err := os.WriteFile(stages, kwokStages, 0o644); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "kwok.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary,
		"--kubeconfig="+kubeconfig,
		"--config="+stages,
		"--manage-all-nodes=true",
		"--cidr=10.244.0.0/16",
	)
	cmd.Stdout, cmd.Stderr = log, log
	// kwok reads ~/.kwok/kwok.yaml when it exists (it may set a node port to listen on) and keeps
	// its work files there: give each cluster its own, so that two run side by side untouched.
	cmd.Env = append(os.Environ(), "KWOK_WORKDIR="+filepath.Join(dir, "kwok-work"))
	// kwok must not outlive this process, however it ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	go func() {
		err := cmd.Wait()
		log.Close()
		stopped <- fmt.Errorf("kwok stopped (%v); see %s", err, filepath.Join(dir, "kwok.log"))
	}()
	return &kwokProcess{cmd: cmd}, nil
}

func (k *kwokProcess) stop() {
	_ = k.cmd.Process.Signal(syscall.SIGTERM)
}

// createNodes registers n fake nodes, one per zone, each with its own pod CIDR. kwok fills in their
// status (Ready, capacity) because it manages all nodes.
func createNodes(ctx context.Context, client kubernetes.Interface, n int) error {
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("node-%d", i)
		zone := fmt.Sprintf("zone-%c", 'a'+rune((i-1)%26))
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name: name,
				Labels: map[string]string{
					"kubernetes.io/hostname":           name,
					"kubernetes.io/os":                 "linux",
					"kubernetes.io/arch":               "amd64",
					"topology.kubernetes.io/zone":      zone,
					"node.kubernetes.io/instance-type": "kwok",
					"type":                             "kwok",
				},
				Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			},
			Spec: corev1.NodeSpec{PodCIDR: fmt.Sprintf("10.244.%d.0/24", i), PodCIDRs: []string{fmt.Sprintf("10.244.%d.0/24", i)}},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("10.240.0.%d", i)},
				{Type: corev1.NodeHostName, Address: name},
			}},
		}
		if _, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return nil
}

// readyNodes counts the nodes whose Ready condition is True.
func readyNodes(ctx context.Context, client kubernetes.Interface) int {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	list, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0
	}
	ready := 0
	for _, node := range list.Items {
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
	}
	return ready
}
