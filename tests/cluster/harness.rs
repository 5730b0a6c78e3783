//! The one helper the cluster tests share: a real control plane per test run, a namespace per test.
//!
//! By default the first test starts `scripts/local-cluster up` (kube-apiserver with embedded etcd,
//! kube-controller-manager, kube-scheduler and kwok's simulated nodes) and every test reuses it.
//! `OAM_TEST_KUBECONFIG=FILE` runs the same tests against an existing cluster instead (with `kubectl`
//! from `OAM_TEST_KUBECTL` or PATH); that cluster needs contexts `admin`, `dev` and `ops` as the local
//! one has.
//!
//! Each test's namespace is deleted when the test ends (pass or fail; `OAM_TEST_KEEP_NAMESPACES=1`
//! keeps them). They carry the label `kubectl-oam.dev/test-run` (from `OAM_TEST_RUN`, which
//! scripts/test sets), so scripts/test can check afterwards that the controllers removed them all.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Env {
    pub kubeconfig: PathBuf,
    /// Folder with kubectl and kubectl-krew built by scripts/local-cluster (None: use PATH).
    pub bin_dir: Option<PathBuf>,
}

impl Env {
    pub fn kubectl_path(&self) -> PathBuf {
        if let Ok(k) = std::env::var("OAM_TEST_KUBECTL") {
            return k.into();
        }
        match &self.bin_dir {
            Some(dir) => dir.join("kubectl"),
            None => "kubectl".into(),
        }
    }
}

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The shared control plane; started once per test process.
pub fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        if let Ok(kubeconfig) = std::env::var("OAM_TEST_KUBECONFIG") {
            return Env { kubeconfig: kubeconfig.into(), bin_dir: None };
        }
        let script = repo().join("scripts/local-cluster");
        let up = Command::new(&script)
            .arg("up")
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/local-cluster up");
        assert!(up.status.success(), "scripts/local-cluster up failed (see its error above)");
        let stdout = String::from_utf8_lossy(&up.stdout);
        let kubeconfig = stdout.lines().last().expect("up prints the kubeconfig path last").trim().into();
        let bin = Command::new(&script)
            .arg("bin")
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/local-cluster bin");
        let bin_dir = String::from_utf8_lossy(&bin.stdout).lines().last().map(|l| PathBuf::from(l.trim()));
        Env { kubeconfig, bin_dir }
    })
}

/// A second control plane, "west" (contexts west-admin, west-dev, west-ops), for the tests of
/// several clusters: started once per test process as the main one is (reused when it runs), with
/// no kwok (`OAM_CLUSTER_NODES=0`: pods stay Pending; these tests read and write workloads, they
/// run no pods). Its ports are `OAM_TEST_WEST_PORT` (16543) and `OAM_TEST_WEST_ETCD_PORT` (12579),
/// its folder `OAM_TEST_WEST_DIR` (default: the script's, .local-cluster/clusters/west);
/// `OAM_TEST_WEST_KUBECONFIG=FILE` uses an existing cluster with those contexts instead.
pub fn west_kubeconfig() -> &'static Path {
    static WEST: OnceLock<PathBuf> = OnceLock::new();
    WEST.get_or_init(|| {
        if let Ok(kubeconfig) = std::env::var("OAM_TEST_WEST_KUBECONFIG") {
            return kubeconfig.into();
        }
        let mut cmd = Command::new(repo().join("scripts/local-cluster"));
        cmd.arg("up")
            .env("OAM_CLUSTER_NAME", "west")
            .env("OAM_CLUSTER_PORT", std::env::var("OAM_TEST_WEST_PORT").unwrap_or_else(|_| "16543".into()))
            .env("OAM_ETCD_PORT", std::env::var("OAM_TEST_WEST_ETCD_PORT").unwrap_or_else(|_| "12579".into()))
            .env("OAM_CLUSTER_NODES", "0")
            .env_remove("OAM_CLUSTER_DIR");
        if let Ok(dir) = std::env::var("OAM_TEST_WEST_DIR") {
            cmd.env("OAM_CLUSTER_DIR", dir);
        }
        let up = cmd.stderr(Stdio::inherit()).output().expect("run scripts/local-cluster up (west)");
        assert!(up.status.success(), "scripts/local-cluster up (west) failed (see its error above)");
        let stdout = String::from_utf8_lossy(&up.stdout);
        stdout.lines().last().expect("up prints the kubeconfig path last").trim().into()
    })
}

