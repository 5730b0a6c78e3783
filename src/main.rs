//! `kubectl oam`: parse, run, print one error line, exit with kubectl diff's codes.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // kubectl's plugin completion passes half-typed words (`--context`, `-n`) that a parser would
    // reject, so completion takes the raw words before clap sees them.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(kubectl_oam::COMPLETE_COMMAND) {
        return kubectl_oam::complete(&args[2..]);
    }
    let cli = kubectl_oam::cli::Cli::parse();
    match kubectl_oam::run(cli) {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
