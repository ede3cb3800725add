//! `trent admin`: manage accounts directly in the data directory (the server need not run;
//! SQLite in WAL mode lets a running server and this command share the database), or in the
//! PostgreSQL database named by `--database-url`, with the root key from the data directory.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use trent_core::{Kms, PolicyAuthorizer, SystemClock};
use trent_rootkey::SealedFileRootKey;
use trent_store::{PostgresStore, SqliteStore, Store};
use trent_types::AccountId;

/// The `trent admin` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// Create an account with an administrator (AdministratorAccess) and an access key, and
    /// print the credentials in the AWS credentials-file format.
    CreateAccount(CreateAccountArgs),
    /// List the accounts: id, name, creation time.
    ListAccounts(DataDirArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DataDirArgs {
    /// The server's data directory.
    #[arg(long, env = "TRENT_DATA_DIR", default_value = "./trent-data")]
    data_dir: PathBuf,
    /// The PostgreSQL database the servers share, if they use one (see `trent serve`).
    #[arg(long, env = "TRENT_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct CreateAccountArgs {
    #[command(flatten)]
    dir: DataDirArgs,
    /// The 12-digit account id (random if omitted).
    #[arg(long)]
    account_id: Option<String>,
    /// A human-readable name (defaults to the account id).
    #[arg(long)]
    name: Option<String>,
    /// The profile name in the printed credentials (defaults to the account id).
    #[arg(long)]
    profile: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum AdminError {
    #[error("no data directory at {0} (start `trent serve --data-dir` there once first)")]
    NoDataDir(PathBuf),
    #[error("invalid --account-id: must be 12 digits")]
    AccountId,
    #[error("account {0} already exists")]
    AccountExists(String),
    #[error("root key: {0}")]
    RootKey(#[from] trent_rootkey::RootKeyError),
    #[error("store: {0}")]
    Store(#[from] trent_store::StoreError),
    #[error("{0}")]
    Op(#[from] trent_core::OpError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

pub(crate) fn run(command: AdminCommand) -> Result<(), AdminError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match command {
            AdminCommand::CreateAccount(args) => create_account(args).await,
            AdminCommand::ListAccounts(args) => list_accounts(args).await,
        }
    })
}

async fn open(dir: &DataDirArgs) -> Result<Kms, AdminError> {
    let root_path = dir.data_dir.join("root.key");
    if !root_path.exists() {
        return Err(AdminError::NoDataDir(dir.data_dir.clone()));
    }
    let passphrase = std::env::var("TRENT_ROOT_PASSPHRASE").ok();
    let (root_key, _) =
        SealedFileRootKey::open_or_create(&root_path, passphrase.as_deref().map(str::as_bytes))?;
    let store: Arc<dyn Store> = match dir.database_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => Arc::new(PostgresStore::connect_with_pool_size(url, 2).await?),
        None => Arc::new(SqliteStore::open(&dir.data_dir.join("trent.db"))?),
    };
    Ok(Kms::new(
        store,
        Arc::new(root_key),
        Arc::new(PolicyAuthorizer),
        Arc::new(SystemClock),
    ))
}

async fn create_account(args: CreateAccountArgs) -> Result<(), AdminError> {
    let account_id: Option<AccountId> = match &args.account_id {
        Some(text) => Some(text.parse().map_err(|_| AdminError::AccountId)?),
        None => None,
    };
    let kms = open(&args.dir).await?;
    if let Some(id) = &account_id {
        if kms.store().get_account(id).await?.is_some() {
            return Err(AdminError::AccountExists(id.to_string()));
        }
    }
    let name = args
        .name
        .clone()
        .or_else(|| account_id.as_ref().map(ToString::to_string))
        .unwrap_or_default();
    let created = kms.create_account(account_id, &name).await?;
    let profile = args
        .profile
        .unwrap_or_else(|| created.account_id.to_string());
    let name = if name.is_empty() {
        created.account_id.to_string()
    } else {
        name
    };
    println!(
        "# Trent account {} ({name}), administrator {}\n[{profile}]\naws_access_key_id = {}\naws_secret_access_key = {}",
        created.account_id,
        created.user_arn,
        created.access_key_id,
        created.secret_access_key.expose()
    );
    Ok(())
}

async fn list_accounts(args: DataDirArgs) -> Result<(), AdminError> {
    let kms = open(&args).await?;
    for account in kms.store().list_accounts().await? {
        let created = time::OffsetDateTime::from_unix_timestamp(account.created_at_ms / 1000)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        println!("{}\t{}\t{created}", account.id, account.name);
    }
    Ok(())
}