/// A kubeconfig whose one context, "dead", points at a closed port (nothing listens on port 1).
pub fn dead_kubeconfig() -> &'static Path {
    static DEAD: OnceLock<PathBuf> = OnceLock::new();
    DEAD.get_or_init(|| {
        // One file for every run (the same text each time), written whole and renamed into place.
        let path = std::env::temp_dir().join("oam-test-dead.kubeconfig");
        let partial = std::env::temp_dir().join(format!("oam-test-dead.kubeconfig.{}", std::process::id()));
        std::fs::write(
            &partial,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}\n\
             users:\n- name: dead\n  user: {token: none}\ncontexts:\n- name: dead\n  context: {cluster: dead, user: dead}\n",
        )
        .expect("write the dead context's kubeconfig");
        std::fs::rename(&partial, &path).expect("move the dead context's kubeconfig into place");
        path
    })
}

/// KUBECONFIG holding the main cluster (contexts admin, dev, ops), west (west-admin, …) and dead.
pub fn fleet_kubeconfig() -> String {
    [env().kubeconfig.as_path(), west_kubeconfig(), dead_kubeconfig()]
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

/// What a command did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success, got {self:#?}");
        self
    }

    /// Exit code 2 (an error) and a single `error:` line on stderr.
    #[track_caller]
    pub fn error(self) -> String {
        assert_eq!(self.code, 2, "expected an error exit, got {self:#?}");
        let lines: Vec<&str> = self.stderr.lines().filter(|l| !l.starts_with("warning:")).collect();
        assert_eq!(lines.len(), 1, "errors are one line: {:?}", self.stderr);
        assert!(lines[0].starts_with("error: "), "errors start with `error:`: {:?}", self.stderr);
        lines[0].to_string()
    }

    /// Exit code 2 and one `error:` line, the last, after any progress lines `--wait` printed about
    /// `object` (`job.batch/broken: 0/1 succeeded, 1 running, 0 failed`): whether a rollout is seen
    /// progressing before it fails depends on how busy the machine is, so such lines may come or not.
    #[track_caller]
    pub fn error_after_progress(self, object: &str) -> String {
        assert_eq!(self.code, 2, "expected an error exit, got {self:#?}");
        let lines: Vec<&str> = self.stderr.lines().filter(|l| !l.starts_with("warning:")).collect();
        let Some((last, before)) = lines.split_last() else { panic!("no error line: {self:#?}") };
        assert!(last.starts_with("error: "), "the error comes last: {:?}", self.stderr);
        let progress = format!("{object}: ");
        assert!(
            before.iter().all(|l| l.starts_with(&progress)),
            "only progress lines before it: {:?}",
            self.stderr
        );
        last.to_string()
    }
}

pub fn oam_binary() -> &'static str {
    env!("CARGO_BIN_EXE_kubectl-oam")
}

