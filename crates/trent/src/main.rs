//! The `trent` binary: `serve` runs the KMS API server, `admin` manages accounts, `audit`
//! reads the audit trail.
#![forbid(unsafe_code)]

mod admin;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: the request path allocates many small, short-lived
/// buffers on two tokio workers, where glibc's malloc/free showed as ~11% of a server profile.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Trent: a self-hosted key management service that speaks the AWS KMS API.
#[derive(Debug, Parser)]
#[command(name = "trent", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API server.
    Serve(serve::ServeArgs),
    /// Manage accounts in a data directory (the server need not run).
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Drive a running server with SigV4-signed requests and report throughput and latency.
    Bench(Box<trent_bench::BenchArgs>),
    /// Verify, query, export and archive the audit trail.
    Audit {
        #[command(subcommand)]
        command: trent_audit::cli::AuditCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logs go to stderr: stdout's first line is reserved for the bound address.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TRENT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Bench(args) => return trent_bench::main_entry(*args),
        Command::Admin { command } => {
            return match admin::run(command) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("trent admin: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Audit { command } => {
            return match trent_audit::cli::run(command) {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("trent audit: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trent: {e}");
            ExitCode::FAILURE
        }
    }
}
