//! Installation: the krew manifest, scripts/package, a real `kubectl krew install` and uninstall,
//! kubectl's plugin dispatch to the installed binary, and kubectl's own plugin completion through
//! the `kubectl_complete-oam` shim. kubectl and krew are the ones scripts/local-cluster builds.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_yaml::Value;

use crate::harness::{Ns, Run, env, oam_binary, repo, web_deployment};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const HOMEPAGE: &str = "https://github.com/kubectl-oam/kubectl-oam";
const PLATFORMS: [(&str, &str); 5] =
    [("linux", "amd64"), ("linux", "arm64"), ("darwin", "amd64"), ("darwin", "arm64"), ("windows", "amd64")];

/// A directory of its own, removed when the test ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "oam-install-{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(cmd: &mut Command) -> Run {
    let out = cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A PATH of `first` dirs, then the folder with kubectl and kubectl-krew, then the system's.
/// Against an existing cluster (no built tools) the caller's PATH stands in for the tool folder.
fn path_with(first: &[&Path]) -> OsString {
    let mut dirs: Vec<PathBuf> = first.iter().map(|d| d.to_path_buf()).collect();
    match &env().bin_dir {
        Some(bin) => {
            dirs.push(bin.clone());
            dirs.extend(["/usr/bin", "/bin"].map(PathBuf::from));
        }
        None => dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    }
    std::env::join_paths(dirs).expect("join PATH")
}

/// `kubectl` found through `path`, with nothing of the caller's kubectl setup leaking in.
fn kubectl(path: &OsString, home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("kubectl");
    cmd.env("PATH", path)
        .env("HOME", home)
        .env("KUBECACHEDIR", home.join("kube-cache"))
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .env_remove("KUBECTL_EXTERNAL_DIFF")
        .args(args);
    cmd
}

fn yaml_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path:?}: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path:?} is not YAML: {e}"))
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(v, |node, key| node.get(*key))
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {path:?} in {v:?}"))
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn file_names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("list {dir:?}: {e}"))
        .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
        .collect()
}

/// The platform entries of a manifest by (os, arch), checking each selector as krew's index does:
/// `matchLabels` with exactly `os` and `arch`, and no platform listed twice.
fn platforms(manifest: &Value) -> Vec<((String, String), Value)> {
    let list = manifest["spec"]["platforms"].as_sequence().expect("spec.platforms is a list");
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for p in list {
        let selector = p["selector"].as_mapping().expect("selector is a map");
        assert_eq!(
            selector.keys().collect::<Vec<_>>(),
            [&Value::from("matchLabels")],
            "only matchLabels in {selector:?}"
        );
        let labels = p["selector"]["matchLabels"].as_mapping().expect("labels");
        let keys: BTreeSet<&str> = labels.keys().filter_map(Value::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["arch", "os"]), "os/arch only");
        let key = (
            str_at(p, &["selector", "matchLabels", "os"]).to_string(),
            str_at(p, &["selector", "matchLabels", "arch"]).to_string(),
        );
        assert!(seen.insert(key.clone()), "{key:?} listed twice");
        out.push((key, p.clone()));
    }
    out
}

/// .krew.yaml as krew-release-bot renders it for `tag`: `{{ .TagName }}` is the tag and
/// `{{ addURIAndSha "URL" .TagName }}` becomes `uri: URL` and, 4 spaces in, `sha256: SHA`.
fn render_release_template(template: &str, tag: &str, sha: &str) -> String {
    let mut out = String::new();
    for line in template.lines() {
        let line = match line.find("{{ addURIAndSha \"") {
            Some(at) => {
                let rest = &line[at + "{{ addURIAndSha \"".len()..];
                let (url, tail) = rest.split_once('"').expect("addURIAndSha \"URL\"");
                assert_eq!(tail.trim(), ".TagName }}", "addURIAndSha takes URL and .TagName");
                format!("{}uri: {url}\n    sha256: {sha}", &line[..at])
            }
            None => line.to_string(),
        };
        out.push_str(&line.replace("{{ .TagName }}", tag));
        out.push('\n');
    }
    assert!(!out.contains("{{"), "unrendered template action left:\n{out}");
    out
}

