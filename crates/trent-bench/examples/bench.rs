//! Runs `trent bench` without the `trent` binary:
//! `cargo run --release -p trent-bench --example bench -- --baseline --duration 2s`.

use clap::Parser;

/// Benchmark an AWS-KMS-compatible server.
#[derive(Parser)]
#[command(name = "bench")]
struct Cli {
    #[command(flatten)]
    args: trent_bench::BenchArgs,
}

fn main() -> std::process::ExitCode {
    trent_bench::main_entry(Cli::parse().args)
}
