//! The CloudTrail-shaped event record and its builders.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::{OffsetDateTime, UtcOffset};
use trent_types::{Principal, PrincipalKind};
use uuid::Uuid;

use crate::sanitize::{sanitize_request_parameters, sanitize_response_elements};

/// The `eventVersion` Trent writes.
pub const EVENT_VERSION: &str = "1.08";
/// `eventSource` of KMS calls.
pub const KMS_EVENT_SOURCE: &str = "kms.amazonaws.com";
/// `eventSource` of IAM calls.
pub const IAM_EVENT_SOURCE: &str = "iam.amazonaws.com";
/// `eventSource` of STS calls.
pub const STS_EVENT_SOURCE: &str = "sts.amazonaws.com";
/// `resources[].type` of an IAM role.
pub const IAM_ROLE_RESOURCE_TYPE: &str = "AWS::IAM::Role";
/// `resources[].type` of a KMS key.
pub const KMS_KEY_RESOURCE_TYPE: &str = "AWS::KMS::Key";

const EVENT_TYPE: &str = "AwsApiCall";
const EVENT_CATEGORY: &str = "Management";

/// KMS operations that use key material (what "last used" means for a key).
const CRYPTOGRAPHIC_OPERATIONS: &[&str] = &[
    "Encrypt",
    "Decrypt",
    "ReEncrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "Sign",
    "Verify",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
];

/// Whether `event_name` is a cryptographic operation on a key (Encrypt, Decrypt, Sign, …).
pub fn is_cryptographic_operation(event_name: &str) -> bool {
    CRYPTOGRAPHIC_OPERATIONS.contains(&event_name)
}

/// Whether CloudTrail marks `event_name` `readOnly`: Describe*, Get*, List*, GenerateRandom and
/// the cryptographic operations (they change no state).
pub fn is_read_only(event_name: &str) -> bool {
    event_name.starts_with("Describe")
        || event_name.starts_with("Get")
        || event_name.starts_with("List")
        || event_name == "GenerateRandom"
        || is_cryptographic_operation(event_name)
}

/// One audit record, serialised with CloudTrail's field names.
///
/// Build one with [`AuditEvent::new`] and the `with_*` methods; all fields are public for the
/// rest. [`crate::AuditLog::record`] normalises the event before storing it: `eventTime` is cut
/// to whole seconds in UTC and both parameter objects pass through the sanitisers again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Always [`EVENT_VERSION`].
    pub event_version: String,
    /// Who made the call.
    pub user_identity: UserIdentity,
    /// When the call was made; serialised as `2026-11-23T20:00:00Z`.
    #[serde(with = "event_time")]
    pub event_time: OffsetDateTime,
    /// `kms.amazonaws.com`, `iam.amazonaws.com` or `sts.amazonaws.com`.
    pub event_source: String,
    /// The API operation, e.g. `Encrypt`.
    pub event_name: String,
    /// The region the call was made in.
    pub aws_region: String,
    /// The caller's IP address.
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: String,
    /// The caller's `User-Agent`.
    pub user_agent: String,
    /// The AWS error code (`AccessDeniedException`, …); absent on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The error message; absent on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Sanitised request parameters (`null` when there are none).
    #[serde(default)]
    pub request_parameters: Option<Value>,
    /// Sanitised response elements of state-changing management calls (`null` otherwise).
    #[serde(default)]
    pub response_elements: Option<Value>,
    /// Extra data, e.g. `{"authorization": {"decision": …}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_event_data: Option<Value>,
    /// The request id returned to the caller as `x-amzn-RequestId`.
    #[serde(rename = "requestID")]
    pub request_id: String,
    /// The unique id of this event.
    #[serde(rename = "eventID")]
    pub event_id: Uuid,
    /// Whether the operation only reads.
    pub read_only: bool,
    /// The keys the call touched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
    /// Always `AwsApiCall`.
    pub event_type: String,
    /// Whether this is a management event (all KMS events are).
    pub management_event: bool,
    /// The account the call was made against.
    pub recipient_account_id: String,
    /// Always `Management`.
    #[serde(default = "management_category")]
    pub event_category: String,
    /// TLS details of the connection, when the server terminated TLS itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_details: Option<TlsDetails>,
}

fn management_category() -> String {
    EVENT_CATEGORY.to_owned()
}

/// CloudTrail's `userIdentity.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IdentityType {
    /// An IAM user.
    #[serde(rename = "IAMUser")]
    IamUser,
    /// An assumed-role session.
    AssumedRole,
    /// The account root.
    Root,
    /// Not authenticated (failed authentication) or not known.
    #[serde(other)]
    Unknown,
}

