//! `trent audit …`: verify, query, export and archive the audit trail from the command line.
//!
//! The binary adds [`AuditCommand`] as a clap subcommand and calls [`run`]. Nothing here needs
//! a running server or an async runtime. `--data-dir` defaults to `$TRENT_DATA_DIR`, then
//! `./trent-data`; the root key is `<data-dir>/root.key`, opened with
//! `$TRENT_ROOT_PASSPHRASE` when set.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use trent_rootkey::{RootKeyError, RootKeyProvider, SealedFileRootKey};

use crate::archive::{archive, ArchiveCut};
use crate::error::AuditError;
use crate::query::{export, query, write_json_lines, write_table, QueryFilter};
use crate::verify::{verify, verify_archive, VerifyOptions};

/// The data directory argument shared by every subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct DataDirArgs {
    /// Directory holding audit.db and root.key.
    #[arg(long, env = "TRENT_DATA_DIR", default_value = "./trent-data")]
    pub data_dir: PathBuf,
}

/// Event filters shared by `query` and `export`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FilterArgs {
    /// Events at or after this time (RFC 3339, e.g. 2026-11-23T20:00:00Z, or a date).
    #[arg(long, value_parser = parse_time)]
    pub from: Option<OffsetDateTime>,
    /// Events at or before this time (RFC 3339 or a date).
    #[arg(long, value_parser = parse_time)]
    pub to: Option<OffsetDateTime>,
    /// A key id, `key/<id>` or key ARN.
    #[arg(long)]
    pub key_id: Option<String>,
    /// A principal ARN or access key id.
    #[arg(long)]
    pub principal: Option<String>,
    /// An operation, e.g. Decrypt.
    #[arg(long)]
    pub event_name: Option<String>,
    /// An error code; `*` for every failed call, `none` for successful ones.
    #[arg(long)]
    pub error_code: Option<String>,
    /// At most this many events (oldest first).
    #[arg(long)]
    pub limit: Option<usize>,
}

impl FilterArgs {
    fn to_filter(&self) -> QueryFilter {
        QueryFilter {
            time_from: self.from,
            time_to: self.to,
            key: self.key_id.clone(),
            principal: self.principal.clone(),
            event_name: self.event_name.clone(),
            error_code: self.error_code.clone(),
            limit: self.limit,
        }
    }
}

/// Output format of `query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// One JSON event per line, CloudTrail field names.
    Json,
    /// A human-readable table.
    Table,
}

/// `trent audit <command>`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum AuditCommand {
    /// Verify the whole audit trail (hash chain, signed digests, signed head). Exits 0 only if
    /// everything verifies; otherwise prints the first problem and its sequence number.
    Verify {
        /// Data directory.
        #[command(flatten)]
        data: DataDirArgs,
        /// Require this signing public key (hex) instead of trusting the stored one.
        #[arg(long)]
        public_key: Option<String>,
        /// Verify this archive file instead of the database.
        #[arg(long)]
        archive: Option<PathBuf>,
    },
    /// Print matching events.
    Query {
        /// Data directory.
        #[command(flatten)]
        data: DataDirArgs,
        /// Filters.
        #[command(flatten)]
        filter: FilterArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
        format: OutputFormat,
    },
    /// Export matching events as CloudTrail JSON ({"Records":[…]}) for a SIEM.
    Export {
        /// Data directory.
        #[command(flatten)]
        data: DataDirArgs,
        /// Output file (`-` for standard output).
        #[arg(long)]
        out: PathBuf,
        /// Filters.
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Move old events to a verifiable JSON-lines archive file and remove them from the log.
    Archive {
        /// Data directory.
        #[command(flatten)]
        data: DataDirArgs,
        /// Archive events with a sequence number below this.
        #[arg(long, conflicts_with = "before_time")]
        before_seq: Option<u64>,
        /// Archive events older than this time (RFC 3339 or a date).
        #[arg(long, value_parser = parse_time)]
        before_time: Option<OffsetDateTime>,
        /// The archive file to create (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
}

/// Parses `2026-11-23T20:00:00Z` (any RFC 3339 time) or a date `2026-11-23` (midnight UTC).
pub fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    if let Ok(time) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(time);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format)
        .map(|date| date.midnight().assume_utc())
        .map_err(|_| format!("'{text}' is not an RFC 3339 time (2026-11-23T20:00:00Z) or a date"))
}

