//! `trent serve`: open (or create) the data directory, bootstrap, listen, serve.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use trent_core::identity::{BootstrapCredentials, BootstrapOptions};
use trent_core::{Clock, FileOffsetClock, Kms, PolicyAuthorizer, SystemClock};
use trent_rootkey::SealedFileRootKey;
use trent_sigv4::SecretAccessKey;
use trent_store::{PostgresStore, SqliteStore, Store};

/// Options of `trent serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "TRENT_LISTEN", default_value = "127.0.0.1:4599")]
    listen: SocketAddr,
    /// Directory holding the sealed root key, the credentials file, this node's audit trail
    /// and (without --database-url) the SQLite database.
    #[arg(long, env = "TRENT_DATA_DIR", default_value = "./trent-data")]
    data_dir: PathBuf,
    /// Keep the key store in this PostgreSQL database (`postgres://user:password@host:port/db`)
    /// instead of SQLite in the data directory. Several nodes may share one database; each
    /// needs the same root key file in its own data directory.
    #[arg(long, env = "TRENT_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// With --database-url: the most connections this node opens.
    #[arg(long, env = "TRENT_DATABASE_POOL_SIZE", default_value_t = trent_store::POSTGRES_DEFAULT_POOL_SIZE)]
    database_pool_size: usize,
    /// With --database-url: how often (ms) this node drops its cached identities (access keys,
    /// sessions, identity policies and tags), bounding how long an IAM change made through
    /// another node goes unseen here.
    #[arg(long, env = "TRENT_IDENTITY_CACHE_TTL_MS", default_value_t = 5_000)]
    identity_cache_ttl_ms: u64,
    /// Key records (and as many unwrapped material versions) kept in memory, least recently
    /// used evicted first. A call on a key not held reads the store. Size it to the number of
    /// keys in regular use when memory allows: a record takes about 1–2 KiB.
    #[arg(long, env = "TRENT_KEY_CACHE_RECORDS",
          default_value_t = trent_core::DEFAULT_KEY_CACHE_CAPACITY as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    key_cache_records: u64,
    /// How often the background scheduler completes due deletions and rotations (ms).
    #[arg(
        long,
        env = "TRENT_SCHEDULER_INTERVAL_MS",
        default_value_t = 60_000,
        hide = true
    )]
    scheduler_interval_ms: u64,
    /// Benchmarking only: run without the audit trail, to measure what auditing costs.
    /// Never use it in production: calls are then not recorded anywhere.
    #[arg(long, env = "TRENT_NO_AUDIT", hide = true)]
    no_audit: bool,
    /// Testing only: add the offset (ms) stored in this file to the server's clock.
    #[arg(long, env = "TRENT_TEST_CLOCK_OFFSET_FILE", hide = true)]
    test_clock_offset_file: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ServeError {
    #[error("data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("root key: {0}")]
    RootKey(#[from] trent_rootkey::RootKeyError),
    #[error("store: {0}")]
    Store(#[from] trent_store::StoreError),
    #[error("audit trail: {0}")]
    Audit(#[from] trent_audit::AuditError),
    #[error("bootstrap: {0}")]
    Bootstrap(trent_core::OpError),
    #[error("invalid {name}: {reason}")]
    Setting { name: &'static str, reason: String },
    #[error("listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "another trent server is using the data directory {0} (it holds the lock on {1}); \
         run one server per data directory — nodes sharing keys use --database-url and a data \
         directory each"
    )]
    DataDirInUse(PathBuf, PathBuf),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The file a server holds an exclusive lock on while it uses a data directory.
const LOCK_FILE: &str = "trent.lock";

/// Locks the data directory for this process (released when the process exits, however it
/// exits). One server per data directory: the key cache of a server on SQLite trusts that every
/// change to a key goes through it, and two writers would also interleave one audit trail.
fn lock_data_dir(data_dir: &Path) -> Result<std::fs::File, ServeError> {
    let path = data_dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| ServeError::DataDir {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(ServeError::DataDirInUse(data_dir.to_path_buf(), path))
        }
        Err(std::fs::TryLockError::Error(source)) => Err(ServeError::DataDir { path, source }),
    }
}

pub(crate) fn run(args: ServeArgs) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> Result<(), ServeError> {
    let data_dir = args.data_dir;
    create_private_dir(&data_dir)?;
    let _data_dir_lock = lock_data_dir(&data_dir)?;
    let passphrase = std::env::var("TRENT_ROOT_PASSPHRASE").ok();
    let root_path = data_dir.join("root.key");
    let (root_key, created) = {
        let path = root_path.clone();
        tokio::task::spawn_blocking(move || {
            SealedFileRootKey::open_or_create(&path, passphrase.as_deref().map(str::as_bytes))
        })
        .await
        .map_err(|e| ServeError::Io(std::io::Error::other(e)))??
    };
    if created {
        tracing::info!(path = %root_path.display(), "generated and sealed a new root key");
    }
    let root_key = Arc::new(root_key);
    let audit = if args.no_audit {
        tracing::warn!("the audit trail is DISABLED (--no-audit): calls are not recorded");
        None
    } else {
        let dir = data_dir.clone();
        let root: Arc<dyn trent_rootkey::RootKeyProvider> = root_key.clone();
        Some(
            tokio::task::spawn_blocking(move || {
                trent_audit::AuditLog::open(&dir, root, trent_audit::AuditOptions::default())
            })
            .await
            .map_err(|e| ServeError::Io(std::io::Error::other(e)))??,
        )
    };
    let shared_database = args.database_url.as_deref().filter(|url| !url.is_empty());
    let store: Arc<dyn Store> = match shared_database {
        Some(url) => {
            let store = PostgresStore::connect_with_pool_size(url, args.database_pool_size).await?;
            tracing::info!(store = ?store, "using the PostgreSQL store");
            Arc::new(store)
        }
        None => Arc::new(SqliteStore::open(&data_dir.join("trent.db"))?),
    };
    let clock: Arc<dyn Clock> = match &args.test_clock_offset_file {
        Some(path) => {
            tracing::warn!(path = %path.display(), "using a test clock offset file");
            Arc::new(FileOffsetClock::new(path.clone()))
        }
        None => Arc::new(SystemClock),
    };
    // On SQLite this server is the only writer of its store (the data directory is locked), so
    // a cached key record stays valid until this server changes it and forgets it. Nodes
    // sharing PostgreSQL re-read a record after KEY_CACHE_TTL to see other nodes' changes.
    let key_cache_ttl = if shared_database.is_some() {
        trent_core::KEY_CACHE_TTL
    } else {
        Duration::MAX
    };
    let kms = Kms::with_key_cache(
        store,
        root_key,
        Arc::new(PolicyAuthorizer),
        clock,
        usize::try_from(args.key_cache_records).unwrap_or(usize::MAX),
        key_cache_ttl,
    );
    if let Some(audit) = &audit {
        kms.set_usage_ledger(Arc::new(AuditLedger(audit.clone())));
    }
    let credentials = kms
        .bootstrap(bootstrap_options_from_env()?)
        .await
        .map_err(ServeError::Bootstrap)?;
    let credentials_path = data_dir.join("credentials");
    if !credentials_path.exists() {
        write_credentials_file(&credentials_path, &credentials)?;
        tracing::info!(path = %credentials_path.display(), account = %credentials.account_id, "wrote bootstrap credentials");
    }

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: args.listen,
            source,
        })?;
    let local = listener.local_addr()?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on http://{local}")?;
        stdout.flush()?;
    }
    tracing::info!(address = %local, data_dir = %data_dir.display(), "trent is serving");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let wait_stop = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stopped| *stopped).await;
    };
    let scheduler = {
        let kms = kms.clone();
        let node_id = uuid::Uuid::new_v4().to_string();
        let interval = Duration::from_millis(args.scheduler_interval_ms.max(10));
        let stop = wait_stop(stop_rx.clone());
        tokio::spawn(async move { kms.run_scheduler(node_id, interval, stop).await })
    };
    if shared_database.is_some() {
        let kms = kms.clone();
        let every = Duration::from_millis(args.identity_cache_ttl_ms.max(10));
        let stop = wait_stop(stop_rx.clone());
        tokio::spawn(async move {
            tokio::pin!(stop);
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = &mut stop => break,
                    _ = ticks.tick() => kms.clear_identity_caches(),
                }
            }
        });
    }
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    trent_server::Server::new(kms, audit.clone())
        .serve(listener, wait_stop(stop_rx))
        .await?;
    let _ = scheduler.await;
    if let Some(audit) = audit {
        if let Err(e) = audit.shutdown().await {
            tracing::error!(error = %e, "could not seal the audit trail at shutdown");
        }
    }
    tracing::info!("shut down");
    Ok(())
}