#[test]
fn manifest_template_follows_krew_rules() {
    let path = repo().join("plugin-manifest/oam.yaml");
    let m = yaml_file(&path);
    let tag = format!("v{VERSION}");

    assert_eq!(str_at(&m, &["apiVersion"]), "krew.googlecontainertools.github.com/v1alpha2");
    assert_eq!(str_at(&m, &["kind"]), "Plugin");
    let name = str_at(&m, &["metadata", "name"]);
    assert_eq!(Some(name), path.file_stem().and_then(|s| s.to_str()));
    assert_eq!(name, "oam");
    assert_eq!(str_at(&m, &["spec", "version"]), tag, "v + Cargo.toml version");
    assert_eq!(str_at(&m, &["spec", "homepage"]), HOMEPAGE);

    let short = str_at(&m, &["spec", "shortDescription"]);
    assert!(!short.trim().is_empty() && !short.contains('\n'), "{short:?}");
    assert!(short.len() < 50, "shortDescription is short: {short:?}");

    let description = str_at(&m, &["spec", "description"]);
    assert!(description.split_whitespace().count() > 20, "{description}");
    for says in ["developer", "operator", "server-side apply", "field manager"] {
        assert!(description.contains(says), "description mentions {says}");
    }
    if let Some(caveats) = m["spec"].get("caveats") {
        let caveats = caveats.as_str().expect("caveats is text");
        assert!(
            caveats.contains("kubectl oam completion kubectl --install"),
            "caveats are setup steps: {caveats}"
        );
    }

    let found = platforms(&m);
    let keys: BTreeSet<(&str, &str)> =
        found.iter().map(|((os, arch), _)| (os.as_str(), arch.as_str())).collect();
    assert_eq!(keys, BTreeSet::from(PLATFORMS));
    assert_eq!(found.len(), PLATFORMS.len());
    for ((os, arch), p) in &found {
        let uri = str_at(p, &["uri"]);
        assert_eq!(uri, format!("{HOMEPAGE}/releases/download/{tag}/kubectl-oam_{tag}_{os}_{arch}.tar.gz"));
        assert!(uri.ends_with(".tar.gz"));
        let sha = str_at(p, &["sha256"]);
        assert!(is_sha256(sha), "sha256 is 64 lowercase hex digits: {sha:?}");
        let bin = if os == "windows" { "kubectl-oam.exe" } else { "kubectl-oam" };
        assert_eq!(str_at(p, &["bin"]), bin, "{os}/{arch}");
        let files: BTreeSet<(&str, &str)> = p["files"]
            .as_sequence()
            .expect("files")
            .iter()
            .map(|f| (str_at(f, &["from"]), str_at(f, &["to"])))
            .collect();
        assert_eq!(
            files,
            BTreeSet::from([(bin, "."), ("LICENSE", ".")]),
            "{os}/{arch} installs the binary and LICENSE"
        );
    }
    let license = std::fs::read_to_string(repo().join("LICENSE")).expect("LICENSE");
    assert!(license.contains("Apache License") && license.contains("Version 2.0"));

    // The release template renders to this same manifest, whatever the tag's archives hash to.
    let template = std::fs::read_to_string(repo().join(".krew.yaml")).expect(".krew.yaml");
    let fake_sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let rendered: Value = serde_yaml::from_str(&render_release_template(&template, &tag, fake_sha))
        .expect("rendered .krew.yaml is YAML");
    let mut rendered_platforms = platforms(&rendered);
    assert_eq!(
        rendered_platforms.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        found.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        ".krew.yaml lists the same platforms"
    );
    for ((os, arch), p) in &mut rendered_platforms {
        assert_eq!(str_at(p, &["sha256"]), fake_sha, "{os}/{arch}: sha256 in place");
        p["sha256"] = Value::from("0".repeat(64));
    }
    let mut rendered = rendered;
    rendered["spec"]["platforms"] = Value::Sequence(rendered_platforms.into_iter().map(|(_, p)| p).collect());
    assert_eq!(rendered, m, ".krew.yaml and plugin-manifest/oam.yaml agree");
}

