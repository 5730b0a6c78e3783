// Command flux-apply applies a set of manifests to a cluster the way Flux's kustomize-controller
// (v1.10) does on each reconcile, through the real github.com/fluxcd/pkg/ssa library. It lets
// kubectl-oam's tests show what a GitOps reconciler does to fields that other managers wrote,
// without running Flux itself (no source-controller, no Kustomization object, no prune, no
// health checks): just the apply step.
//
// Usage:
//
//	flux-apply --kubeconfig F [--context C] [-n NS] -f FILE [--ignore [KIND[/NAME]:]PTR]...
//	           [--name KUSTOMIZATION --namespace-of-kustomization NS] [--force] [--override-manager M]...
//
// What it reproduces, as kustomize-controller's apply step sets it up:
//   - server-side apply as field manager "kustomize-controller", always forcing conflicts (the
//     library's apply and dry-run pass ForceOwnership); objects are applied in stages (CRDs,
//     namespaces and cluster roles first, then class kinds, then the rest), each only when the
//     server-side dry-run shows drift;
//   - before applying a drifted object, the managedFields entries of the managers the controller
//     lists are handed over to kustomize-controller (so the fields they added disappear with the
//     apply): any manager whose name starts with "kubectl" (Apply and Update operations on the main
//     resource: kubectl apply --server-side, kubectl apply, kubectl-edit, kubectl-client-side-apply,
//     and also kubectl-oam-*), "before-first-apply" (Update) and kustomize-controller's own Update
//     entries, plus those named with --override-manager (the controller's flag of that name); the
//     annotations kubectl.kubernetes.io/last-applied-configuration,
//     kustomize.toolkit.fluxcd.io/checksum, fluxcd.io/sync-checksum and the label
//     fluxcd.io/sync-gc-mark are removed;
//   - the per-object annotation kustomize.toolkit.fluxcd.io/ssa: Merge (no manager clean-up),
//     Ignore (skipped; so is kustomize.toolkit.fluxcd.io/reconcile: disabled) and IfNotPresent
//     (created, never patched); kustomize.toolkit.fluxcd.io/force: enabled recreates the object
//     on an immutable-field error (--force does it for every object, as spec.force);
//   - spec.ignore: each --ignore is one rule of the Kustomization's spec.ignore. v1.10 passes them
//     to the library as ApplyOptions.DriftIgnoreRules, which v0.78.0 has too: the paths are left
//     out of the drift comparison, and when an ignored path did drift it is stripped from the
//     applied body if another Apply manager owns it, else the in-cluster value is sent back
//     (so kustomize-controller keeps the field without reverting it).
//   - --name/--namespace-of-kustomization add the labels kustomize.toolkit.fluxcd.io/name and
//     kustomize.toolkit.fluxcd.io/namespace, as the controller does for its Kustomization.
//
// Not reproduced: kustomize-controller v1.10.1 uses fluxcd/pkg/ssa v0.83.0 (Go 1.27). Two changes
// since v0.78.0 matter here: v0.83.0 can take managers over before the dry-run (only with the
// controller's --override-manager-before-dry-run flag, off by default), and it skips sending back
// an ignored path's in-cluster value when the applied body lacks that path (v0.78.0 fails that
// apply with a JSON-patch error instead).
//
// Output: one line per object, "Kind/namespace/name ACTION" with ACTION one of created,
// configured, unchanged, skipped. On error: the lines of the objects handled so far, then one line
// "error: ..." on stderr, exit status 1 (2 for a usage error).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/jsondiff"
	"github.com/fluxcd/pkg/ssa/normalize"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

const (
	// The controller's name: its field manager.
	controllerName = "kustomize-controller"
	// kustomize.toolkit.fluxcd.io: the group of the Kustomization API, the prefix of its labels and
	// annotations.
	group = "kustomize.toolkit.fluxcd.io"
)

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type options struct {
	kubeconfig, context, namespace, file string
	name, kustomizationNamespace         string
	ignores, overrideManagers            stringList
	force                                bool
	timeout                              time.Duration
}

