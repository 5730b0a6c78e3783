//! Worst-case YAML parsing times, printed (never asserted): `scripts/bench-yaml` runs this in a
//! release build. Hostile shapes at 200 KB, 1 MB and the 8 MiB document limit, flat data of the same
//! sizes, serde_yaml (the parser this replaced) on nested input, and role profiles of 150 KB and
//! 1 MiB. Each time is the best of a few runs, so that other load on the machine counts less.

use std::time::{Duration, Instant};

use kubectl_oam::format::yaml::{self, DOCUMENT_LIMITS};
use kubectl_oam::model::roles::Profile;

fn time<T>(f: impl Fn() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..3 {
        let started = Instant::now();
        let result = f();
        best = best.min(started.elapsed());
        out = Some(result);
        if best > Duration::from_secs(2) {
            break;
        }
    }
    (best, out.expect("ran once"))
}

fn outcome<T, E: std::fmt::Display>(result: &Result<T, E>) -> String {
    match result {
        Ok(_) => "read".into(),
        Err(e) => {
            let text = e.to_string();
            format!("refused: {}", text.chars().take(70).collect::<String>())
        }
    }
}

/// A valid profile of about `bytes` bytes: the built-in one plus many ops fields.
fn large_profile(bytes: usize) -> String {
    let mut extra = String::from("      bulk:\n");
    let mut i = 0;
    while extra.len() + kubectl_oam::model::roles::BUILTIN_PROFILE.len() + 80 < bytes {
        extra.push_str(&format!("        field{i}: {{path: spec.bulk{i}.value, kinds: [Deployment]}}\n"));
        i += 1;
    }
    kubectl_oam::model::roles::BUILTIN_PROFILE.replacen("      scaler:", &format!("{extra}      scaler:"), 1)
}

fn main() {
    let sizes = [200_000usize, 1_000_000, DOCUMENT_LIMITS.max_bytes];
    println!("{:<16} {:>9}  {:>10}  outcome", "shape", "bytes", "time");
    for size in sizes {
        let shapes: Vec<(&str, String)> = vec![
            ("[ nested", "[".repeat(size)),
            ("{a: nested", "{a: ".repeat(size / 4)),
            ("- nested", "- ".repeat(size / 2)),
            ("&a [ nested", (0..size / 8).map(|i| format!("&a{i} [")).collect()),
            ("unclosed {", format!("{{{}", "a ".repeat(size / 2 - 1))),
            ("--- documents", "---\n".repeat(size / 4)),
            ("flat list", format!("[{}]", "a, ".repeat(size / 3 - 1))),
            (
                "flat mapping",
                (0..)
                    .map(|i| format!("k{i}: v\n"))
                    .scan(0, |n, l| {
                        *n += l.len();
                        (*n < size).then_some(l)
                    })
                    .collect(),
            ),
        ];
        for (name, text) in shapes {
            let (took, result) = time(|| yaml::parse(&text, &DOCUMENT_LIMITS));
            println!("{name:<16} {:>9}  {:>10.1?}  {}", text.len(), took, outcome(&result));
        }
    }
    for size in [200_000usize, 1_000_000] {
        let text = "[".repeat(size);
        let (took, result) = time(|| serde_yaml::from_str::<serde_yaml::Value>(&text));
        println!("{:<16} {:>9}  {:>10.1?}  {}", "serde_yaml [", size, took, outcome(&result));
    }
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let (took, result) = time(|| yaml::parse(&bomb, &DOCUMENT_LIMITS));
    println!("{:<16} {:>9}  {:>10.1?}  {}", "alias bomb", bomb.len(), took, outcome(&result));
    let chain = format!("{}[{}]{}", "&a [".repeat(99), "x, ".repeat(300_000), "]".repeat(99));
    let (took, result) = time(|| yaml::parse(&chain, &DOCUMENT_LIMITS));
    println!("{:<16} {:>9}  {:>10.1?}  {}", "nested anchors", chain.len(), took, outcome(&result));
    for (name, size) in [("profile 150 KB", 150_000), ("profile 1 MiB", yaml::PROFILE_LIMITS.max_bytes - 100)]
    {
        let profile = large_profile(size);
        let (took, result) = time(|| Profile::parse(&profile, "bench"));
        println!("{name:<16} {:>9}  {:>10.1?}  {}", profile.len(), took, outcome(&result));
        let (took, result) = time(|| yaml::parse(&profile, &yaml::PROFILE_LIMITS));
        println!("{:<16} {:>9}  {:>10.1?}  {}", "  its YAML only", profile.len(), took, outcome(&result));
    }
}