/// A namespace of its own for one test, with dev and ops bound to the built-in `edit` role; deleted
/// (without waiting) when dropped.
pub struct Ns {
    pub name: String,
    cache_dir: PathBuf,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Ns {
    pub fn new(test: &str) -> Ns {
        let env = env();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("{}-{}-{n}", test.replace('_', "-"), std::process::id())
            .chars()
            .take(60)
            .collect::<String>()
            .trim_end_matches('-')
            .to_string();
        let cache_dir = std::env::temp_dir().join(format!("oam-test-cache-{name}"));
        let ns = Ns { name, cache_dir };
        let _ = env;
        ns.kubectl_stdin(
            &["apply", "-f", "-"],
            &format!(
                "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {{kubectl-oam.dev/test-run: '{run}'}}}}\n---\n\
                 apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: oam-roles, namespace: {ns}}}\n\
                 roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}}\n\
                 subjects:\n- {{apiGroup: rbac.authorization.k8s.io, kind: Group, name: 'oam:developers'}}\n\
                 - {{apiGroup: rbac.authorization.k8s.io, kind: Group, name: 'oam:operators'}}\n",
                ns = ns.name,
                run = std::env::var("OAM_TEST_RUN").unwrap_or_else(|_| "adhoc".into()),
            ),
        )
        .ok();
        ns
    }

    /// Real kubectl, as admin, in this namespace.
    pub fn kubectl(&self, args: &[&str]) -> Run {
        self.kubectl_stdin(args, "")
    }

    /// Real kubectl with extra environment (e.g. KUBE_EDITOR for `kubectl edit`).
    pub fn kubectl_with_env(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        let env = env();
        let mut cmd = Command::new(env.kubectl_path());
        cmd.arg("--kubeconfig").arg(&env.kubeconfig).args(["-n", &self.name]).args(args);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        run_with_stdin(&mut cmd, "")
    }

    pub fn kubectl_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let env = env();
        run_with_stdin(
            Command::new(env.kubectl_path())
                .arg("--kubeconfig")
                .arg(&env.kubeconfig)
                .args(["-n", &self.name])
                .args(args),
            stdin,
        )
    }

    /// kubectl-oam in this namespace (as admin unless args say --context).
    pub fn oam(&self, args: &[&str]) -> Run {
        self.oam_with(args, "", &[])
    }

    /// kubectl-oam aimed at another namespace.
    pub fn oam_in(&self, namespace: &str, args: &[&str]) -> Run {
        self.oam_full(namespace, args, "", &[])
    }

    pub fn oam_with(&self, args: &[&str], stdin: &str, envs: &[(&str, &str)]) -> Run {
        self.oam_full(&self.name, args, stdin, envs)
    }

    fn oam_full(&self, namespace: &str, args: &[&str], stdin: &str, envs: &[(&str, &str)]) -> Run {
        let env = env();
        let mut cmd = Command::new(oam_binary());
        cmd.env("KUBECONFIG", &env.kubeconfig)
            .env("KUBECACHEDIR", &self.cache_dir)
            .env("NO_COLOR", "1")
            .env_remove("KUBE_EDITOR")
            .env_remove("EDITOR")
            .env_remove("KUBECTL_EXTERNAL_DIFF")
            .args(args)
            .args(["-n", namespace]);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        run_with_stdin(&mut cmd, stdin)
    }