func main() {
	var o options
	fs := flag.NewFlagSet("flux-apply", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
	fs.StringVar(&o.context, "context", "", "kubeconfig context")
	fs.StringVar(&o.namespace, "n", "", "namespace for namespaced objects that name none (default: the context's, else default)")
	fs.StringVar(&o.namespace, "namespace", "", "same as -n")
	fs.StringVar(&o.file, "f", "", "manifests: YAML or JSON documents, Lists allowed; - reads stdin")
	fs.Var(&o.ignores, "ignore", "a spec.ignore rule: [KIND[/NAME]:]JSON_POINTER (repeatable; NAME is a regular expression)")
	fs.StringVar(&o.name, "name", "", "the Kustomization's name, for the kustomize.toolkit.fluxcd.io/name label")
	fs.StringVar(&o.kustomizationNamespace, "namespace-of-kustomization", "", "the Kustomization's namespace, for the kustomize.toolkit.fluxcd.io/namespace label")
	fs.BoolVar(&o.force, "force", false, "spec.force: recreate objects whose immutable fields changed")
	fs.Var(&o.overrideManagers, "override-manager", "also take over this field manager's fields (the controller's --override-manager; repeatable)")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "give up after this long")
	if err := fs.Parse(os.Args[1:]); err != nil {
		usage(err.Error())
	}
	switch {
	case fs.NArg() > 0:
		usage("unexpected argument " + fs.Arg(0))
	case o.file == "":
		usage("-f FILE is required")
	case (o.name == "") != (o.kustomizationNamespace == ""):
		usage("--name and --namespace-of-kustomization go together")
	}

	// The library and client-go log through these; keep stderr for the one error line.
	ctrllog.SetLogger(logr.Discard())
	klog.SetLogger(logr.Discard())

	changes, err := run(o)
	for _, c := range changes {
		fmt.Println(c.String())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error: "+oneLine(err.Error()))
		os.Exit(1)
	}
}

func usage(msg string) {
	fmt.Fprintln(os.Stderr, "error: "+msg+" (usage: flux-apply --kubeconfig F [--context C] [-n NS] -f FILE [--ignore [KIND[/NAME]:]PTR]... [--name K --namespace-of-kustomization NS] [--force] [--override-manager M]...)")
	os.Exit(2)
}

// oneLine joins a multi-line error (dry-run failures list each field) into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

func run(o options) ([]ssa.ChangeSetEntry, error) {
	ignoreRules, err := parseIgnores(o.ignores)
	if err != nil {
		return nil, err
	}
	objects, err := readObjects(o.file)
	if err != nil {
		return nil, err
	}

	loading := clientcmd.NewDefaultClientConfigLoadingRules()
	loading.ExplicitPath = o.kubeconfig
	kubeconfig := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(loading, &clientcmd.ConfigOverrides{CurrentContext: o.context})
	cfg, err := kubeconfig.ClientConfig()
	if err != nil {
		return nil, err
	}
	cfg.UserAgent = controllerName
	cfg.WarningHandlerWithContext = warnings{}
	kube, err := client.New(cfg, client.Options{})
	if err != nil {
		return nil, err
	}
	namespace := o.namespace
	if namespace == "" {
		if namespace, _, err = kubeconfig.Namespace(); err != nil {
			return nil, err
		}
	}
	if err := defaultNamespaces(kube, objects, namespace); err != nil {
		return nil, err
	}

	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()

	// The controller's apply step, in its order: normalize the built objects, make a resource
	// manager owned by the controller, label the objects with their Kustomization, apply staged.
	if err := normalize.UnstructuredList(objects); err != nil {
		return nil, err
	}
	poller := polling.NewStatusPoller(kube, kube.RESTMapper(), polling.Options{})
	manager := ssa.NewResourceManager(kube, poller, ssa.Owner{Field: controllerName, Group: group})
	if o.name != "" {
		manager.SetOwnerLabels(objects, o.name, o.kustomizationNamespace)
	}
	changeSet, err := manager.ApplyAllStaged(ctx, objects, applyOptions(o, ignoreRules))
	var entries []ssa.ChangeSetEntry
	if changeSet != nil {
		entries = changeSet.Entries
	}
	return entries, err
}

