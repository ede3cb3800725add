//! Accounts, the bootstrap administrator, and the access-key lookup used by authentication.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use trent_sigv4::SecretAccessKey;
use trent_store::{AccessKeyRecord, AccessKeyStatus, AccountRecord, UserRecord};
use trent_types::{AccountId, Principal, PrincipalKind};

use crate::{Kms, OpError};

const SETTING_BOOTSTRAP: &str = "bootstrap.access_key_id";
const ADMIN_USER: &str = "admin";
/// The lease held while bootstrapping, so nodes starting at once bootstrap only once.
const BOOTSTRAP_LEASE: &str = "bootstrap";
/// How long the bootstrap lease lasts (a node that dies mid-bootstrap blocks others this long).
const BOOTSTRAP_LEASE_MS: i64 = 30_000;
/// How often a node waiting for another's bootstrap looks again.
const BOOTSTRAP_POLL: std::time::Duration = std::time::Duration::from_millis(200);
/// How long a node waits for another's bootstrap before giving up.
const BOOTSTRAP_WAIT: std::time::Duration = std::time::Duration::from_secs(90);
pub(crate) const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub(crate) const SECRET_CHARS: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// What a first start may fix in advance (`TRENT_BOOTSTRAP_*`).
#[derive(Debug, Default, Clone)]
pub struct BootstrapOptions {
    /// The bootstrap account id.
    pub account_id: Option<AccountId>,
    /// The administrator's access key id.
    pub access_key_id: Option<String>,
    /// The administrator's secret access key.
    pub secret_access_key: Option<SecretAccessKey>,
}

/// The bootstrap administrator's credentials.
#[derive(Debug, Clone)]
pub struct BootstrapCredentials {
    /// Account id.
    pub account_id: AccountId,
    /// User ARN.
    pub user_arn: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: SecretAccessKey,
}

/// An authenticated identity with its secret, as authentication needs it.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The secret used to verify signatures.
    pub secret: SecretAccessKey,
    /// The identity requests signed with it act as.
    pub principal: Principal,
}

/// Unwrapped credentials by access key id. Access keys are immutable once created (a rotation
/// creates a new id); a deleted key is evicted with [`Kms::forget_credential`].
/// Decoded session credentials are cached by `ASIA…` id together with the token they came
/// from (see `crate::sts`).
#[derive(Default)]
pub(crate) struct CredentialCache {
    entries: RwLock<HashMap<String, Arc<Credential>>>,
    pub(crate) sessions: RwLock<HashMap<String, crate::sts::CachedSession>>,
}

pub(crate) fn random_string(alphabet: &[u8], len: usize) -> Result<String, OpError> {
    let bytes = trent_crypto::random_bytes(len).map_err(OpError::internal)?;
    Ok(bytes
        .iter()
        .map(|b| alphabet[usize::from(*b) % alphabet.len()] as char)
        .collect())
}

fn secret_aad(access_key_id: &str) -> Vec<u8> {
    let mut aad = b"trent/access-key-secret/v1\0".to_vec();
    aad.extend_from_slice(access_key_id.as_bytes());
    aad
}

fn random_account_id() -> Result<AccountId, OpError> {
    let bytes = trent_crypto::random_bytes(8).map_err(OpError::internal)?;
    let mut n = [0u8; 8];
    n.copy_from_slice(&bytes);
    // 12 digits, never starting with 0 so it reads like AWS's.
    let value = 100_000_000_000 + u64::from_be_bytes(n) % 900_000_000_000;
    AccountId::from_u64(value).map_err(OpError::internal)
}

/// A new administrator's credentials from `trent admin create-account`.
pub type AccountCredentials = BootstrapCredentials;

