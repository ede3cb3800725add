//! The authenticated caller of a request.

use crate::AccountId;

/// What kind of IAM identity made a request, as CloudTrail's `userIdentity.type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// The account root.
    Root,
    /// An IAM user.
    IamUser,
    /// An assumed role session.
    AssumedRole,
}

impl PrincipalKind {
    /// CloudTrail's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Root => "Root",
            Self::IamUser => "IAMUser",
            Self::AssumedRole => "AssumedRole",
        }
    }
}

/// The identity a request was authenticated as.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    /// The account the identity belongs to.
    pub account: AccountId,
    /// The identity's ARN, e.g. `arn:aws:iam::111122223333:user/admin`.
    pub arn: String,
    /// The unique id (`AIDA…` for users).
    pub user_id: String,
    /// The identity's kind.
    pub kind: PrincipalKind,
    /// The access key id the request was signed with.
    pub access_key_id: String,
}
