//! `trent bench`: a load generator for AWS-KMS-compatible servers.
//!
//! N workers each hold one keep-alive HTTP/1.1 connection and send back-to-back AWS JSON 1.1
//! requests, each freshly SigV4-signed as an AWS SDK signs it. Setup (creating keys, making the
//! ciphertexts that decrypt replays) happens before the clock starts; a warmup follows; then the
//! window is measured: successful requests per second, a latency histogram, and errors by AWS
//! error code. `--baseline` drives a trivial in-process HTTP server with the same client, and
//! `--compare-baseline` measures both back to back and reports the ratio, which stays meaningful
//! on shared machines where absolute numbers drift.
#![warn(missing_docs)]

mod baseline;
mod client;
mod credentials;
mod duration;
mod load;
mod ops;
mod report;
mod setup;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use credentials::{parse_credentials, StaticCredentials};
pub use duration::parse_duration;
pub use load::TRANSPORT_ERROR;
pub use ops::Op;
pub use report::BenchReport;

use client::{Endpoint, Signer};
use load::{Outcome, Plan, Settings};
use report::Percentiles;

/// Options of `trent bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Server to load, e.g. http://127.0.0.1:4599 (not needed with --baseline).
    #[arg(long, required_unless_present = "baseline")]
    pub endpoint: Option<String>,
    /// AWS shared-credentials file. Without it: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, then
    /// AWS_SHARED_CREDENTIALS_FILE, then ~/.aws/credentials.
    #[arg(long)]
    pub credentials: Option<PathBuf>,
    /// Profile to read from the credentials file.
    #[arg(long, default_value = "default")]
    pub profile: String,
    /// Region of the signing scope.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Operation to drive.
    #[arg(long, value_enum, default_value_t = Op::Encrypt)]
    pub op: Op,
    /// Key spec of the keys `--op sign`/`verify` use: ECC_NIST_P256 (ECDSA_SHA_256),
    /// ECC_NIST_P384, ECC_SECG_P256K1, ECC_NIST_EDWARDS25519 (ED25519_SHA_512), RSA_2048/3072/4096
    /// (RSASSA_PSS_SHA_256) or ML_DSA_44/65/87 (ML_DSA_SHAKE_256).
    #[arg(long, default_value = "ECC_NIST_P256")]
    pub signing_key_spec: String,
    /// Plaintext or message size, in bytes (1 to 4096 where it is sent).
    #[arg(long, default_value_t = 1024)]
    pub payload_bytes: usize,
    /// Number of keys the load is spread over (created during setup).
    #[arg(long, default_value_t = 1)]
    pub keys: usize,
    /// Reuse keys an earlier run created (found with ListKeys and DescribeKey) and create only
    /// the missing ones.
    #[arg(long)]
    pub reuse_keys: bool,
    /// Concurrent connections, one worker each.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Length of the measured window, e.g. 10s or 500ms.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub duration: Duration,
    /// Unmeasured load before the window.
    #[arg(long, value_parser = parse_duration, default_value = "1s")]
    pub warmup: Duration,
    /// Concurrent calls during setup (creating keys and ciphertexts).
    #[arg(long, default_value_t = 32)]
    pub setup_concurrency: usize,
    /// Print the report as one JSON object on the last line of stdout, too.
    #[arg(long)]
    pub json: bool,
    /// Drive the in-process trivial server instead of --endpoint.
    #[arg(long, conflicts_with = "compare_baseline")]
    pub baseline: bool,
    /// Measure the baseline, then the endpoint, and report the ratio of their requests/s.
    #[arg(long)]
    pub compare_baseline: bool,
}

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// The options do not make sense together.
    #[error("{0}")]
    InvalidArgs(String),
    /// The credentials could not be read.
    #[error("credentials: {0}")]
    Credentials(String),
    /// The server cannot create or use the kind of key the operation needs.
    #[error(
        "--op {op} is not supported by this server: it cannot create or use a {key_spec} \
         {key_usage} key ({message})"
    )]
    Unsupported {
        /// The `--op`.
        op: &'static str,
        /// The KeySpec that was asked for.
        key_spec: &'static str,
        /// The KeyUsage that was asked for.
        key_usage: &'static str,
        /// The server's message.
        message: String,
    },
    /// A setup call answered an error.
    #[error("setup {call} failed: {code}: {message}")]
    Setup {
        /// The operation that failed.
        call: &'static str,
        /// The AWS error code.
        code: String,
        /// The server's message.
        message: String,
    },
    /// The server could not be reached.
    #[error("{0}")]
    Transport(String),
    /// A request could not be signed.
    #[error("signing: {0}")]
    Sign(String),
    /// The baseline server or the runtime could not start.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A bug in the benchmark.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Runs the benchmark the options describe and returns its report.