/// Runs a command, printing to standard output.
pub fn run(cmd: AuditCommand) -> Result<ExitCode, AuditError> {
    let stdout = io::stdout();
    let mut lock = stdout.lock();
    run_to(cmd, &mut lock)
}

/// Runs a command, printing to `out`.
pub fn run_to(cmd: AuditCommand, out: &mut dyn Write) -> Result<ExitCode, AuditError> {
    match cmd {
        AuditCommand::Verify {
            data,
            public_key,
            archive,
        } => {
            let pin = public_key
                .map(|text| {
                    hex::decode(text.trim()).map_err(|_| {
                        AuditError::InvalidArgument("--public-key must be hex".to_owned())
                    })
                })
                .transpose()?;
            let report = match archive {
                Some(file) => verify_archive(&file, pin.as_deref())?,
                None => {
                    let root_key = match open_root_key(&data.data_dir) {
                        Ok(key) => key,
                        Err(RootKeyOpen::Missing) => None,
                        Err(RootKeyOpen::NeedsPassphrase) => {
                            writeln!(
                                out,
                                "note: root.key needs TRENT_ROOT_PASSPHRASE; the signing key will not be authenticated"
                            )?;
                            None
                        }
                        Err(RootKeyOpen::Failed(e)) => return Err(e),
                    };
                    verify(
                        &data.data_dir,
                        &VerifyOptions {
                            root_key,
                            public_key: pin,
                        },
                    )?
                }
            };
            write!(out, "{report}")?;
            out.flush()?;
            Ok(if report.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        AuditCommand::Query {
            data,
            filter,
            format,
        } => {
            let events = query(&data.data_dir, &filter.to_filter())?;
            match format {
                OutputFormat::Json => write_json_lines(&events, &mut *out)?,
                OutputFormat::Table => write_table(&events, &mut *out)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Export {
            data,
            out: file,
            filter,
        } => {
            let filter = filter.to_filter();
            if file.as_os_str() == "-" {
                export(&data.data_dir, &filter, &mut *out)?;
            } else {
                let n = export(
                    &data.data_dir,
                    &filter,
                    BufWriter::new(File::create(&file)?),
                )?;
                writeln!(out, "exported {n} events to {}", file.display())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Archive {
            data,
            before_seq,
            before_time,
            out: file,
        } => {
            let cut = match (before_seq, before_time) {
                (Some(seq), None) => ArchiveCut::BeforeSeq(seq),
                (None, Some(time)) => ArchiveCut::BeforeTime(time),
                _ => {
                    return Err(AuditError::InvalidArgument(
                        "give exactly one of --before-seq and --before-time".to_owned(),
                    ))
                }
            };
            let root_key = match open_root_key(&data.data_dir) {
                Ok(Some(key)) => key,
                Ok(None) | Err(RootKeyOpen::Missing) => {
                    return Err(AuditError::NotFound(data.data_dir.join("root.key")))
                }
                Err(RootKeyOpen::NeedsPassphrase) => {
                    return Err(AuditError::RootKey(RootKeyError::PassphraseRequired))
                }
                Err(RootKeyOpen::Failed(e)) => return Err(e),
            };
            let report = archive(&data.data_dir, root_key, cut, &file)?;
            match (report.first_seq, report.last_seq) {
                (Some(first), Some(last)) => writeln!(
                    out,
                    "archived {} events (seq {first}..={last}) and {} digests to {}",
                    report.events,
                    report.digests,
                    report.path.display()
                )?,
                _ => writeln!(
                    out,
                    "nothing to archive: no sealed segment ends before the cut"
                )?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

enum RootKeyOpen {
    Missing,
    NeedsPassphrase,
    Failed(AuditError),
}

fn open_root_key(data_dir: &Path) -> Result<Option<Arc<dyn RootKeyProvider>>, RootKeyOpen> {
    let path = data_dir.join("root.key");
    if !path.exists() {
        return Err(RootKeyOpen::Missing);
    }
    let passphrase = std::env::var("TRENT_ROOT_PASSPHRASE").ok();
    match SealedFileRootKey::open(&path, passphrase.as_deref().map(str::as_bytes)) {
        Ok(key) => Ok(Some(Arc::new(key))),
        Err(RootKeyError::PassphraseRequired) => Err(RootKeyOpen::NeedsPassphrase),
        Err(e) => Err(RootKeyOpen::Failed(e.into())),
    }
}