    /// kubectl-oam on a pseudo-terminal (util-linux `script`), as a person runs it, in this
    /// namespace; `args` as one shell line. Colour only when asked (as on a terminal without NO_COLOR).
    pub fn oam_on_terminal(&self, args: &str, envs: &[(&str, &str)], colour: bool) -> std::process::Child {
        let command = format!("{} {args} -n {}", oam_binary(), self.name);
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &command, "/dev/null"])
            .env("KUBECONFIG", &env().kubeconfig)
            .env("KUBECACHEDIR", &self.cache_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match colour {
            true => cmd.env_remove("NO_COLOR"),
            false => cmd.env("NO_COLOR", "1"),
        };
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.spawn().expect("script (util-linux) runs")
    }

    /// `oam_on_terminal`, typing `answer` and Enter every 300 ms until it ends (every prompt gets
    /// it): whether it succeeded, and the screen.
    pub fn oam_answering(
        &self,
        args: &str,
        envs: &[(&str, &str)],
        colour: bool,
        answer: &str,
    ) -> (bool, String) {
        use std::io::Write;
        let mut child = self.oam_on_terminal(args, envs, colour);
        let mut stdin = child.stdin.take().unwrap();
        let line = format!("{answer}\n");
        let answers = std::thread::spawn(move || {
            for _ in 0..100 {
                std::thread::sleep(std::time::Duration::from_millis(300));
                if stdin.write_all(line.as_bytes()).and_then(|_| stdin.flush()).is_err() {
                    break;
                }
            }
        });
        let out = child.wait_with_output().unwrap();
        answers.join().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Completion candidates for `words` (the last one is being typed), as kubectl's plugin
    /// completion asks for them; the words are passed as they are (no -n added).
    pub fn complete(&self, words: &[&str]) -> Vec<String> {
        let out = Command::new(oam_binary())
            .arg("__complete")
            .args(words)
            .env("KUBECONFIG", &env().kubeconfig)
            .env("KUBECACHEDIR", &self.cache_dir)
            .output()
            .expect("run kubectl-oam __complete");
        String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect()
    }

    /// Creates objects from YAML with real kubectl (client-side apply, as most users do).
    pub fn create(&self, yaml: &str) {
        self.kubectl_stdin(&["apply", "-f", "-"], yaml).ok();
    }

    /// The live object as JSON, including managedFields.
    pub fn get_json(&self, what: &str) -> serde_json::Value {
        let run = self.kubectl(&["get", what, "-o", "json", "--show-managed-fields"]).ok();
        serde_json::from_str(&run.stdout).expect("kubectl prints JSON")
    }

    /// A kube-rs client for this cluster (admin context).
    pub async fn client(&self) -> kube::Client {
        let kc = kube::config::Kubeconfig::read_from(&env().kubeconfig).expect("read kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .expect("kubeconfig");
        kube::Client::try_from(config).expect("client")
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        if std::env::var_os("OAM_TEST_KEEP_NAMESPACES").is_some() {
            return;
        }
        // The namespace controller finishes the deletion; tests do not wait for it.
        let _ = self.kubectl(&["delete", "namespace", &self.name, "--wait=false"]);
        let _ = std::fs::remove_dir_all(&self.cache_dir);
    }
}

/// Runs `cmd` with `stdin` written to it, and its exit code and output.
pub fn run_with_stdin(cmd: &mut Command, stdin: &str) -> Run {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    Run::from(child.wait_with_output().expect("wait"))
}

/// A small two-container Deployment as a team would create it.
pub fn web_deployment(name: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - name: app
        image: nginx:1.25
        env:
        - {{name: MODE, value: prod}}
        - name: PASSWORD
          valueFrom: {{secretKeyRef: {{name: db, key: password}}}}
        ports: [{{containerPort: 80, name: http}}]
        resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}
      - name: proxy
        image: envoy:1.30
"#
    )
}

/// A YAML document from `get` without its live `status:` section (always the last key), which
/// changes as controllers act: what is left are the role's fields.
pub fn without_status(document: &str) -> &str {
    document.split_once("\nstatus:\n").map_or(document, |(fields, _)| fields)
}

/// The managers that own `path` (FieldsV1 keys) in `obj`'s managedFields.
pub fn managers_of(obj: &serde_json::Value, path: &[&str]) -> Vec<String> {
    obj["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| path.iter().try_fold(&e["fieldsV1"], |node, key| node.get(*key)).is_some())
        .map(|e| e["manager"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// An object without what the server and controllers change on their own (status, versions, their
/// annotations and managedFields entries): equal before and after a command means it wrote nothing.
pub fn settled(obj: &serde_json::Value) -> serde_json::Value {
    let mut obj = obj.clone();
    if let Some(map) = obj.as_object_mut() {
        map.remove("status");
    }
    if let Some(meta) = obj["metadata"].as_object_mut() {
        meta.remove("resourceVersion");
        meta.remove("generation");
        if let Some(annotations) = meta.get_mut("annotations").and_then(|a| a.as_object_mut()) {
            annotations.retain(|k, _| !k.starts_with("deployment.kubernetes.io/"));
        }
        if let Some(entries) = meta.get_mut("managedFields").and_then(|m| m.as_array_mut()) {
            entries.retain(|e| e["subresource"] != "status" && e["manager"] != "kube-controller-manager");
        }
    }
    obj
}