impl From<PrincipalKind> for IdentityType {
    fn from(kind: PrincipalKind) -> Self {
        match kind {
            PrincipalKind::Root => Self::Root,
            PrincipalKind::IamUser => Self::IamUser,
            PrincipalKind::AssumedRole => Self::AssumedRole,
        }
    }
}

/// CloudTrail's `userIdentity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    /// The kind of identity.
    #[serde(rename = "type")]
    pub identity_type: IdentityType,
    /// The unique id of the identity (`AIDA…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// The identity's ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// The identity's account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The access key id the request was signed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// The IAM user name (IAM users only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// For assumed-role sessions: the role that issued the session and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_context: Option<SessionContext>,
}

/// CloudTrail's `userIdentity.sessionContext` of temporary credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    /// The role the session was obtained from.
    pub session_issuer: SessionIssuer,
    /// When the session was issued, and whether with MFA.
    pub attributes: SessionAttributes,
    /// The `SourceIdentity` set when the role was assumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
}

/// `sessionContext.sessionIssuer`: the role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer {
    /// Always `Role`.
    #[serde(rename = "type")]
    pub issuer_type: String,
    /// The role id, `AROA…`.
    pub principal_id: String,
    /// The role ARN.
    pub arn: String,
    /// The role's account.
    pub account_id: String,
    /// The role name.
    pub user_name: String,
}

/// `sessionContext.attributes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionAttributes {
    /// When the session was issued, `2026-11-23T20:00:00Z`.
    pub creation_date: String,
    /// `"false"`: Trent has no MFA.
    pub mfa_authenticated: String,
}

impl SessionContext {
    /// The context of a session of role `role_name` (`role_id`, `role_arn`) in `account`,
    /// issued at `issued_at`.
    pub fn for_role(
        role_id: &str,
        role_arn: &str,
        account: &str,
        role_name: &str,
        issued_at: OffsetDateTime,
        source_identity: Option<&str>,
    ) -> Self {
        Self {
            session_issuer: SessionIssuer {
                issuer_type: "Role".to_owned(),
                principal_id: role_id.to_owned(),
                arn: role_arn.to_owned(),
                account_id: account.to_owned(),
                user_name: role_name.to_owned(),
            },
            attributes: SessionAttributes {
                creation_date: format_event_time(issued_at).unwrap_or_default(),
                mfa_authenticated: "false".to_owned(),
            },
            source_identity: source_identity.map(str::to_owned),
        }
    }
}

impl UserIdentity {
    /// The identity of an authenticated principal.
    pub fn from_principal(principal: &Principal) -> Self {
        let user_name = match principal.kind {
            PrincipalKind::IamUser => principal.arn.rsplit('/').next().map(str::to_owned),
            _ => None,
        };
        Self {
            identity_type: principal.kind.into(),
            principal_id: Some(principal.user_id.clone()),
            arn: Some(principal.arn.clone()),
            account_id: Some(principal.account.as_str().to_owned()),
            access_key_id: Some(principal.access_key_id.clone()),
            user_name,
            session_context: None,
        }
    }

    /// The identity of a request that failed authentication; `access_key_id` is the key id the
    /// caller claimed, if any.
    pub fn unknown(access_key_id: Option<&str>) -> Self {
        Self {
            identity_type: IdentityType::Unknown,
            principal_id: None,
            arn: None,
            account_id: None,
            access_key_id: access_key_id.map(str::to_owned),
            user_name: None,
            session_context: None,
        }
    }
}

/// One entry of `resources`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// The account owning the resource.
    #[serde(rename = "accountId")]
    pub account_id: String,
    /// The resource type, e.g. [`KMS_KEY_RESOURCE_TYPE`].
    #[serde(rename = "type")]
    pub resource_type: String,
    /// The resource ARN.
    #[serde(rename = "ARN")]
    pub arn: String,
}

impl Resource {
    /// An IAM role (`AWS::IAM::Role`), as AssumeRole events name it; the account is taken from
    /// the ARN (`arn:aws:iam::<account>:role/…`).
    pub fn iam_role(arn: &str) -> Self {
        Self {
            account_id: arn.split(':').nth(4).unwrap_or_default().to_owned(),
            resource_type: IAM_ROLE_RESOURCE_TYPE.to_owned(),
            arn: arn.to_owned(),
        }
    }