/// The krew names of the platform the tests run on.
fn this_platform() -> (&'static str, &'static str) {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    (os, arch)
}

#[test]
fn krew_installs_the_plugin_and_kubectl_dispatches_to_it() {
    let tag = format!("v{VERSION}");
    let (os, arch) = this_platform();
    let dist = TempDir::new("dist");
    let home = TempDir::new("home");
    let krew_root = home.path().join("krew");

    // Package the test binary: archive, checksum, manifest (printed last).
    let package = run(Command::new(repo().join("scripts/package"))
        .arg("--binary")
        .arg(oam_binary())
        .arg("--out")
        .arg(dist.path()))
    .ok();
    let printed: Vec<&str> = package.stdout.lines().collect();
    let archive = dist.path().join(format!("kubectl-oam_{tag}_{os}_{arch}.tar.gz"));
    let manifest = dist.path().join("oam.yaml");
    let checksum = PathBuf::from(format!("{}.sha256", archive.display()));
    assert_eq!(
        printed,
        [archive.to_str(), checksum.to_str(), manifest.to_str()].map(|p| p.expect("utf-8 path")),
        "prints what it wrote, the manifest last"
    );
    let listing = run(Command::new("tar").arg("-tzf").arg(&archive)).ok();
    assert_eq!(
        listing.stdout.lines().collect::<BTreeSet<_>>(),
        BTreeSet::from(["LICENSE", "kubectl-oam"]),
        "binary and LICENSE at the archive root"
    );
    let local = yaml_file(&manifest);
    let entries = platforms(&local);
    assert_eq!(entries.len(), 1, "the local manifest has this platform only");
    let ((m_os, m_arch), entry) = &entries[0];
    assert_eq!((m_os.as_str(), m_arch.as_str()), (os, arch));
    let sha = str_at(entry, &["sha256"]);
    assert!(is_sha256(sha) && sha != "0".repeat(64), "{sha}");
    assert_eq!(
        std::fs::read_to_string(&checksum).expect("checksum file"),
        format!("{sha}  kubectl-oam_{tag}_{os}_{arch}.tar.gz\n")
    );
    assert_eq!(str_at(entry, &["uri"]), format!("file://{}", archive.display()));
    assert_eq!(str_at(&local, &["spec", "version"]), tag);

    // Install it with real krew into its own KREW_ROOT; kubectl-krew stays outside KREW_ROOT/bin.
    let path = path_with(&[&krew_root.join("bin")]);
    let krew = |args: &[&str]| {
        let mut cmd = kubectl(&path, home.path(), &["krew"]);
        cmd.args(args).env("KREW_ROOT", &krew_root).env("KREW_NO_UPGRADE_CHECK", "1");
        run(&mut cmd)
    };
    let manifest_arg = format!("--manifest={}", manifest.display());
    let archive_arg = format!("--archive={}", archive.display());
    let install = krew(&["install", &manifest_arg, &archive_arg]).ok();
    assert!(install.stderr.contains("Installed plugin: oam"), "{install:#?}");
    assert!(
        install.stderr.contains("kubectl oam completion kubectl --install"),
        "krew shows the caveats: {install:#?}"
    );

    let receipt = yaml_file(&krew_root.join("receipts/oam.yaml"));
    assert_eq!(str_at(&receipt, &["metadata", "name"]), "oam");
    assert_eq!(str_at(&receipt, &["spec", "version"]), tag);
    let store = krew_root.join("store/oam").join(&tag);
    assert_eq!(file_names(&store), BTreeSet::from(["LICENSE".to_string(), "kubectl-oam".to_string()]));
    assert_eq!(
        std::fs::read(store.join("LICENSE")).expect("installed LICENSE"),
        std::fs::read(repo().join("LICENSE")).expect("LICENSE")
    );
    let link = krew_root.join("bin/kubectl-oam");
    assert_eq!(
        std::fs::canonicalize(&link).expect("krew links the plugin into KREW_ROOT/bin"),
        std::fs::canonicalize(store.join("kubectl-oam")).expect("store binary")
    );

    // kubectl finds the plugin on PATH and execs it.
    let plugins = run(&mut kubectl(&path, home.path(), &["plugin", "list"])).ok();
    assert!(plugins.stdout.contains(&link.display().to_string()), "{plugins:#?}");
    let version = run(&mut kubectl(&path, home.path(), &["oam", "version"])).ok();
    assert_eq!(version.stdout, format!("kubectl-oam {tag}\n"));

    let ns = Ns::new("krew_install");
    ns.create(&web_deployment("web"));
    let kubeconfig = env().kubeconfig.to_str().expect("utf-8 kubeconfig path");
    let oam = |args: &[&str]| {
        let mut cmd = kubectl(&path, home.path(), &["oam"]);
        cmd.args(args).args(["-n", &ns.name]);
        cmd
    };

    // Flags after the plugin name reach the plugin (kubectl rejects them before it).
    let got = run(&mut oam(&["--kubeconfig", kubeconfig, "dev", "get", "deploy/web"])).ok();
    assert!(got.stdout.contains("image: nginx:1.25"), "{got:#?}");
    assert!(!got.stdout.contains("replicas"), "dev sees no traits: {got:#?}");
    let before = run(&mut kubectl(&path, home.path(), &["--kubeconfig", kubeconfig, "oam", "version"]));
    assert_ne!(before.code, 0, "kubectl refuses flags before the plugin name");
    assert!(before.stderr.contains("flags cannot be placed before plugin name"), "{before:#?}");

    // With KUBECONFIG, as a developer (bound to `edit` in this namespace).
    let as_dev =
        run(oam(&["--context", "dev", "dev", "get", "deploy/web"]).env("KUBECONFIG", kubeconfig)).ok();
    // The same document (without its base, which records the version, and live status: controllers
    // move both on their own).
    let fields = |doc: &str| crate::writes::strip_base(crate::harness::without_status(doc));
    assert_eq!(fields(&as_dev.stdout), fields(&got.stdout));

    // Exit codes pass through kubectl: 2 for an error, 1 for differences, 0 for none.
    let missing =
        run(oam(&["--context", "dev", "dev", "get", "deploy/nope"]).env("KUBECONFIG", kubeconfig)).error();
    assert!(missing.contains("nope"), "{missing}");

    let mut doc: Value = serde_yaml::from_str(&got.stdout).expect("dev document");
    let unchanged = dist.path().join("web-dev.yaml");
    std::fs::write(&unchanged, serde_yaml::to_string(&doc).unwrap()).unwrap();
    doc["containers"]["app"]["env"]
        .as_mapping_mut()
        .expect("env is a map")
        .insert("EXTRA".into(), "1".into());
    let changed = dist.path().join("web-dev-extra.yaml");
    std::fs::write(&changed, serde_yaml::to_string(&doc).unwrap()).unwrap();
    let diff = |file: &Path| {
        let file = file.to_str().expect("utf-8 path");
        run(oam(&["--context", "admin", "dev", "diff", "-f", file]).env("KUBECONFIG", kubeconfig))
    };
    let same = diff(&unchanged);
    assert_eq!(same.code, 0, "no differences: {same:#?}");
    let differs = diff(&changed);
    assert_eq!(differs.code, 1, "differences: {differs:#?}");
    assert!(differs.stdout.lines().any(|l| l.starts_with('+') && l.contains("EXTRA")), "{differs:#?}");

    // Uninstall. krew refuses to run without a plugin index; `kubectl krew update` would clone
    // krew-index from GitHub, so an empty local git repository stands in for it here.
    let index = krew_root.join("index/default");
    std::fs::create_dir_all(&index).unwrap();
    run(Command::new("git").args(["init", "-q"]).arg(&index).env("PATH", &path)).ok();
    let uninstall = krew(&["uninstall", "oam"]).ok();
    assert!(uninstall.stderr.contains("Uninstalled plugin: oam"), "{uninstall:#?}");
    for dir in ["bin", "store", "receipts"] {
        let left: Vec<String> =
            file_names(&krew_root.join(dir)).into_iter().filter(|n| n.contains("oam")).collect();
        assert!(left.is_empty(), "{dir} still has {left:?}");
    }
    let gone = run(&mut kubectl(&path, home.path(), &["oam", "version"]));
    assert_ne!(gone.code, 0, "kubectl no longer finds the plugin: {gone:#?}");
}