impl Kms {
    /// Generates an access key for a user: a random `AKIA…` id and 40-character secret, the
    /// secret wrapped by the root key exactly like the bootstrap key's. Not stored.
    pub(crate) fn new_access_key(
        &self,
        account: &AccountId,
        user_name: &str,
    ) -> Result<(AccessKeyRecord, SecretAccessKey), OpError> {
        let access_key_id = format!("AKIA{}", random_string(BASE32, 16)?);
        let secret = SecretAccessKey::new(random_string(SECRET_CHARS, 40)?);
        let wrapped_secret = self
            .inner
            .root_key
            .wrap(&secret_aad(&access_key_id), secret.expose().as_bytes())?;
        Ok((
            AccessKeyRecord {
                access_key_id,
                account: account.clone(),
                user_name: user_name.to_owned(),
                wrapped_secret,
                status: AccessKeyStatus::Active,
                created_at_ms: self.clock().now_ms(),
            },
            secret,
        ))
    }

    /// Forgets the cached credential of an access key (after it is deleted), so the next
    /// request signed with it is refused.
    pub fn forget_credential(&self, access_key_id: &str) {
        if let Ok(mut entries) = self.inner.credentials.entries.write() {
            entries.remove(access_key_id);
        }
    }

    /// Drops every cached identity on this node: credentials by access key, decoded STS
    /// sessions, and the identity policies and tags of users and roles. The next request of
    /// each caller reads them from the store again. Nodes sharing one database call this
    /// periodically, which bounds how long an IAM change made through another node (a deleted
    /// access key or role, a changed policy or tag) can go unseen here.
    pub fn clear_identity_caches(&self) {
        if let Ok(mut entries) = self.inner.credentials.entries.write() {
            entries.clear();
        }
        if let Ok(mut sessions) = self.inner.credentials.sessions.write() {
            sessions.clear();
        }
        self.clear_cached_identities();
    }

    /// Creates a new account with an administrator `user/admin` holding `AdministratorAccess`
    /// and one access key (`trent admin create-account`). `EntityAlreadyExists`-like failures
    /// surface as the store's `AlreadyExists`.
    pub async fn create_account(
        &self,
        account_id: Option<AccountId>,
        name: &str,
    ) -> Result<AccountCredentials, OpError> {
        let store = self.store();
        let now = self.clock().now_ms();
        let account_id = match account_id {
            Some(id) => id,
            None => random_account_id()?,
        };
        store
            .create_account(&AccountRecord {
                id: account_id.clone(),
                name: name.to_owned(),
                created_at_ms: now,
            })
            .await?;
        let user_arn = format!("arn:aws:iam::{account_id}:user/{ADMIN_USER}");
        store
            .create_user(&UserRecord {
                account: account_id.clone(),
                user_name: ADMIN_USER.to_owned(),
                user_id: format!("AIDA{}", random_string(BASE32, 17)?),
                arn: user_arn.clone(),
                path: "/".to_owned(),
                is_admin: true,
                created_at_ms: now,
            })
            .await?;
        store
            .put_user_policy(
                &account_id,
                ADMIN_USER,
                "AdministratorAccess",
                crate::policy::ADMINISTRATOR_POLICY,
            )
            .await?;
        let (record, secret) = self.new_access_key(&account_id, ADMIN_USER)?;
        store.create_access_key(&record).await?;
        Ok(AccountCredentials {
            account_id,
            user_arn,
            access_key_id: record.access_key_id,
            secret_access_key: secret,
        })
    }