fn bootstrap_options_from_env() -> Result<BootstrapOptions, ServeError> {
    let account_id = match std::env::var("TRENT_BOOTSTRAP_ACCOUNT_ID") {
        Ok(text) => Some(text.parse().map_err(|_| ServeError::Setting {
            name: "TRENT_BOOTSTRAP_ACCOUNT_ID",
            reason: "must be 12 digits".to_owned(),
        })?),
        Err(_) => None,
    };
    let access_key_id = match std::env::var("TRENT_BOOTSTRAP_ACCESS_KEY_ID") {
        Ok(id)
            if (16..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            Some(id)
        }
        Ok(_) => {
            return Err(ServeError::Setting {
                name: "TRENT_BOOTSTRAP_ACCESS_KEY_ID",
                reason: "must be 16 to 128 letters and digits".to_owned(),
            })
        }
        Err(_) => None,
    };
    let secret_access_key = match std::env::var("TRENT_BOOTSTRAP_SECRET_ACCESS_KEY") {
        Ok(secret) if secret.len() >= 16 => Some(SecretAccessKey::new(secret)),
        Ok(_) => {
            return Err(ServeError::Setting {
                name: "TRENT_BOOTSTRAP_SECRET_ACCESS_KEY",
                reason: "must be at least 16 characters".to_owned(),
            })
        }
        Err(_) => None,
    };
    Ok(BootstrapOptions {
        account_id,
        access_key_id,
        secret_access_key,
    })
}