#[test]
fn kubectl_plugin_completion_uses_the_shim() {
    let home = TempDir::new("completion");
    let shim_dir = home.path().join("shim");
    let plugin_dir = home.path().join("plugin");
    std::fs::create_dir_all(&plugin_dir).unwrap();

    let installed =
        run(Command::new(oam_binary()).args(["completion", "kubectl", "--install"]).arg(&shim_dir)).ok();
    let shim = shim_dir.join("kubectl_complete-oam");
    assert!(installed.stdout.contains(&shim.display().to_string()), "{installed:#?}");
    let text = std::fs::read_to_string(&shim).expect("the shim");
    assert!(text.starts_with("#!") && text.contains("kubectl-oam __complete"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&shim).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "the shim is executable");
        std::os::unix::fs::symlink(oam_binary(), plugin_dir.join("kubectl-oam")).unwrap();
    }
    #[cfg(not(unix))]
    std::fs::copy(oam_binary(), plugin_dir.join("kubectl-oam")).unwrap();

    let path = path_with(&[&shim_dir, &plugin_dir]);
    let complete = |args: &[&str]| -> Vec<String> {
        let mut cmd = kubectl(&path, home.path(), &["__complete", "oam"]);
        let out = run(cmd.args(args)).ok();
        let lines: Vec<String> = out.stdout.lines().map(String::from).collect();
        assert_eq!(
            lines.last().map(String::as_str),
            Some(":4"),
            "a directive ends the answer (no file names): {out:#?}"
        );
        lines[..lines.len() - 1].to_vec()
    };

    let subcommands = complete(&["d"]);
    assert_eq!(subcommands, ["dev"]);
    assert_eq!(complete(&["dev", "get", ""]), ["deploy", "sts", "ds", "rs", "job", "cj"]);
    assert_eq!(complete(&["ops", "sc"]), ["scale"]);

    // Live names, from the cluster and namespace the words name (no KUBECONFIG in the env).
    let ns = Ns::new("plugin_completion");
    ns.create(&web_deployment("web"));
    ns.create(&web_deployment("worker"));
    let kubeconfig = env().kubeconfig.to_str().expect("utf-8 kubeconfig path");
    assert_eq!(
        complete(&["--kubeconfig", kubeconfig, "-n", &ns.name, "dev", "get", "deploy/"]),
        ["deploy/web", "deploy/worker"]
    );
    assert_eq!(
        complete(&[
            "--kubeconfig",
            kubeconfig,
            "--context",
            "dev",
            "-n",
            &ns.name,
            "dev",
            "edit",
            "deploy",
            ""
        ]),
        ["web", "worker"]
    );
    assert_eq!(
        complete(&[
            "--kubeconfig",
            kubeconfig,
            "--context",
            "dev",
            &format!("--namespace={}", ns.name),
            "ops",
            "scale",
            "deploy/w"
        ]),
        ["deploy/web", "deploy/worker"]
    );
    assert!(
        complete(&["--kubeconfig", kubeconfig, "-n", ""]).contains(&ns.name),
        "namespaces are offered after -n"
    );
}
