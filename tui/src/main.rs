//! `desk`: parse the command line, load settings, run the command. A
//! failure is one line on stderr and exit code 1 (usage errors too);
//! `desk tickets` adds the codes of `commands::tickets::exit`.

use std::process::ExitCode;

use clap::Parser as _;
use desk_tui::{
    cli::{Cli, Command},
    commands,
};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout and succeed; a usage error is
            // said by clap, with exit code 1 rather than clap's 2.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = commands::settings(&cli.global)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            None => commands::console::run(&settings).await,
            Some(Command::Demo(args)) => commands::demo::run(&settings, &args).await,
            Some(Command::Login(args)) => commands::login::run(&settings, &args).await,
            Some(Command::Logout) => commands::logout::run(&settings).await,
            Some(Command::Status(args)) => commands::status::run(&settings, &args).await,
            Some(Command::Tickets(args)) => commands::tickets::run(&settings, &args).await,
        }
    })
}