    /// A KMS key resource; the account is taken from the ARN (`arn:aws:kms:<region>:<account>:…`).
    pub fn kms_key(arn: &str) -> Self {
        Self {
            account_id: arn_account(arn).unwrap_or_default().to_owned(),
            resource_type: KMS_KEY_RESOURCE_TYPE.to_owned(),
            arn: arn.to_owned(),
        }
    }
}

/// The account field of an ARN, if it has one.
fn arn_account(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    if parts.next() != Some("arn") {
        return None;
    }
    parts.nth(3).filter(|account| !account.is_empty())
}

/// CloudTrail's `tlsDetails`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsDetails {
    /// E.g. `TLSv1.3`.
    pub tls_version: String,
    /// E.g. `TLS_AES_128_GCM_SHA256`.
    pub cipher_suite: String,
    /// The `Host` header the client sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_provided_host_header: Option<String>,
}

impl AuditEvent {
    /// A successful call by an unknown identity with empty request id, source and user agent;
    /// fill the rest with the `with_*` methods. `eventID` is a fresh random UUID and `readOnly`
    /// follows [`is_read_only`].
    pub fn new(
        event_source: &str,
        event_name: &str,
        aws_region: &str,
        event_time: OffsetDateTime,
    ) -> Self {
        Self {
            event_version: EVENT_VERSION.to_owned(),
            user_identity: UserIdentity::unknown(None),
            event_time,
            event_source: event_source.to_owned(),
            event_name: event_name.to_owned(),
            aws_region: aws_region.to_owned(),
            source_ip_address: String::new(),
            user_agent: String::new(),
            error_code: None,
            error_message: None,
            request_parameters: None,
            response_elements: None,
            additional_event_data: None,
            request_id: String::new(),
            // Time-ordered (UUIDv7): the trail's unique eventID index then grows at its right
            // edge, one page per group commit, instead of a random page per event.
            event_id: Uuid::now_v7(),
            read_only: is_read_only(event_name),
            resources: Vec::new(),
            event_type: EVENT_TYPE.to_owned(),
            management_event: true,
            recipient_account_id: String::new(),
            event_category: EVENT_CATEGORY.to_owned(),
            tls_details: None,
        }
    }

    /// Sets the caller; also the recipient account unless a key resource already set it.
    pub fn with_identity(mut self, identity: UserIdentity) -> Self {
        if self.recipient_account_id.is_empty() {
            if let Some(account) = &identity.account_id {
                self.recipient_account_id.clone_from(account);
            }
        }
        self.user_identity = identity;
        self
    }

    /// Sets the caller from an authenticated principal.
    pub fn with_principal(self, principal: &Principal) -> Self {
        self.with_identity(UserIdentity::from_principal(principal))
    }

    /// Adds the `sessionContext` of an assumed-role caller.
    pub fn with_session_context(mut self, context: SessionContext) -> Self {
        self.user_identity.session_context = Some(context);
        self
    }