    /// Creates the bootstrap account, administrator and access key on an empty store, or
    /// returns the existing ones. Idempotent: later starts return the same credentials.
    ///
    /// Safe when several nodes sharing one database start at once: bootstrapping holds the
    /// `bootstrap` lease, and a node that finds it taken waits for the other to finish and then
    /// returns the same credentials (so there is only ever one bootstrap account).
    pub async fn bootstrap(
        &self,
        options: BootstrapOptions,
    ) -> Result<BootstrapCredentials, OpError> {
        let holder = format!("bootstrap-{}", uuid::Uuid::new_v4());
        let give_up = tokio::time::Instant::now() + BOOTSTRAP_WAIT;
        loop {
            if let Some(found) = self.existing_bootstrap().await? {
                return Ok(found);
            }
            let now = self.clock().now_ms();
            if self
                .store()
                .try_acquire_lease(BOOTSTRAP_LEASE, &holder, now, BOOTSTRAP_LEASE_MS)
                .await?
            {
                // Another node may have finished between the check and the lease.
                if let Some(found) = self.existing_bootstrap().await? {
                    return Ok(found);
                }
                return self.create_bootstrap(options).await;
            }
            if tokio::time::Instant::now() >= give_up {
                return Err(OpError::internal(
                    "timed out waiting for another node to finish bootstrapping the store",
                ));
            }
            tokio::time::sleep(BOOTSTRAP_POLL).await;
        }
    }

    /// The bootstrap credentials if bootstrapping has completed (on any node).
    async fn existing_bootstrap(&self) -> Result<Option<BootstrapCredentials>, OpError> {
        let store = self.store();
        if let Some(akid) = store.get_setting(SETTING_BOOTSTRAP).await? {
            let cred = self.lookup_credential(&akid).await?.ok_or_else(|| {
                OpError::internal("bootstrap access key is missing from the store")
            })?;
            // Data directories bootstrapped before identity policies existed get the
            // administrator policy now.
            let account = &cred.principal.account;
            if store
                .list_user_policies(account, ADMIN_USER)
                .await?
                .is_empty()
            {
                store
                    .put_user_policy(
                        account,
                        ADMIN_USER,
                        "AdministratorAccess",
                        crate::policy::ADMINISTRATOR_POLICY,
                    )
                    .await?;
            }
            return Ok(Some(BootstrapCredentials {
                account_id: cred.principal.account.clone(),
                user_arn: cred.principal.arn.clone(),
                access_key_id: akid,
                secret_access_key: cred.secret.clone(),
            }));
        }
        Ok(None)
    }

    /// Creates the bootstrap identity; the caller holds the bootstrap lease.
    async fn create_bootstrap(
        &self,
        options: BootstrapOptions,
    ) -> Result<BootstrapCredentials, OpError> {
        let store = self.store();
        let now = self.clock().now_ms();
        let account_id = match options.account_id {
            Some(id) => id,
            None => random_account_id()?,
        };
        let access_key_id = match options.access_key_id {
            Some(id) => id,
            None => format!("AKIA{}", random_string(BASE32, 16)?),
        };
        let secret = match options.secret_access_key {
            Some(s) => s,
            None => SecretAccessKey::new(random_string(SECRET_CHARS, 40)?),
        };
        if store.get_account(&account_id).await?.is_none() {
            store
                .create_account(&AccountRecord {
                    id: account_id.clone(),
                    name: "bootstrap".to_owned(),
                    created_at_ms: now,
                })
                .await?;
        }
        let user_arn = format!("arn:aws:iam::{account_id}:user/{ADMIN_USER}");
        if store.get_user(&account_id, ADMIN_USER).await?.is_none() {
            store
                .create_user(&UserRecord {
                    account: account_id.clone(),
                    user_name: ADMIN_USER.to_owned(),
                    user_id: format!("AIDA{}", random_string(BASE32, 17)?),
                    arn: user_arn.clone(),
                    path: "/".to_owned(),
                    is_admin: true,
                    created_at_ms: now,
                })
                .await?;
        }
        if store.get_access_key(&access_key_id).await?.is_none() {
            let wrapped_secret = self
                .inner
                .root_key
                .wrap(&secret_aad(&access_key_id), secret.expose().as_bytes())?;
            store
                .create_access_key(&AccessKeyRecord {
                    access_key_id: access_key_id.clone(),
                    account: account_id.clone(),
                    user_name: ADMIN_USER.to_owned(),
                    wrapped_secret,
                    status: AccessKeyStatus::Active,
                    created_at_ms: now,
                })
                .await?;
        }
        // The administrator may do everything its account's key policies delegate to IAM.
        store
            .put_user_policy(
                &account_id,
                ADMIN_USER,
                "AdministratorAccess",
                crate::policy::ADMINISTRATOR_POLICY,
            )
            .await?;
        // Written last: its presence means everything above is durable.
        store.put_setting(SETTING_BOOTSTRAP, &access_key_id).await?;
        Ok(BootstrapCredentials {
            account_id,
            user_arn,
            access_key_id,
            secret_access_key: secret,
        })
    }