// applyOptions: the options kustomize-controller v1.10 builds for each reconcile (its apply
// method), with spec.force, spec.ignore and --override-manager taken from the flags.
func applyOptions(o options, ignoreRules []jsondiff.IgnoreRule) ssa.ApplyOptions {
	opts := ssa.DefaultApplyOptions()
	opts.Force = o.force
	opts.ExclusionSelector = map[string]string{
		group + "/reconcile": "disabled",
		group + "/ssa":       "Ignore",
	}
	opts.IfNotPresentSelector = map[string]string{group + "/ssa": "IfNotPresent"}
	opts.ForceSelector = map[string]string{group + "/force": "enabled"}
	opts.DriftIgnoreRules = ignoreRules

	// Prefix matches (FieldManager.ExactMatch false), main resource only: the library never
	// touches subresource entries such as the scale writes of an HPA.
	managers := []ssa.FieldManager{
		{Name: "kubectl", OperationType: metav1.ManagedFieldsOperationApply},
		{Name: "kubectl", OperationType: metav1.ManagedFieldsOperationUpdate},
		{Name: "before-first-apply", OperationType: metav1.ManagedFieldsOperationUpdate},
		{Name: controllerName, OperationType: metav1.ManagedFieldsOperationUpdate},
	}
	for _, m := range o.overrideManagers {
		managers = append(managers,
			ssa.FieldManager{Name: m, OperationType: metav1.ManagedFieldsOperationApply},
			ssa.FieldManager{Name: m, OperationType: metav1.ManagedFieldsOperationUpdate})
	}
	opts.Cleanup = ssa.ApplyCleanupOptions{
		Annotations:   []string{corev1.LastAppliedConfigAnnotation, group + "/checksum", "fluxcd.io/sync-checksum"},
		Labels:        []string{"fluxcd.io/sync-gc-mark"},
		FieldManagers: managers,
		Exclusions:    map[string]string{group + "/ssa": "Merge"},
	}
	return opts
}

// parseIgnores turns each "[KIND[/NAME]:]POINTER" into one spec.ignore rule: paths [POINTER],
// target {kind: KIND, name: NAME} when given (as the controller maps spec.ignore[].target to the
// library's selector; NAME is a regular expression there).
func parseIgnores(values []string) ([]jsondiff.IgnoreRule, error) {
	var rules []jsondiff.IgnoreRule
	for _, v := range values {
		target, pointer := "", v
		if !strings.HasPrefix(v, "/") {
			i := strings.Index(v, ":/")
			if i < 0 {
				return nil, fmt.Errorf("--ignore %q: want a JSON pointer such as /spec/replicas, or KIND[/NAME]:POINTER", v)
			}
			target, pointer = v[:i], v[i+1:]
		}
		rule := jsondiff.IgnoreRule{Paths: []string{pointer}}
		if target != "" {
			kind, name, _ := strings.Cut(target, "/")
			if kind == "" {
				return nil, fmt.Errorf("--ignore %q: the target names no kind", v)
			}
			rule.Selector = &jsondiff.Selector{Kind: kind, Name: name}
		}
		rules = append(rules, rule)
	}
	// Fail on a bad name pattern now, not in the middle of an apply.
	if _, err := jsondiff.CompileIgnoreRules(rules); err != nil {
		return nil, err
	}
	return rules, nil
}

func readObjects(file string) ([]*unstructured.Unstructured, error) {
	var in io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		in = f
	}
	objects, err := ssautil.ReadObjects(in)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	if len(objects) == 0 {
		return nil, fmt.Errorf("%s holds no Kubernetes objects", file)
	}
	return objects, nil
}

// defaultNamespaces puts namespaced objects that name no namespace in ns, as kubectl apply -n
// does (kustomize-controller gets the same from spec.targetNamespace). A kind the server does
// not know yet is judged by a CRD for it in the same set.
func defaultNamespaces(kube client.Client, objects []*unstructured.Unstructured, ns string) error {
	scopes := map[string]string{}
	for _, o := range objects {
		if ssautil.IsCRD(o) {
			g, _, _ := unstructured.NestedString(o.Object, "spec", "group")
			k, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
			s, _, _ := unstructured.NestedString(o.Object, "spec", "scope")
			scopes[k+"."+g] = s
		}
	}
	for _, o := range objects {
		if o.GetNamespace() != "" {
			continue
		}
		namespaced, err := kube.IsObjectNamespaced(o)
		if err != nil {
			gvk := o.GroupVersionKind()
			scope, ok := scopes[gvk.Kind+"."+gvk.Group]
			if !ok {
				return fmt.Errorf("%s: %w", ssautil.FmtUnstructured(o), err)
			}
			namespaced = scope == "Namespaced"
		}
		if namespaced {
			o.SetNamespace(ns)
		}
	}
	return nil
}

// warnings prints the API server's warnings as kubectl does.
type warnings struct{}

func (warnings) HandleWarningHeaderWithContext(_ context.Context, code int, _ string, text string) {
	if code == 299 && text != "" {
		fmt.Fprintln(os.Stderr, "Warning: "+text)
	}
}

var _ rest.WarningHandlerWithContext = warnings{}