    /// Sets the request id.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = request_id.into();
        self
    }

    /// Sets the caller's address and user agent.
    pub fn with_source(mut self, ip: impl Into<String>, user_agent: impl Into<String>) -> Self {
        self.source_ip_address = ip.into();
        self.user_agent = user_agent.into();
        self
    }

    /// Sets the request parameters from the request body, sanitised
    /// ([`sanitize_request_parameters`]).
    pub fn with_request_parameters(mut self, params: &Value) -> Self {
        self.request_parameters = non_null(sanitize_request_parameters(&self.event_name, params));
        self
    }

    /// Sets the response elements from the response body, sanitised
    /// ([`sanitize_response_elements`]: `null` for read-only and cryptographic operations).
    pub fn with_response_elements(mut self, response: &Value) -> Self {
        self.response_elements = non_null(sanitize_response_elements(&self.event_name, response));
        self
    }

    /// Marks the call failed with an AWS error code and message.
    pub fn with_error(mut self, code: impl Into<String>, message: impl Into<String>) -> Self {
        self.error_code = Some(code.into());
        self.error_message = Some(message.into());
        self
    }

    /// Adds a KMS key to `resources`; the key's account becomes the recipient account.
    pub fn with_key(mut self, key_arn: &str) -> Self {
        let resource = Resource::kms_key(key_arn);
        if !resource.account_id.is_empty() {
            self.recipient_account_id.clone_from(&resource.account_id);
        }
        if !self.resources.iter().any(|r| r.arn == resource.arn) {
            self.resources.push(resource);
        }
        self
    }

    /// Adds a resource other than a key (keys: [`AuditEvent::with_key`]).
    pub fn with_resource(mut self, resource: Resource) -> Self {
        if !self.resources.iter().any(|r| r.arn == resource.arn) {
            self.resources.push(resource);
        }
        self
    }

    /// Sets the recipient account explicitly.
    pub fn with_recipient_account(mut self, account_id: impl Into<String>) -> Self {
        self.recipient_account_id = account_id.into();
        self
    }

    /// Sets `additionalEventData.<name>` (other entries are kept).
    pub fn with_additional_data(mut self, name: &str, value: Value) -> Self {
        let mut map = match self.additional_event_data.take() {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        map.insert(name.to_owned(), value);
        self.additional_event_data = Some(Value::Object(map));
        self
    }

    /// Records the authorization decision as `additionalEventData.authorization`
    /// `{decision, decidingStatement?, grantId?}`.
    pub fn with_authorization(
        self,
        decision: &str,
        deciding_statement: Option<&str>,
        grant_id: Option<&str>,
    ) -> Self {
        let mut authz = Map::new();
        authz.insert("decision".to_owned(), Value::from(decision));
        if let Some(statement) = deciding_statement {
            authz.insert("decidingStatement".to_owned(), Value::from(statement));
        }
        if let Some(grant) = grant_id {
            authz.insert("grantId".to_owned(), Value::from(grant));
        }
        self.with_additional_data("authorization", Value::Object(authz))
    }

    /// Sets the TLS details.
    pub fn with_tls(mut self, tls: TlsDetails) -> Self {
        self.tls_details = Some(tls);
        self
    }

    /// Whether the call succeeded (no error code).
    pub fn is_success(&self) -> bool {
        self.error_code.is_none()
    }

    /// The normal form stored by the log: time cut to whole seconds in UTC, parameters
    /// sanitised, empty objects as `null`.
    pub(crate) fn normalize(&mut self) {
        let utc = self.event_time.to_offset(UtcOffset::UTC);
        self.event_time = utc.replace_nanosecond(0).unwrap_or(utc);
        self.request_parameters = self
            .request_parameters
            .take()
            .and_then(|p| non_null(sanitize_request_parameters(&self.event_name, &p)));
        self.response_elements = self
            .response_elements
            .take()
            .and_then(|r| non_null(sanitize_response_elements(&self.event_name, &r)));
    }
}

fn non_null(value: Value) -> Option<Value> {
    match value {
        Value::Null => None,
        other => Some(other),
    }
}

/// Formats a time the way `eventTime` is written: `2026-11-23T20:00:00Z` (UTC, whole seconds).
pub fn format_event_time(time: OffsetDateTime) -> Result<String, time::error::Format> {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time.to_offset(UtcOffset::UTC).format(&format)
}

/// Serde for `eventTime`: written as `2026-11-23T20:00:00Z`, read as any RFC 3339 time.
mod event_time {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::format_description::well_known::Rfc3339;
    use time::OffsetDateTime;

