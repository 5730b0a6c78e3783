//! Completion in real shells: bash, zsh and fish load the script `kubectl-oam completion SHELL`
//! prints, and complete words past the first, live names and `CONTAINER=` after `set image
//! TYPE/NAME` from the cluster and namespace the words name.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{Ns, env, oam_binary, web_deployment};

/// A folder with `kubectl-oam` in it, as a user's PATH has it, and the shell's script.
struct Setup {
    dir: PathBuf,
    script: PathBuf,
}

impl Setup {
    fn new(shell: &str) -> Setup {
        let dir = std::env::temp_dir().join(format!("oam-shell-{shell}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let link = dir.join("kubectl-oam");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(oam_binary(), &link).unwrap();
        let out = Command::new(oam_binary()).args(["completion", shell]).output().unwrap();
        assert!(out.status.success(), "completion {shell}: {out:?}");
        let script = dir.join(format!("completion.{shell}"));
        std::fs::write(&script, &out.stdout).unwrap();
        Setup { dir, script }
    }

    fn shell(&self, program: &str, ns: &Ns) -> Command {
        let mut cmd = Command::new(program);
        let path = format!("{}:{}", self.dir.display(), std::env::var("PATH").unwrap_or_default());
        cmd.env("PATH", path)
            .env("KUBECONFIG", &env().kubeconfig)
            .env("KUBECACHEDIR", self.dir.join(format!("cache-{}", ns.name)));
        cmd
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn installed(shell: &str) -> bool {
    Command::new(shell).args(["-c", "exit 0"]).output().is_ok_and(|o| o.status.success())
}

fn lines(out: std::process::Output) -> Vec<String> {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect()
}

/// COMP_WORDS as bash makes them of a line: split at blanks, and at `=` and `:` (COMP_WORDBREAKS),
/// which become words of their own; a line ending in a blank has an empty last word.
fn bash_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    for token in line.split_whitespace() {
        let mut word = String::new();
        for ch in token.chars() {
            let breaks = ch == '=' || ch == ':';
            if !word.is_empty() && breaks != (word.ends_with('=') || word.ends_with(':')) {
                words.push(std::mem::take(&mut word));
            }
            word.push(ch);
        }
        words.push(word);
    }
    if line.ends_with(' ') {
        words.push(String::new());
    }
    words
}

/// What bash offers for `line` (the cursor at its end): the script is sourced, the function it
/// registers for `kubectl-oam` is called as bash calls it (COMP_WORDS, COMP_CWORD, COMP_LINE,
/// COMP_POINT; the command, the word and the word before), and COMPREPLY is read.
fn bash(setup: &Setup, ns: &Ns, line: &str) -> Vec<String> {
    const DRIVER: &str = r#"
        source "$SCRIPT" || exit 3
        spec=$(complete -p kubectl-oam) || exit 4
        fn=${spec#*-F }; fn=${fn%% *}
        COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$LINE"; COMP_POINT=${#LINE}
        COMPREPLY=()
        "$fn" kubectl-oam "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        (( ${#COMPREPLY[@]} )) && printf '%s\n' "${COMPREPLY[@]}"
        exit 0
    "#;
    let out = setup
        .shell("bash", ns)
        .args(["--norc", "--noprofile", "-c", DRIVER, "bash"])
        .args(bash_words(line))
        .env("SCRIPT", &setup.script)
        .env("LINE", line)
        .output()
        .unwrap();
    lines(out)
}

/// What zsh offers for `words` (the last being typed): the completion function is called with
/// zsh's `words` and `CURRENT`; `compadd` records each candidate with the suffix it gets.
fn zsh(setup: &Setup, ns: &Ns, words: &[&str]) -> Vec<String> {
    const DRIVER: &str = r#"
        source "$SCRIPT" || exit 3
        compadd() {
            local suffix=' '
            while (( $# )); do
                case $1 in
                    (-S) suffix=$2; shift 2;;
                    (--) shift; break;;
                    (*) shift;;
                esac
            done
            local c
            for c in "$@"; do print -r -- "$c$suffix"; done
        }
        _files() { print -r -- '<files>' }
        words=("$@"); CURRENT=$#
        _kubectl-oam
        exit 0
    "#;
    let out = setup
        .shell("zsh", ns)
        .args(["-f", "-c", DRIVER, "zsh"])
        .args(words)
        .env("SCRIPT", &setup.script)
        .output()
        .unwrap();
    lines(out)
}

/// What fish offers for `line` (`complete --do-complete`, as fish's own tests drive it).
fn fish(setup: &Setup, ns: &Ns, line: &str) -> Vec<String> {
    let program = format!("source {}; complete --do-complete {}", quote(&setup.script), quote_str(line));
    let out = setup.shell("fish", ns).args(["--no-config", "-c", &program]).output().unwrap();
    // Each line is `candidate<TAB>description`.
    lines(out).into_iter().map(|l| l.split('\t').next().unwrap_or_default().to_string()).collect()
}

fn quote(path: &Path) -> String {
    quote_str(&path.display().to_string())
}

fn quote_str(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

#[test]
fn bash_completes_every_word_live_names_and_container_assignments() {
    assert_eq!(bash_words("a --namespace=sh"), ["a", "--namespace", "=", "sh"]);
    assert_eq!(bash_words("a b=c "), ["a", "b", "=", "c", ""]);
    let ns = Ns::new("bash_completion");
    ns.create(&web_deployment("web"));
    let setup = Setup::new("bash");
    let n = &ns.name;
    let complete = |line: &str| bash(&setup, &ns, line);
    assert_eq!(complete("kubectl-oam d"), ["dev"]);
    // Past the first word: the states of clap's script never matched there.
    assert_eq!(complete("kubectl-oam dev s"), ["set"], "only the dev role's commands");
    assert_eq!(complete("kubectl-oam dev set i"), ["image"]);
    assert_eq!(complete("kubectl-oam ops sc"), ["scale"]);
    assert_eq!(complete(&format!("kubectl-oam -n {n} ops scale deploy/w")), ["deploy/web"]);
    assert!(
        complete(&format!("kubectl-oam -n {n} ops scale deploy/web --rep")).contains(&"--replicas".into())
    );
    // `CONTAINER=` after `set image TYPE/NAME` (and `TYPE NAME`), from the live object.
    assert_eq!(complete(&format!("kubectl-oam -n {n} dev set image deploy/web ")), ["app=", "proxy="]);
    assert_eq!(complete(&format!("kubectl-oam -n {n} dev set image deploy web p")), ["proxy="]);
    // bash splits `--namespace=bash-c` into three words and replaces only the last.
    let prefix: String = n.chars().take(n.len() - 2).collect();
    assert_eq!(complete(&format!("kubectl-oam dev get --namespace={prefix}")), [n.as_str()]);
    assert_eq!(complete(&format!("kubectl-oam -n {n} dev get deploy/web -c=pr")), ["proxy"]);
}

#[test]
fn zsh_and_fish_complete_the_same_words() {
    let ns = Ns::new("zsh_fish_completion");
    ns.create(&web_deployment("web"));
    let n = ns.name.as_str();
    if installed("zsh") {
        let setup = Setup::new("zsh");
        let complete = |words: &[&str]| zsh(&setup, &ns, words);
        assert_eq!(complete(&["kubectl-oam", "dev", "s"]), ["set "]);
        assert_eq!(complete(&["kubectl-oam", "ops", "s"]), ["scale "]);
        assert_eq!(complete(&["kubectl-oam", "-n", n, "dev", "get", "deploy/w"]), ["deploy/web "]);
        // No space after `app=`: the image follows.
        assert_eq!(
            complete(&["kubectl-oam", "-n", n, "dev", "set", "image", "deploy/web", ""]),
            ["app=", "proxy="]
        );
        assert_eq!(complete(&["kubectl-oam", "dev", "apply", "-f", ""]), ["<files>"]);
    } else {
        eprintln!("zsh is not installed: its completion is not tested in a real shell");
    }
    if installed("fish") {
        let setup = Setup::new("fish");
        let complete = |line: &str| fish(&setup, &ns, line);
        assert_eq!(complete("kubectl-oam dev s"), ["set"]);
        assert_eq!(complete(&format!("kubectl-oam -n {n} ops scale deploy/w")), ["deploy/web"]);
        assert_eq!(complete(&format!("kubectl-oam -n {n} dev set image deploy/web ")), ["app=", "proxy="]);
        assert_eq!(complete(&format!("kubectl-oam dev get --namespace={n}")), [format!("--namespace={n}")]);
    } else {
        eprintln!("fish is not installed: its completion is not tested in a real shell");
    }
}
