use super::*;

fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(String::from).collect()
}

/// A (sub)command's help as `--help` prints it.
fn help(path: &[&str]) -> String {
    let mut command = command();
    command.build();
    let sub = path.iter().fold(&mut command, |c, name| c.find_subcommand_mut(name).unwrap());
    sub.render_long_help().to_string()
}

#[test]
fn each_role_help_lists_only_what_the_role_can_do() {
    let commands = |text: &str| -> Vec<String> {
        let list = text.split("Commands:").nth(1).unwrap_or_default();
        let list = list.split("\n\n").next().unwrap_or_default();
        // A description that wraps continues on a line indented past the names.
        list.lines()
            .filter(|l| !l.starts_with("   "))
            .filter_map(|l| l.split_whitespace().next())
            .map(String::from)
            .collect()
    };
    assert_eq!(
        commands(&help(&["dev"])),
        ["get", "list", "edit", "apply", "diff", "promote", "set", "adopt", "release", "gitops"]
    );
    assert_eq!(
        commands(&help(&["ops"])),
        [
            "get",
            "list",
            "edit",
            "apply",
            "diff",
            "promote",
            "scale",
            "autoscale",
            "expose",
            "disruption-budget",
            "adopt",
            "release",
            "gitops"
        ]
    );
    assert!(help(&["dev", "get"]).contains("--container"));
    assert!(!help(&["ops", "get"]).contains("--container"), "ops documents have no containers");
    // The other role's commands still parse, for their refusal that names the right command.
    assert!(parse_from(&words("kubectl-oam dev scale deploy/web --replicas 1")).is_ok());
    assert!(parse_from(&words("kubectl-oam ops set image deploy/web app=x")).is_ok());
    assert!(parse_from(&words("kubectl-oam dev expose deploy/web --port 80")).is_ok());
    assert!(parse_from(&words("kubectl-oam ops expose deploy/web --delete")).is_ok(), "no --port to delete");
    assert!(parse_from(&words("kubectl-oam ops expose deploy/web")).is_err(), "--port is required");
    assert!(
        parse_from(&words(
            "kubectl-oam ops disruption-budget deploy/web --min-available 1 --max-unavailable 1"
        ))
        .is_err()
    );
}

#[test]
fn every_version_flag_prints_what_version_prints() {
    let expected = format!("{PROGRAM} {VERSION}\n");
    assert_eq!(command().render_version(), expected);
    for line in ["kubectl-oam --version", "kubectl-oam dev --version", "kubectl-oam ops get -V"] {
        let err = parse_from(&words(line)).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::DisplayVersion, "{line}");
        assert_eq!(err.to_string(), expected, "{line}");
    }
}

#[test]
fn durations_as_kubectl() {
    assert!(parse_duration("99999999999999999999").is_err(), "too long to be a duration");
    for (text, millis) in [
        ("10", 10_000),
        ("10s", 10_000),
        ("500ms", 500),
        ("2m", 120_000),
        ("1h", 3_600_000),
        ("0", 0),
        ("1m30s", 90_000),
        ("1.5h", 5_400_000),
    ] {
        assert_eq!(parse_duration(text).unwrap().as_millis(), millis, "{text}");
    }
    for bad in ["", "s", "10x", "ten"] {
        assert!(parse_duration(bad).is_err(), "{bad}");
    }
}