    pub(super) fn serialize<S: Serializer>(
        time: &OffsetDateTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let text = super::format_event_time(*time).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        OffsetDateTime::parse(&text, &Rfc3339).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;
    use trent_types::AccountId;

    fn principal() -> Principal {
        Principal {
            account: AccountId::from_u64(111122223333).unwrap(),
            arn: "arn:aws:iam::111122223333:user/alice".to_owned(),
            user_id: "AIDAEXAMPLE".to_owned(),
            kind: PrincipalKind::IamUser,
            access_key_id: "AKIAEXAMPLE".to_owned(),
        }
    }

    #[test]
    fn serialises_with_cloudtrail_field_names() {
        let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let event = AuditEvent::new(
            KMS_EVENT_SOURCE,
            "Encrypt",
            "us-east-1",
            datetime!(2026-11-23 20:00:00.75 UTC),
        )
        .with_principal(&principal())
        .with_request_id("req-1")
        .with_source("127.0.0.1", "aws-sdk-rust/1.0")
        .with_request_parameters(&json!({
            "KeyId": "alias/x",
            "Plaintext": "c2VjcmV0",
            "EncryptionContext": {"Dept": "IT"}
        }))
        .with_response_elements(&json!({"CiphertextBlob": "AAAA", "KeyId": key}))
        .with_key(key)
        .with_authorization("Allow", Some("key-policy:Enable IAM"), None)
        .with_tls(TlsDetails {
            tls_version: "TLSv1.3".to_owned(),
            cipher_suite: "TLS_AES_128_GCM_SHA256".to_owned(),
            client_provided_host_header: Some("kms.local".to_owned()),
        });
        let v = serde_json::to_value(&event).unwrap();
        assert_eq!(v["eventVersion"], "1.08");
        assert_eq!(v["eventTime"], "2026-11-23T20:00:00Z");
        assert_eq!(v["eventSource"], "kms.amazonaws.com");
        assert_eq!(v["sourceIPAddress"], "127.0.0.1");
        assert_eq!(v["userIdentity"]["type"], "IAMUser");
        assert_eq!(v["userIdentity"]["userName"], "alice");
        assert_eq!(v["userIdentity"]["accessKeyId"], "AKIAEXAMPLE");
        assert_eq!(v["requestParameters"]["keyId"], "alias/x");
        assert_eq!(v["requestParameters"]["encryptionContext"]["Dept"], "IT");
        assert!(v["requestParameters"].get("plaintext").is_none());
        assert!(v["responseElements"].is_null());
        assert_eq!(v["requestID"], "req-1");
        assert_eq!(v["readOnly"], true);
        assert_eq!(v["resources"][0]["ARN"], key);
        assert_eq!(v["resources"][0]["type"], "AWS::KMS::Key");
        assert_eq!(v["resources"][0]["accountId"], "111122223333");
        assert_eq!(v["eventType"], "AwsApiCall");
        assert_eq!(v["managementEvent"], true);
        assert_eq!(v["recipientAccountId"], "111122223333");
        assert_eq!(
            v["additionalEventData"]["authorization"]["decision"],
            "Allow"
        );
        assert_eq!(v["tlsDetails"]["clientProvidedHostHeader"], "kms.local");
        assert!(v.get("errorCode").is_none());
        assert!(v.get("errorMessage").is_none());
        assert!(uuid::Uuid::parse_str(v["eventID"].as_str().unwrap()).is_ok());

        let back: AuditEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back.event_time, datetime!(2026-11-23 20:00:00 UTC));
        assert_eq!(back.resources, event.resources);
    }

    #[test]
    fn failures_and_unknown_identities() {
        let event = AuditEvent::new(
            KMS_EVENT_SOURCE,
            "CreateKey",
            "eu-west-1",
            datetime!(2026-01-01 0:00 UTC),
        )
        .with_identity(UserIdentity::unknown(Some("AKIAFORGED")))
        .with_error(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        );
        let v = serde_json::to_value(&event).unwrap();
        assert_eq!(v["userIdentity"]["type"], "Unknown");
        assert_eq!(v["userIdentity"]["accessKeyId"], "AKIAFORGED");
        assert!(v["userIdentity"].get("arn").is_none());
        assert_eq!(v["errorCode"], "UnrecognizedClientException");
        assert_eq!(v["readOnly"], false);
        assert!(v["requestParameters"].is_null());
        assert!(v.get("resources").is_none());
        let odd: UserIdentity = serde_json::from_value(json!({"type": "AWSService"})).unwrap();
        assert_eq!(odd.identity_type, IdentityType::Unknown);
    }

    #[test]
    fn recipient_account_prefers_the_key_owner() {
        let key = "arn:aws:kms:us-east-1:444455556666:key/k";
        let a = AuditEvent::new(
            KMS_EVENT_SOURCE,
            "Decrypt",
            "us-east-1",
            OffsetDateTime::UNIX_EPOCH,
        )
        .with_key(key)
        .with_principal(&principal());
        let b = AuditEvent::new(
            KMS_EVENT_SOURCE,
            "Decrypt",
            "us-east-1",
            OffsetDateTime::UNIX_EPOCH,
        )
        .with_principal(&principal())
        .with_key(key)
        .with_key(key);
        assert_eq!(a.recipient_account_id, "444455556666");
        assert_eq!(b.recipient_account_id, "444455556666");
        assert_eq!(b.resources.len(), 1);
    }

    #[test]
    fn read_only_classification() {
        for name in [
            "Encrypt",
            "Decrypt",
            "DescribeKey",
            "ListKeys",
            "GetKeyPolicy",
            "GenerateRandom",
            "Sign",
        ] {
            assert!(is_read_only(name), "{name}");
        }
        for name in [
            "CreateKey",
            "ScheduleKeyDeletion",
            "PutKeyPolicy",
            "CreateGrant",
            "TagResource",
        ] {
            assert!(!is_read_only(name), "{name}");
        }
        assert!(is_cryptographic_operation(
            "GenerateDataKeyPairWithoutPlaintext"
        ));
        assert!(!is_cryptographic_operation("DescribeKey"));
    }
}
