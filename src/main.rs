//! The `mirrorguard` binary: parse arguments, run the command, map the outcome to an exit code.

use clap::Parser;
use mirrorguard::cli::{AllowlistCommand, AuditArgs, Cli, Command, RuleCommand, ScanArgs};
use mirrorguard::rules::RuleRequest;
use mirrorguard::scan::{self, CommandError};
use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => run_scan(*args),
        Command::Audit(args) => run_audit(*args),
        Command::Allowlist(AllowlistCommand::Init { path }) => mirrorguard::template::init(&path)
            .map(|message| {
                eprintln!("{message}");
                0
            }),
        Command::Allowlist(AllowlistCommand::Check(args)) => mirrorguard::approve::check(
            &args.allowlist,
            args.scan.as_deref(),
            args.within,
            args.now.unwrap_or_else(time::OffsetDateTime::now_utc),
            &mut std::io::stdout().lock(),
        ),
        Command::Approve(args) => {
            args.into_request()
                .map_err(CommandError::Usage)
                .and_then(|request| {
                    mirrorguard::approve::approve(
                        request,
                        &mut std::io::stdout().lock(),
                        &mut std::io::stderr().lock(),
                    )
                })
        }
        Command::Rule(command) => match command {
            RuleCommand::Show => Ok(RuleRequest::Show),
            RuleCommand::DiffSeed => Ok(RuleRequest::DiffSeed),
            RuleCommand::Export(args) => args.into_request().map_err(CommandError::Usage),
        }
        .and_then(|request| mirrorguard::rules::run(request, &mut std::io::stdout().lock())),
        Command::Revoke(args) => mirrorguard::approve::revoke(
            &args.allowlist,
            &args.entry,
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
        ),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("{error}");
            ExitCode::from(2)
        }
    }
}

fn run_audit(args: AuditArgs) -> Result<u8, CommandError> {
    let to_terminal = args.report.output.is_none() && std::io::stdout().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    mirrorguard::progress::init_tracing(args.cloud.verbose);
    let request = args
        .into_request(to_terminal && !no_color)
        .map_err(CommandError::Usage)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::Io(format!("cannot start the async runtime: {e}")))?;
    let mut stdout = std::io::stdout().lock();
    runtime.block_on(mirrorguard::audit::command::run(request, &mut stdout))
}

fn run_scan(args: ScanArgs) -> Result<u8, CommandError> {
    let to_terminal = args.report.output.is_none() && std::io::stdout().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    mirrorguard::progress::init_tracing(args.cloud.verbose);
    let request = args
        .into_request(to_terminal && !no_color, std::io::stderr().is_terminal())
        .map_err(CommandError::Usage)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::Io(format!("cannot start the async runtime: {e}")))?;
    let mut stdout = std::io::stdout().lock();
    runtime.block_on(scan::run(request, &mut stdout))
}
