//! `kubectl oam`: parse, run, print one error line, exit with kubectl diff's codes.

use std::process::ExitCode;

use clap::error::ErrorKind;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    // kubectl's plugin completion passes half-typed words (`--context`, `-n`) that a parser would
    // reject, so completion takes the raw words before clap sees them.
    if args.get(1).map(String::as_str) == Some(kubectl_oam::COMPLETE_COMMAND) {
        return kubectl_oam::complete(&args[2..]);
    }
    let cli = match kubectl_oam::cli::parse_from(&args) {
        Ok(cli) => cli,
        Err(err) => return usage_error(err, &args),
    };
    match kubectl_oam::run(cli) {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            error_line(&err.to_string());
            ExitCode::from(err.exit_code())
        }
    }
}

/// Help and version as clap prints them; a usage mistake as one error line with a pointer to help.
fn usage_error(err: clap::Error, args: &[String]) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            ExitCode::from(2)
        }
        _ => {
            // clap's first paragraph says what is wrong (a list of missing flags follows on
            // indented lines); usage and tips follow after a blank line.
            let text = err.to_string();
            let what: Vec<&str> = text.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect();
            let what = what.join(" ");
            let what = what.strip_prefix("error: ").unwrap_or(&what);
            // clap's "did you mean" tips are the quickest fix: kept, on the same line.
            let tips: Vec<&str> = text
                .lines()
                .filter_map(|l| l.trim().strip_prefix("tip: "))
                .filter(|tip| tip.contains("similar"))
                .collect();
            let tips: String = tips.iter().map(|tip| format!("; {tip}")).collect();
            error_line(&format!("{what}{tips}; see `{} --help`", command_of(args)));
            ExitCode::from(2)
        }
    }
}

/// The (sub)command a usage error is about, `kubectl oam dev scale`: the subcommands the words name,
/// in order, up to the first word that is neither a flag (nor a flag's value) nor a subcommand (an
/// argument, or the unknown subcommand itself).
fn command_of(args: &[String]) -> String {
    let root = kubectl_oam::cli::command();
    let mut command = root.clone();
    let mut path = vec!["kubectl oam".to_string()];
    let mut words = args.iter().skip(1);
    while let Some(word) = words.next() {
        if word == "--" {
            break;
        }
        if word.starts_with('-') {
            // Its value is the next word, unless given with `=` or glued to a short flag (`-nshop`).
            if takes_separate_value(&root, &command, word) {
                words.next();
            }
            continue;
        }
        match command.find_subcommand(word) {
            Some(sub) => {
                path.push(sub.get_name().to_string());
                command = sub.clone();
            }
            None => break,
        }
    }
    path.join(" ")
}

/// Does the flag `word` (`--context`, `-n`) take the next word as its value? Global flags are
/// defined on the root command.
fn takes_separate_value(root: &clap::Command, command: &clap::Command, word: &str) -> bool {
    let matches = |arg: &&clap::Arg| match word.strip_prefix("--") {
        Some(long) => !long.contains('=') && arg.get_long() == Some(long),
        None => word.len() == 2 && arg.get_short() == word.chars().nth(1),
    };
    let arg = command.get_arguments().find(matches).or_else(|| root.get_arguments().find(matches));
    arg.is_some_and(|arg| arg.get_action().takes_values())
}

/// Errors are one line, even when a library's message spans several.
fn error_line(message: &str) {
    let line: Vec<&str> = message.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    eprintln!("error: {}", line.join(" "));
}