pub async fn run(args: BenchArgs) -> Result<BenchReport, BenchError> {
    validate(&args)?;
    if !ops::choose_signing_spec(&args.signing_key_spec) {
        return Err(BenchError::InvalidArgs(format!(
            "--signing-key-spec {} is not one of {}",
            args.signing_key_spec,
            ops::SIGNING_SPECS
                .iter()
                .map(|(s, _)| *s)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let settings = Settings {
        connections: args.connections,
        warmup: args.warmup,
        duration: args.duration,
    };
    if args.baseline {
        return run_baseline(&args, settings).await;
    }
    let endpoint = Endpoint::parse(args.endpoint.as_deref().unwrap_or_default())?;
    let signer = Signer::new(&load_credentials(&args)?, &args.region);
    let ctx = setup::Ctx {
        endpoint: endpoint.clone(),
        signer: signer.clone(),
        concurrency: args.setup_concurrency.max(1),
        progress: true,
    };
    let setup_started = Instant::now();
    let plan = setup::prepare(&ctx, &args).await?;
    let setup_s = setup_started.elapsed().as_secs_f64();
    let baseline = if args.compare_baseline {
        Some(run_baseline(&args, settings).await?)
    } else {
        None
    };
    let outcome = load::drive(&endpoint, &signer, Arc::new(plan), settings).await?;
    let mut report = make_report("server", &endpoint.url, &args, &outcome, setup_s);
    if let Some(baseline) = baseline {
        if baseline.requests_per_second > 0.0 {
            report.ratio_to_baseline = Some(round4(
                report.requests_per_second / baseline.requests_per_second,
            ));
        }
        if baseline.p99_ms > 0.0 {
            report.p99_ratio_to_baseline = Some(round4(report.p99_ms / baseline.p99_ms));
        }
        report.baseline = Some(Box::new(baseline));
    }
    Ok(report)
}

/// The entry point of `trent bench`: runs on a multi-threaded runtime, prints the report (and
/// with `--json` the JSON line last), and fails if the run could not start or had no success.
pub fn main_entry(args: BenchArgs) -> ExitCode {
    let json = args.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("trent bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(report) => {
            print!("{}", report.to_text());
            if json {
                println!("{}", report.to_json_line());
            }
            if report.successful_requests == 0 {
                eprintln!("trent bench: no request succeeded");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("trent bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn validate(args: &BenchArgs) -> Result<(), BenchError> {
    let invalid = |text: &str| Err(BenchError::InvalidArgs(text.to_owned()));
    if args.connections == 0 {
        return invalid("--connections must be at least 1");
    }
    if args.keys == 0 {
        return invalid("--keys must be at least 1");
    }
    if args.duration.is_zero() {
        return invalid("--duration must be more than zero");
    }
    if args.op.uses_payload() && !(1..=4096).contains(&args.payload_bytes) {
        return invalid("--payload-bytes must be between 1 and 4096 for this operation");
    }
    if !args.baseline && args.endpoint.is_none() {
        return invalid("--endpoint is required (or use --baseline)");
    }
    Ok(())
}

async fn run_baseline(args: &BenchArgs, settings: Settings) -> Result<BenchReport, BenchError> {
    let server = baseline::start(baseline::response_body(args.payload_bytes)).await?;
    let endpoint = Endpoint::parse(&format!("http://{}", server.addr))?;
    let credentials = load_credentials(args).unwrap_or_else(|_| StaticCredentials {
        access_key_id: "AKIABASELINEBENCH000".to_owned(),
        secret_access_key: "baseline-secret-not-checked".to_owned(),
        session_token: None,
    });
    let signer = Signer::new(&credentials, &args.region);
    let plan: Plan = setup::synthetic(args);
    let outcome = load::drive(&endpoint, &signer, Arc::new(plan), settings).await?;
    drop(server);
    Ok(make_report("baseline", &endpoint.url, args, &outcome, 0.0))
}

fn make_report(
    target: &str,
    endpoint: &str,
    args: &BenchArgs,
    outcome: &Outcome,
    setup_s: f64,
) -> BenchReport {
    let p = Percentiles::of(&outcome.histogram);
    let duration_s = args.duration.as_secs_f64();
    let failed: u64 = outcome.errors.values().sum();
    BenchReport {
        target: target.to_owned(),
        endpoint: endpoint.to_owned(),
        op: args.op.name().to_owned(),
        connections: args.connections,
        payload_bytes: args.payload_bytes,
        keys: if args.op.key_kind().is_some() {
            args.keys
        } else {
            0
        },
        duration_s,
        warmup_s: args.warmup.as_secs_f64(),
        setup_s: (setup_s * 1000.0).round() / 1000.0,
        total_requests: outcome.successes + failed,
        successful_requests: outcome.successes,
        requests_per_second: ((outcome.successes as f64 / duration_s) * 10.0).round() / 10.0,
        p50_ms: p.p50,
        p90_ms: p.p90,
        p99_ms: p.p99,
        p999_ms: p.p999,
        max_ms: p.max,
        mean_ms: p.mean,
        errors: outcome.errors.clone(),
        baseline: None,
        ratio_to_baseline: None,
        p99_ratio_to_baseline: None,
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The credentials to sign with: `--credentials` (profile `--profile`), else the environment's
/// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else AWS_SHARED_CREDENTIALS_FILE or
/// ~/.aws/credentials.
fn load_credentials(args: &BenchArgs) -> Result<StaticCredentials, BenchError> {
    let from_file = |path: PathBuf| {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| BenchError::Credentials(format!("{}: {e}", path.display())))?;
        parse_credentials(&text, &args.profile)
            .map_err(|reason| BenchError::Credentials(format!("{}: {reason}", path.display())))
    };
    if let Some(path) = &args.credentials {
        return from_file(path.clone());
    }
    if let (Ok(id), Ok(secret)) = (
        std::env::var("AWS_ACCESS_KEY_ID"),
        std::env::var("AWS_SECRET_ACCESS_KEY"),
    ) {
        return Ok(StaticCredentials {
            access_key_id: id,
            secret_access_key: secret,
            session_token: std::env::var("AWS_SESSION_TOKEN").ok(),
        });
    }
    let path = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".aws/credentials")));
    match path {
        Some(path) if path.exists() => from_file(path),
        _ => Err(BenchError::Credentials(
            "none found: pass --credentials <file> (the server's <data-dir>/credentials)"
                .to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: BenchArgs,
    }

    pub(crate) fn parse(argv: &[&str]) -> BenchArgs {
        let mut full = vec!["bench"];
        full.extend_from_slice(argv);
        Cli::try_parse_from(full).unwrap().args
    }

    #[test]
    fn defaults() {
        let a = parse(&["--endpoint", "http://127.0.0.1:4599"]);
        assert_eq!(a.op, Op::Encrypt);
        assert_eq!(a.payload_bytes, 1024);
        assert_eq!(a.keys, 1);
        assert_eq!(a.connections, 32);
        assert_eq!(a.duration, Duration::from_secs(10));
        assert_eq!(a.warmup, Duration::from_secs(1));
        assert_eq!(a.region, "us-east-1");
        assert_eq!(a.profile, "default");
        assert!(!a.json && !a.baseline && !a.compare_baseline && !a.reuse_keys);
    }

    #[test]
    fn options() {
        let a = parse(&[
            "--baseline",
            "--op",
            "generate-data-key",
            "--duration",
            "500ms",
            "--warmup",
            "0s",
            "--connections",
            "4",
            "--json",
        ]);
        assert_eq!(a.op, Op::GenerateDataKey);
        assert_eq!(a.duration, Duration::from_millis(500));
        assert!(a.warmup.is_zero());
        assert!(a.json && a.baseline);
    }

    #[test]
    fn cli_rejections() {
        let cli = |argv: &[&str]| {
            let mut full = vec!["bench"];
            full.extend_from_slice(argv);
            Cli::try_parse_from(full).map(|c| c.args)
        };
        assert!(cli(&[]).is_err(), "needs --endpoint or --baseline");
        assert!(cli(&[
            "--baseline",
            "--compare-baseline",
            "--endpoint",
            "http://a:1"
        ])
        .is_err());
        assert!(cli(&["--baseline", "--op", "frobnicate"]).is_err());
        assert!(cli(&["--baseline", "--duration", "soon"]).is_err());
    }

    #[test]
    fn validation() {
        assert!(validate(&parse(&["--baseline", "--connections", "0"])).is_err());
        assert!(validate(&parse(&["--baseline", "--keys", "0"])).is_err());
        assert!(validate(&parse(&["--baseline", "--duration", "0s"])).is_err());
        assert!(validate(&parse(&["--baseline", "--payload-bytes", "4097"])).is_err());
        assert!(validate(&parse(&["--baseline", "--payload-bytes", "0"])).is_err());
        // DescribeKey sends no payload, so its size does not matter.
        assert!(validate(&parse(&[
            "--baseline",
            "--op",
            "describe-key",
            "--payload-bytes",
            "0"
        ]))
        .is_ok());
    }

    #[test]
    fn credentials_from_file_and_profile() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        std::fs::write(
            &path,
            "[default]\naws_access_key_id=A1\naws_secret_access_key=S1\n[p2]\naws_access_key_id=A2\naws_secret_access_key=S2\n",
        )
        .unwrap();
        let p = path.to_str().unwrap();
        let a = parse(&["--baseline", "--credentials", p, "--profile", "p2"]);
        assert_eq!(load_credentials(&a).unwrap().access_key_id, "A2");
        let a = parse(&["--baseline", "--credentials", p, "--profile", "zz"]);
        assert!(matches!(
            load_credentials(&a),
            Err(BenchError::Credentials(_))
        ));
    }
}
