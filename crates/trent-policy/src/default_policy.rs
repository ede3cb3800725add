//! The key policy KMS attaches when CreateKey or ReplicateKey gets none.

use trent_types::AccountId;

/// The default key policy, byte for byte as AWS returns it (pretty-printed with `" : "`
/// separators, no trailing newline): the account principal gets `kms:*`, which is what lets the
/// account's IAM policies grant access to the key.
pub fn default_key_policy(partition: &str, account: &AccountId) -> String {
    [
        "{",
        "  \"Version\" : \"2012-10-17\",",
        "  \"Id\" : \"key-default-1\",",
        "  \"Statement\" : [ {",
        "    \"Sid\" : \"Enable IAM User Permissions\",",
        "    \"Effect\" : \"Allow\",",
        "    \"Principal\" : {",
        &format!("      \"AWS\" : \"arn:{partition}:iam::{account}:root\""),
        "    },",
        "    \"Action\" : \"kms:*\",",
        "    \"Resource\" : \"*\"",
        "  } ]",
        "}",
    ]
    .join("\n")
}