    /// Finds the active credential for an access key id, unwrapping its secret with the root
    /// key on first use. `None` for unknown or inactive keys.
    pub async fn lookup_credential(
        &self,
        access_key_id: &str,
    ) -> Result<Option<Arc<Credential>>, OpError> {
        if let Ok(entries) = self.inner.credentials.entries.read() {
            if let Some(found) = entries.get(access_key_id) {
                return Ok(Some(Arc::clone(found)));
            }
        }
        let store = self.store();
        let Some(record) = store.get_access_key(access_key_id).await? else {
            return Ok(None);
        };
        if record.status != AccessKeyStatus::Active {
            return Ok(None);
        }
        let Some(user) = store.get_user(&record.account, &record.user_name).await? else {
            return Ok(None);
        };
        let secret_bytes = self
            .inner
            .root_key
            .unwrap(&secret_aad(access_key_id), &record.wrapped_secret)?;
        let secret = std::str::from_utf8(&secret_bytes)
            .map_err(|_| OpError::internal("stored secret is not UTF-8"))?
            .to_owned();
        let credential = Arc::new(Credential {
            secret: SecretAccessKey::new(secret),
            principal: Principal {
                account: record.account.clone(),
                arn: user.arn.clone(),
                user_id: user.user_id.clone(),
                kind: PrincipalKind::IamUser,
                access_key_id: access_key_id.to_owned(),
            },
        });
        if let Ok(mut entries) = self.inner.credentials.entries.write() {
            entries.insert(access_key_id.to_owned(), Arc::clone(&credential));
        }
        Ok(Some(credential))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use trent_store::{SqliteStore, Store};

    use super::BootstrapOptions;
    use crate::{Kms, PolicyAuthorizer, SystemClock};

    /// Nodes sharing one store that bootstrap at once, each with random ids, end up with one
    /// bootstrap account and the same credentials.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nodes_bootstrapping_at_once_share_one_bootstrap_account() {
        let dir = tempfile::tempdir().unwrap();
        let (root_key, _) =
            trent_rootkey::SealedFileRootKey::open_or_create(&dir.path().join("root.key"), None)
                .unwrap();
        let root_key = Arc::new(root_key);
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("trent.db")).unwrap());
        let nodes: Vec<Kms> = (0..4)
            .map(|_| {
                Kms::new(
                    Arc::clone(&store),
                    root_key.clone(),
                    Arc::new(PolicyAuthorizer),
                    Arc::new(SystemClock),
                )
            })
            .collect();
        let starts = nodes.iter().map(|kms| {
            let kms = kms.clone();
            tokio::spawn(async move { kms.bootstrap(BootstrapOptions::default()).await })
        });
        // Spawn them all before awaiting any.
        let starts: Vec<_> = starts.collect();
        let mut credentials = Vec::new();
        for start in starts {
            credentials.push(start.await.unwrap().unwrap());
        }
        let first = &credentials[0];
        for other in &credentials[1..] {
            assert_eq!(other.account_id, first.account_id);
            assert_eq!(other.access_key_id, first.access_key_id);
            assert_eq!(
                other.secret_access_key.expose(),
                first.secret_access_key.expose()
            );
        }
        assert_eq!(store.list_accounts().await.unwrap().len(), 1);
    }
}
