//! `kubectl oam`: parse, run, print one error line, exit with kubectl diff's codes.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = kubectl_oam::cli::Cli::parse();
    match kubectl_oam::run(cli) {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
