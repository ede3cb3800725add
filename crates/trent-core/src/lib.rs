//! The KMS operations of Trent, independent of HTTP.
//!
//! [`Kms`] owns the seams an operation needs — the [`Store`](trent_store::Store), the
//! [`RootKeyProvider`](trent_rootkey::RootKeyProvider), the [`Authorizer`] and the [`Clock`] —
//! and [`Kms::execute`] runs one request: parse and validate the JSON body (trent-wire), resolve
//! the key, authorize, check key state and usage, run the cryptography, write durably, and
//! return the JSON response. Each operation lives in its own module under `ops`. Errors are one
//! enum, [`OpError`], named after the AWS exceptions; the server maps it to the wire once.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod authz;
pub mod clock;
mod error;
mod grants;
pub mod iam;
pub mod identity;
mod keycache;
mod keys;
mod material;
mod ops;
mod policy;
mod roles;
mod scheduler;
pub mod sts;
mod usage;

use std::net::IpAddr;
use std::sync::Arc;

pub use authz::{AccountBoundaryAuthorizer, Authorizer, Decision, PolicyAuthorizer};
pub use clock::{Clock, FileOffsetClock, OffsetClock, SystemClock};
pub use error::{InternalCause, OpError};
pub use keycache::{DEFAULT_KEY_CACHE_CAPACITY, KEY_CACHE_TTL};
pub use trent_wire::Operation;
pub use usage::{LedgerUse, UsageLedger};

use trent_rootkey::RootKeyProvider;
use trent_store::Store;
use trent_types::{Principal, Region};

/// Who is calling and from where: established by the server before an operation runs.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The authenticated identity.
    pub principal: Principal,
    /// The region from the request's SigV4 credential scope.
    pub region: Region,
    /// The request id returned as `x-amzn-RequestId`.
    pub request_id: String,
    /// The caller's address.
    pub source_ip: Option<IpAddr>,
    /// The caller's User-Agent.
    pub user_agent: Option<String>,
    /// What the operation found out along the way, for the audit trail.
    pub notes: Arc<RequestNotes>,
    /// The assumed-role session the request was signed with, if any.
    pub session: Option<Arc<sts::Session>>,
}

/// What an operation records about a request for the audit trail: the keys it touched and
/// each authorization decision with its deciding statement.
#[derive(Debug, Default)]
pub struct RequestNotes {
    inner: std::sync::Mutex<NotesInner>,
}

/// One authorization decision made for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionNote {
    /// The IAM action decided.
    pub action: String,
    /// Whether it was allowed.
    pub allowed: bool,
    /// The deciding statement, if any.
    pub deciding: Option<String>,
    /// The evaluator's explanation.
    pub reason: String,
}

#[derive(Debug, Default)]
struct NotesInner {
    resources: Vec<String>,
    decisions: Vec<DecisionNote>,
    /// Keys the request named through an alias, with the alias name (`kms:RequestAlias`).
    request_aliases: Vec<(trent_types::KeyId, String)>,
}

impl RequestNotes {
    /// Records a key the request touched (deduplicated).
    pub fn add_resource(&self, arn: &str) {
        if let Ok(mut inner) = self.inner.lock() {
            if !inner.resources.iter().any(|r| r == arn) {
                inner.resources.push(arn.to_owned());
            }
        }
    }

    /// Records that the request named `key_id` through `alias_name` (`alias/…`).
    pub(crate) fn note_request_alias(&self, key_id: trent_types::KeyId, alias_name: &str) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.request_aliases.retain(|(k, _)| *k != key_id);
            inner.request_aliases.push((key_id, alias_name.to_owned()));
        }
    }

    /// The alias name through which the request named `key_id`, if it used one.
    pub(crate) fn request_alias(&self, key_id: &trent_types::KeyId) -> Option<String> {
        self.inner.lock().ok().and_then(|inner| {
            inner
                .request_aliases
                .iter()
                .find(|(k, _)| k == key_id)
                .map(|(_, a)| a.clone())
        })
    }

    pub(crate) fn record_decision(&self, action: &str, decision: &Decision) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.decisions.push(DecisionNote {
                action: action.to_owned(),
                allowed: decision.allowed,
                deciding: decision.deciding.clone(),
                reason: decision.reason.clone(),
            });
        }
    }

    /// The key ARNs the request touched.
    pub fn resources(&self) -> Vec<String> {
        self.inner
            .lock()
            .map(|i| i.resources.clone())
            .unwrap_or_default()
    }

    /// The authorization decisions made for the request.
    pub fn decisions(&self) -> Vec<DecisionNote> {
        self.inner
            .lock()
            .map(|i| i.decisions.clone())
            .unwrap_or_default()
    }
}

/// The KMS service: shared, cheap to clone.
#[derive(Clone)]
pub struct Kms {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    root_key: Arc<dyn RootKeyProvider>,
    authorizer: Arc<dyn Authorizer>,
    clock: Arc<dyn Clock>,
    materials: material::MaterialCache,
    keys: keycache::KeyCache,
    credentials: identity::CredentialCache,
    usage: usage::UsageTracker,
    policies: policy::PolicyCache,
}

impl std::fmt::Debug for Kms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kms")
            .field("root_key", &self.inner.root_key.describe())
            .finish_non_exhaustive()
    }
}

impl Kms {
    /// Builds the service from its seams.
    pub fn new(
        store: Arc<dyn Store>,
        root_key: Arc<dyn RootKeyProvider>,
        authorizer: Arc<dyn Authorizer>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self::with_key_cache(
            store,
            root_key,
            authorizer,
            clock,
            DEFAULT_KEY_CACHE_CAPACITY,
            KEY_CACHE_TTL,
        )
    }

    /// Like [`Kms::new`], with the key-record cache bounded to `capacity` records (and the
    /// unwrapped-material cache to as many versions), each record trusted for `ttl` (the bound
    /// on how late this node sees a key change made by another node sharing the database;
    /// changes made through this node are seen at once). `Duration::MAX` never re-reads a
    /// cached record: for a node that is the only writer of its store.
    pub fn with_key_cache(
        store: Arc<dyn Store>,
        root_key: Arc<dyn RootKeyProvider>,
        authorizer: Arc<dyn Authorizer>,
        clock: Arc<dyn Clock>,
        capacity: usize,
        ttl: std::time::Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                root_key,
                authorizer,
                clock,
                materials: material::MaterialCache::new(capacity),
                keys: keycache::KeyCache::new(capacity, ttl),
                credentials: identity::CredentialCache::default(),
                usage: usage::UsageTracker::default(),
                policies: policy::PolicyCache::default(),
            }),
        }
    }

    /// The store this service writes to.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The clock this service reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Runs one operation on a JSON request body and returns the JSON response body.
    pub async fn execute(
        &self,
        ctx: &RequestContext,
        operation: Operation,
        body: &[u8],
    ) -> Result<Vec<u8>, OpError> {
        ops::dispatch(self, ctx, operation, body).await
    }
}