fn create_private_dir(path: &Path) -> Result<(), ServeError> {
    let wrap = |source| ServeError::DataDir {
        path: path.to_owned(),
        source,
    };
    std::fs::create_dir_all(path).map_err(wrap)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).map_err(wrap)?;
    }
    Ok(())
}

/// Writes the AWS shared-credentials file (mode 0600) atomically.
fn write_credentials_file(
    path: &Path,
    credentials: &BootstrapCredentials,
) -> Result<(), ServeError> {
    let text = format!(
        "# Trent bootstrap administrator {}\n[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        credentials.user_arn,
        credentials.access_key_id,
        credentials.secret_access_key.expose()
    );
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; draining");
}

/// GetKeyLastUsage answers from the audit trail, so the two always agree.
struct AuditLedger(trent_audit::AuditLog);

#[async_trait::async_trait]
impl trent_core::UsageLedger for AuditLedger {
    async fn last_crypto_use(
        &self,
        key_arn: &str,
    ) -> Result<Option<trent_core::LedgerUse>, Box<dyn std::error::Error + Send + Sync>> {
        let found = self.0.last_crypto_use(key_arn).await?;
        Ok(found.map(|u| trent_core::LedgerUse {
            operation: u.operation,
            timestamp_ms: i64::try_from(u.timestamp.unix_timestamp_nanos() / 1_000_000)
                .unwrap_or(i64::MAX),
            event_id: u.event_id.to_string(),
            request_id: u.request_id,
        }))
    }
}
