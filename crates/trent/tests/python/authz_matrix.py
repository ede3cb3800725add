"""The authorization matrix: who may do what, through real SigV4-signed boto3 calls.

Usage: authz_matrix.py ENDPOINT CREDENTIALS_FILE SECOND_ACCOUNT_KEY SECOND_ACCOUNT_SECRET

Two accounts (111122223333, made at first start, and 444455556666, made by
`trent admin create-account`), several IAM users and roles in each, keys with different key
policies, grants, tags and aliases. Every case names its caller, the call and the exact outcome:
"OK" or the AWS error code. All cases run (in order: some change state the next ones rely on)
and every mismatch is reported before the script fails.
"""
import base64
import json
import os
import sys

import boto3
import botocore.exceptions
from botocore.config import Config

endpoint, credentials, second_key, second_secret = sys.argv[1:5]
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = credentials
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.pop("AWS_PROFILE", None)
REGION = "us-east-1"
A = "111122223333"
B = "444455556666"
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})


def client(service, key=None, secret=None, token=None):
    kwargs = {}
    if key:
        kwargs = {"aws_access_key_id": key, "aws_secret_access_key": secret,
                  "aws_session_token": token}
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        config=NO_RETRY, **kwargs)


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions, resource="*", condition=None, principal=None):
    statement = {"Effect": "Allow", "Action": actions, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    if principal:
        statement["Principal"] = {"AWS": principal}
    return statement


def deny(actions, resource="*", condition=None, principal=None):
    statement = allow(actions, resource, condition, principal)
    statement["Effect"] = "Deny"
    return statement


def root_of(account):
    return f"arn:aws:iam::{account}:root"


def user_arn(account, name):
    return f"arn:aws:iam::{account}:user/{name}"


def role_arn(account, name):
    return f"arn:aws:iam::{account}:role/{name}"


def key_arn(key_id, account=A):
    return f"arn:aws:kms:{REGION}:{account}:key/{key_id}"


ROOT_STATEMENT = allow("kms:*", principal=root_of(A))


class Identity:
    """One caller: its KMS, IAM and STS clients."""

    def __init__(self, name, key=None, secret=None, token=None):
        self.name = name
        self.kms = client("kms", key, secret, token)
        self.iam = client("iam", key, secret, token)
        self.sts = client("sts", key, secret, token)


# ---------------------------------------------------------------- identities
admin = Identity("admin")
admin_b = Identity("adminB", second_key, second_secret)


def make_user(owner, name, policies=(), tags=()):
    owner.iam.create_user(UserName=name, Tags=[{"Key": k, "Value": v} for k, v in tags])
    for index, document in enumerate(policies):
        owner.iam.put_user_policy(UserName=name, PolicyName=f"p{index}",
                                  PolicyDocument=policy(*document))
    created = owner.iam.create_access_key(UserName=name)["AccessKey"]
    return Identity(name, created["AccessKeyId"], created["SecretAccessKey"])


def trust_statement(statement):
    """A trust policy statement: the role is the resource, so it names none."""
    return {k: v for k, v in statement.items() if k != "Resource"}


def make_role(owner, name, trust, policies=(), tags=()):
    owner.iam.create_role(RoleName=name,
                          AssumeRolePolicyDocument=policy(*map(trust_statement, trust)),
                          Tags=[{"Key": k, "Value": v} for k, v in tags])
    for index, document in enumerate(policies):
        owner.iam.put_role_policy(RoleName=name, PolicyName=f"p{index}",
                                  PolicyDocument=policy(*document))


USE = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey",
       "kms:ReEncrypt*"]
alice = make_user(admin, "alice", [[allow(USE)]])
bob = make_user(admin, "bob")
carol = make_user(admin, "carol", [[allow("kms:*"), deny(["kms:Decrypt",
                                                          "kms:ScheduleKeyDeletion"])]])
dave = make_user(admin, "dave", [[allow(["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"],
                                        condition={"StringEquals": {
                                            "aws:ResourceTag/team": "${aws:PrincipalTag/team}"}})]],
                 tags=[("team", "blue")])
erin = make_user(admin, "erin", [[
    allow(["kms:Encrypt", "kms:DescribeKey"],
          condition={"StringLike": {"kms:RequestAlias": "alias/erin-*"}}),
    allow("kms:GenerateDataKey",
          condition={"ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/erin-*"}})]])
frank = make_user(admin, "frank")
gina = make_user(admin, "gina", [[
    allow(["kms:Encrypt", "kms:Decrypt"],
          condition={"StringEquals": {"kms:EncryptionContext:purpose": "billing"}}),
    allow("kms:GenerateDataKey", condition={"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}),
    allow("kms:DescribeKey", condition={"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}})]])
hank = make_user(admin, "hank", [[
    allow(["kms:Sign", "kms:Verify"], condition={"StringEquals": {
        "kms:SigningAlgorithm": "ECDSA_SHA_256", "kms:MessageType": "RAW"}}),
    allow("kms:GenerateMac", condition={"StringEquals": {"kms:MacAlgorithm": "HMAC_SHA_256"}}),
    allow("kms:ScheduleKeyDeletion", condition={"NumericGreaterThanEquals": {
        "kms:ScheduleKeyDeletionPendingWindowInDays": "20"}}),
    allow("kms:EnableKeyRotation",
          condition={"NumericLessThanEquals": {"kms:RotationPeriodInDays": "180"}}),
    allow("kms:TagResource", condition={"StringEquals": {"aws:RequestTag/env": "dev"},
                                        "ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}),
    allow("kms:UntagResource",
          condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}})]])
kim = make_user(admin, "kim", [[
    allow("kms:CreateKey",
          condition={"StringEquals": {"kms:CustomerMasterKeySpec": "SYMMETRIC_DEFAULT"}}),
    allow("kms:DescribeKey", condition={"StringEquals": {"kms:KeySpec": "ECC_NIST_P256",
                                                         "kms:KeyUsage": "SIGN_VERIFY"}})]])
ivan = make_user(admin, "ivan", [[allow("sts:AssumeRole", role_arn(A, "delegated-role"))]])

make_role(admin, "app-role", [allow("sts:AssumeRole", principal=user_arn(A, "alice"))],
          [[allow(["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"])]])
make_role(admin, "ext-role",
          [allow("sts:AssumeRole", principal=root_of(B),
                 condition={"StringEquals": {"sts:ExternalId": "xyz-123"}})],
          [[allow(["kms:Encrypt", "kms:DescribeKey"])]])
make_role(admin, "delegated-role", [allow("sts:AssumeRole", principal=root_of(A))],
          [[allow("kms:DescribeKey")]])
make_role(admin, "tagged-role", [allow(["sts:AssumeRole", "sts:TagSession"],
                                       principal=user_arn(A, "alice"))],
          [[allow("kms:Encrypt", condition={"StringEquals": {
              "aws:ResourceTag/team": "${aws:PrincipalTag/team}"}})]],
          tags=[("team", "red")])

bella = make_user(admin_b, "bella", [[
    allow(["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey",
           "kms:CreateGrant", "kms:DisableKey", "kms:GetKeyPolicy"], f"arn:aws:kms:*:{A}:key/*"),
    allow("sts:AssumeRole", role_arn(A, "ext-role"))]])
ben = make_user(admin_b, "ben")
make_role(admin_b, "b-app", [allow("sts:AssumeRole", principal=user_arn(B, "bella"))],
          [[allow(["kms:Encrypt", "kms:DescribeKey"], f"arn:aws:kms:*:{A}:key/*")]])


# ---------------------------------------------------------------- keys
def make_key(key_policy=None, tags=(), **kwargs):
    if key_policy is not None:
        kwargs["Policy"] = key_policy
    if tags:
        kwargs["Tags"] = [{"TagKey": k, "TagValue": v} for k, v in tags]
    return admin.kms.create_key(**kwargs)["KeyMetadata"]["KeyId"]


k_default = make_key()
k_limited = make_key(policy(
    allow("kms:*", principal=user_arn(A, "admin")),
    allow(["kms:Encrypt", "kms:DescribeKey"], principal=user_arn(A, "alice"))))
k_deny = make_key(policy(ROOT_STATEMENT,
                         deny("kms:Encrypt", principal=user_arn(A, "alice"))))
k_ip = make_key(policy(ROOT_STATEMENT,
                       deny("kms:Encrypt", principal="*",
                            condition={"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}}),
                       deny("kms:Decrypt", principal="*",
                            condition={"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}})))
k_cross = make_key(policy(ROOT_STATEMENT, allow(
    ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey",
     "kms:CreateGrant", "kms:DisableKey", "kms:GetKeyPolicy"], principal=root_of(B))))
k_role = make_key(policy(ROOT_STATEMENT,
                         allow("kms:GenerateDataKey", principal=role_arn(A, "app-role"))))
k_blue = make_key(tags=[("team", "blue")])
k_red = make_key(tags=[("team", "red")])
k_erin = make_key()
k_grant = make_key()
k_sign = make_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
k_hmac = make_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
k_rsa = make_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")
k_ecdh = make_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")
k_hank = make_key()
k_lock = make_key()
k_lock2 = make_key()
admin.kms.create_alias(AliasName="alias/erin-app", TargetKeyId=k_erin)
admin.kms.create_alias(AliasName="alias/other-app", TargetKeyId=k_erin)
admin.kms.create_alias(AliasName="alias/cross", TargetKeyId=k_cross)


def ciphertext(key, context=None):
    return admin.kms.generate_data_key(KeyId=key, KeySpec="AES_256",
                                       EncryptionContext=context or {})["CiphertextBlob"]


ct_default = ciphertext(k_default)
ct_limited = ciphertext(k_limited)
ct_deny = ciphertext(k_deny)
ct_ip = ciphertext(k_ip)
ct_cross = ciphertext(k_cross)
ct_billing = ciphertext(k_default, {"purpose": "billing"})
ct_hr = ciphertext(k_default, {"purpose": "hr"})
ct_eng = ciphertext(k_grant, {"dept": "eng"})
peer_public = admin.kms.get_public_key(KeyId=make_key(KeySpec="ECC_NIST_P256",
                                                      KeyUsage="KEY_AGREEMENT"))["PublicKey"]
ct_rsa = admin.kms.encrypt(KeyId=k_rsa, Plaintext=b"x",
                           EncryptionAlgorithm="RSAES_OAEP_SHA_256")["CiphertextBlob"]

# ---------------------------------------------------------------- the matrix
results = []  # (number, title, expected, actual)


def outcome(call):
    try:
        call()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
    return "OK"


def case(title, expected, call):
    actual = outcome(call)
    results.append((len(results) + 1, title, expected, actual))
    return actual


def enc(who, key, context=None, **extra):
    return lambda: who.kms.encrypt(KeyId=key, Plaintext=b"matrix",
                                   EncryptionContext=context or {}, **extra)


def dec(who, blob, context=None, **extra):
    return lambda: who.kms.decrypt(CiphertextBlob=blob, EncryptionContext=context or {},
                                   **extra)


def gdk(who, key, context=None, **extra):
    return lambda: who.kms.generate_data_key(KeyId=key, NumberOfBytes=32,
                                             EncryptionContext=context or {}, **extra)


def describe(who, key):
    return lambda: who.kms.describe_key(KeyId=key)


# --- the default key policy delegates to identity policies
case("admin Encrypt, default policy", "OK", enc(admin, k_default))
case("alice Encrypt, default policy + identity allow", "OK", enc(alice, k_default))
case("alice Decrypt, default policy + identity allow", "OK", dec(alice, ct_default))
case("alice GenerateDataKey, identity allow", "OK", gdk(alice, k_default))
case("alice DescribeKey, identity allow", "OK", describe(alice, k_default))
case("alice ReEncrypt, identity allows ReEncrypt*", "OK",
     lambda: alice.kms.re_encrypt(CiphertextBlob=ct_default, DestinationKeyId=k_default))
case("alice DisableKey, not in her policy", "AccessDeniedException",
     lambda: alice.kms.disable_key(KeyId=k_default))
case("alice ScheduleKeyDeletion, not in her policy", "AccessDeniedException",
     lambda: alice.kms.schedule_key_deletion(KeyId=k_default))
case("alice GetKeyPolicy, not in her policy", "AccessDeniedException",
     lambda: alice.kms.get_key_policy(KeyId=k_default, PolicyName="default"))
case("alice CreateKey, not in her policy", "AccessDeniedException",
     lambda: alice.kms.create_key())
case("alice ListKeys, not in her policy", "AccessDeniedException",
     lambda: alice.kms.list_keys())
case("alice CreateGrant, not in her policy", "AccessDeniedException",
     lambda: alice.kms.create_grant(KeyId=k_default, GranteePrincipal=user_arn(A, "bob"),
                                    Operations=["Encrypt"]))
case("bob Encrypt, no identity policy", "AccessDeniedException", enc(bob, k_default))
case("bob DescribeKey, no identity policy", "AccessDeniedException", describe(bob, k_default))
case("bob GenerateRandom, no identity policy", "AccessDeniedException",
     lambda: bob.kms.generate_random(NumberOfBytes=16))
case("bob ListAliases, no identity policy", "AccessDeniedException",
     lambda: bob.kms.list_aliases())
case("bob Decrypt, no identity policy", "AccessDeniedException", dec(bob, ct_default))

# --- explicit deny beats allow
case("carol Encrypt, kms:* allowed", "OK", enc(carol, k_default))
case("carol Decrypt, identity deny beats identity allow", "AccessDeniedException",
     dec(carol, ct_default))
case("carol ScheduleKeyDeletion, identity deny", "AccessDeniedException",
     lambda: carol.kms.schedule_key_deletion(KeyId=k_default, PendingWindowInDays=7))
case("carol TagResource, kms:* allowed", "OK",
     lambda: carol.kms.tag_resource(KeyId=k_default,
                                    Tags=[{"TagKey": "by", "TagValue": "carol"}]))
case("carol CreateKey, kms:* allowed", "OK", lambda: carol.kms.create_key())
case("carol DisableKey on a key whose policy does not delegate", "AccessDeniedException",
     lambda: carol.kms.disable_key(KeyId=k_limited))
case("alice Encrypt, key policy deny beats identity allow", "AccessDeniedException",
     enc(alice, k_deny))
case("alice Decrypt, the deny names only Encrypt", "OK", dec(alice, ct_deny))
case("admin Encrypt, the deny names only alice", "OK", enc(admin, k_deny))

# --- a key policy that allows only some actions, and does not delegate to IAM
case("alice Encrypt, key policy names her for Encrypt", "OK", enc(alice, k_limited))
case("alice DescribeKey, key policy names her for DescribeKey", "OK",
     describe(alice, k_limited))
case("alice Decrypt, her IAM allow does not count without delegation",
     "AccessDeniedException", dec(alice, ct_limited))
case("alice GenerateDataKey, not in the key policy", "AccessDeniedException",
     gdk(alice, k_limited))
case("admin Decrypt, key policy names admin with kms:*", "OK", dec(admin, ct_limited))
case("bob Encrypt, not in the key policy", "AccessDeniedException", enc(bob, k_limited))

# --- conditions on source IP
case("admin Encrypt, denied from 127.0.0.1/32", "AccessDeniedException", enc(admin, k_ip))
case("admin Decrypt, the NotIpAddress deny does not match", "OK", dec(admin, ct_ip))
case("gina GenerateDataKey, IpAddress 127.0.0.0/8 matches", "OK", gdk(gina, k_default))
case("gina DescribeKey, NotIpAddress 127.0.0.0/8 does not match", "AccessDeniedException",
     describe(gina, k_default))

# --- conditions on encryption context
case("gina Encrypt, context purpose=billing", "OK",
     enc(gina, k_default, {"purpose": "billing"}))
case("gina Encrypt, context purpose=hr", "AccessDeniedException",
     enc(gina, k_default, {"purpose": "hr"}))
case("gina Encrypt, no context", "AccessDeniedException", enc(gina, k_default))
case("gina Decrypt, context purpose=billing", "OK",
     dec(gina, ct_billing, {"purpose": "billing"}))
case("gina Decrypt, context purpose=hr", "AccessDeniedException",
     dec(gina, ct_hr, {"purpose": "hr"}))
case("gina Decrypt, wrong context for the ciphertext", "InvalidCiphertextException",
     dec(gina, ct_default, {"purpose": "billing"}))

# --- cross-account: the key policy admits account B, B's IAM lets bella out
cross_arn = key_arn(k_cross)
case("bella Encrypt by key ARN across accounts", "OK", enc(bella, cross_arn))
case("bella Encrypt by alias ARN across accounts", "OK",
     enc(bella, f"arn:aws:kms:{REGION}:{A}:alias/cross"))
case("bella Decrypt across accounts", "OK", dec(bella, ct_cross))
case("bella GenerateDataKey across accounts", "OK", gdk(bella, cross_arn))
case("bella DescribeKey across accounts", "OK", describe(bella, cross_arn))
case("bella CreateGrant across accounts", "OK",
     lambda: bella.kms.create_grant(KeyId=cross_arn, GranteePrincipal=user_arn(B, "bella"),
                                    Operations=["Decrypt"]))
case("bella DisableKey: management is never cross-account", "NotFoundException",
     lambda: bella.kms.disable_key(KeyId=cross_arn))
case("bella GetKeyPolicy: management is never cross-account", "NotFoundException",
     lambda: bella.kms.get_key_policy(KeyId=cross_arn, PolicyName="default"))
case("bella Encrypt by bare key id resolves in her own account", "NotFoundException",
     enc(bella, k_cross))
case("bella Encrypt a key whose policy does not admit B", "AccessDeniedException",
     enc(bella, key_arn(k_default)))
case("ben Encrypt across accounts without an identity policy", "AccessDeniedException",
     enc(ben, cross_arn))
case("adminB Encrypt across accounts: B's root needs no identity policy", "OK",
     enc(admin_b, cross_arn))
case("adminB DescribeKey of a key with the default policy", "AccessDeniedException",
     describe(admin_b, key_arn(k_default)))
case("adminB DescribeKey by bare key id", "NotFoundException", describe(admin_b, k_default))
case("admin DescribeKey of adminB's key by id", "NotFoundException",
     describe(admin, admin_b.kms.create_key()["KeyMetadata"]["KeyId"]))

# --- assumed roles
sessions = {}
session_credentials = {}


def assume(who, role, name, **extra):
    def call():
        creds = who.sts.assume_role(RoleArn=role, RoleSessionName=name, **extra)["Credentials"]
        session_credentials[name] = creds
        sessions[name] = Identity(name, creds["AccessKeyId"], creds["SecretAccessKey"],
                                  creds["SessionToken"])
    return call


case("alice AssumeRole app-role, trust names her", "OK",
     assume(alice, role_arn(A, "app-role"), "alice-app"))
case("bob AssumeRole app-role, trust does not name him", "AccessDenied",
     assume(bob, role_arn(A, "app-role"), "bob-app"))
case("alice AssumeRole a role that does not exist", "AccessDenied",
     assume(alice, role_arn(A, "nope"), "nope"))
app = sessions["alice-app"]


def caller_is(who, arn):
    def call():
        got = who.sts.get_caller_identity()
        assert got["Arn"] == arn and got["Account"] == arn.split(":")[4], got
    return call


case("alice GetCallerIdentity", "OK", caller_is(alice, user_arn(A, "alice")))
case("adminB GetCallerIdentity", "OK", caller_is(admin_b, user_arn(B, "admin")))
case("app-role session GetCallerIdentity", "OK",
     caller_is(app, f"arn:aws:sts::{A}:assumed-role/app-role/alice-app"))
case("app-role session Encrypt, role policy allows", "OK", enc(app, k_default))
case("app-role session Decrypt, role policy allows", "OK", dec(app, ct_default))
case("app-role session GenerateDataKey, role policy does not allow", "AccessDeniedException",
     gdk(app, k_default))
case("app-role session GenerateDataKey, key policy names the role", "OK", gdk(app, k_role))
case("app-role session DisableKey", "AccessDeniedException",
     lambda: app.kms.disable_key(KeyId=k_default))


def tampered():
    creds = session_credentials["alice-app"]
    token = creds["SessionToken"]
    middle = len(token) // 2
    token = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]
    client("kms", creds["AccessKeyId"], creds["SecretAccessKey"], token).list_aliases()


case("app-role session with a tampered token", "UnrecognizedClientException", tampered)
case("app-role session without its token", "UnrecognizedClientException",
     lambda: client("kms", session_credentials["alice-app"]["AccessKeyId"],
                    session_credentials["alice-app"]["SecretAccessKey"]).list_aliases())
case("bella AssumeRole ext-role with the ExternalId", "OK",
     assume(bella, role_arn(A, "ext-role"), "bella-ext", ExternalId="xyz-123"))
case("bella AssumeRole ext-role without the ExternalId", "AccessDenied",
     assume(bella, role_arn(A, "ext-role"), "bella-ext2"))
case("ben AssumeRole ext-role: trust admits B but B's IAM does not let him", "AccessDenied",
     assume(ben, role_arn(A, "ext-role"), "ben-ext", ExternalId="xyz-123"))
ext = sessions["bella-ext"]
case("ext-role session Encrypt in account A", "OK", enc(ext, k_default))
case("ext-role session Decrypt, role policy does not allow", "AccessDeniedException",
     dec(ext, ct_default))
case("bella AssumeRole b-app in her own account", "OK",
     assume(bella, role_arn(B, "b-app"), "bella-b-app"))
case("b-app session (account B) Encrypt across accounts", "OK",
     enc(sessions["bella-b-app"], cross_arn))
case("b-app session (account B) Decrypt across accounts, its policy lacks Decrypt",
     "AccessDeniedException", dec(sessions["bella-b-app"], ct_cross))
case("b-app session (account B) Encrypt a key whose policy does not admit B",
     "AccessDeniedException", enc(sessions["bella-b-app"], key_arn(k_default)))
case("ivan AssumeRole delegated-role: trust names the account, his IAM allows", "OK",
     assume(ivan, role_arn(A, "delegated-role"), "ivan-delegated"))
case("alice AssumeRole delegated-role: trust names the account, her IAM does not",
     "AccessDenied", assume(alice, role_arn(A, "delegated-role"), "alice-delegated"))
case("delegated-role session DescribeKey", "OK",
     describe(sessions["ivan-delegated"], k_default))
case("delegated-role session Encrypt", "AccessDeniedException",
     enc(sessions["ivan-delegated"], k_default))
case("alice AssumeRole tagged-role with session tag team=blue", "OK",
     assume(alice, role_arn(A, "tagged-role"), "alice-tagged",
            Tags=[{"Key": "team", "Value": "blue"}]))
case("tagged-role session Encrypt k_blue: session tag overrides role tag", "OK",
     enc(sessions["alice-tagged"], k_blue))
case("tagged-role session Encrypt k_red", "AccessDeniedException",
     enc(sessions["alice-tagged"], k_red))
case("app-role session AssumeRole with session tags, trust lacks sts:TagSession",
     "AccessDenied", assume(alice, role_arn(A, "app-role"), "alice-app-tags",
                            Tags=[{"Key": "team", "Value": "blue"}]))

# --- grants, with encryption-context constraints, retired and revoked
case("frank Encrypt, no grant yet", "AccessDeniedException",
     enc(frank, k_grant, {"dept": "eng"}))
grants = {}


def grant(name, **kwargs):
    def call():
        grants[name] = admin.kms.create_grant(KeyId=k_grant,
                                              GranteePrincipal=user_arn(A, "frank"), **kwargs)
    return call


case("admin CreateGrant Encrypt/Decrypt, context subset dept=eng", "OK",
     grant("subset", Operations=["Encrypt", "Decrypt"],
           Constraints={"EncryptionContextSubset": {"dept": "eng"}},
           RetiringPrincipal=user_arn(A, "frank")))
case("frank Encrypt, context dept=eng", "OK", enc(frank, k_grant, {"dept": "eng"}))
case("frank Encrypt, context dept=eng plus more (subset)", "OK",
     enc(frank, k_grant, {"dept": "eng", "app": "x"}))
case("frank Encrypt, context dept=hr", "AccessDeniedException",
     enc(frank, k_grant, {"dept": "hr"}))
case("frank Encrypt, no context", "AccessDeniedException", enc(frank, k_grant))
case("frank Decrypt, context dept=eng", "OK", dec(frank, ct_eng, {"dept": "eng"}))
case("frank GenerateDataKey, operation not granted", "AccessDeniedException",
     gdk(frank, k_grant, {"dept": "eng"}))
case("frank Encrypt another key", "AccessDeniedException", enc(frank, k_default))
case("admin CreateGrant GenerateDataKey, context equals dept=ops", "OK",
     grant("equals", Operations=["GenerateDataKey"],
           Constraints={"EncryptionContextEquals": {"dept": "ops"}}))
case("frank GenerateDataKey, context dept=ops", "OK", gdk(frank, k_grant, {"dept": "ops"}))
case("frank GenerateDataKey, context dept=ops plus more (not equal)",
     "AccessDeniedException", gdk(frank, k_grant, {"dept": "ops", "x": "1"}))
case("admin CreateGrant Decrypt, used at once through its grant token", "OK",
     grant("token", Operations=["GenerateDataKeyWithoutPlaintext"]))
case("frank GenerateDataKeyWithoutPlaintext with the new grant token", "OK",
     lambda: frank.kms.generate_data_key_without_plaintext(
         KeyId=k_grant, KeySpec="AES_256", GrantTokens=[grants["token"]["GrantToken"]]))
case("bob RetireGrant, not the retiring principal", "AccessDeniedException",
     lambda: bob.kms.retire_grant(KeyId=key_arn(k_grant),
                                  GrantId=grants["subset"]["GrantId"]))
case("bob RevokeGrant, no permission", "AccessDeniedException",
     lambda: bob.kms.revoke_grant(KeyId=k_grant, GrantId=grants["equals"]["GrantId"]))
case("frank RetireGrant by token as its retiring principal", "OK",
     lambda: frank.kms.retire_grant(GrantToken=grants["subset"]["GrantToken"]))
case("frank Encrypt after the grant was retired", "AccessDeniedException",
     enc(frank, k_grant, {"dept": "eng"}))
case("frank Decrypt after the grant was retired", "AccessDeniedException",
     dec(frank, ct_eng, {"dept": "eng"}))
case("admin RevokeGrant", "OK",
     lambda: admin.kms.revoke_grant(KeyId=k_grant, GrantId=grants["equals"]["GrantId"]))
case("frank GenerateDataKey after the grant was revoked", "AccessDeniedException",
     gdk(frank, k_grant, {"dept": "ops"}))
case("admin RevokeGrant again", "NotFoundException",
     lambda: admin.kms.revoke_grant(KeyId=k_grant, GrantId=grants["equals"]["GrantId"]))

# --- ABAC by tag
case("dave Encrypt, key tag team=blue matches his principal tag", "OK", enc(dave, k_blue))
case("dave DescribeKey k_blue", "OK", describe(dave, k_blue))
case("dave Encrypt, key tag team=red", "AccessDeniedException", enc(dave, k_red))
case("admin TagResource k_red team=blue", "OK",
     lambda: admin.kms.tag_resource(KeyId=k_red,
                                    Tags=[{"TagKey": "team", "TagValue": "blue"}]))
case("dave Encrypt k_red right after it was retagged", "OK", enc(dave, k_red))
case("admin UntagResource k_red team", "OK",
     lambda: admin.kms.untag_resource(KeyId=k_red, TagKeys=["team"]))
case("dave Encrypt k_red once untagged", "AccessDeniedException", enc(dave, k_red))
case("dave Encrypt an untagged key", "AccessDeniedException", enc(dave, k_default))

# --- ABAC by alias
case("erin Encrypt through alias/erin-app (kms:RequestAlias)", "OK",
     enc(erin, "alias/erin-app"))
case("erin Encrypt through the alias ARN (kms:RequestAlias is the name)", "OK",
     enc(erin, f"arn:aws:kms:{REGION}:{A}:alias/erin-app"))
case("erin Encrypt the same key by key id", "AccessDeniedException", enc(erin, k_erin))
case("erin Encrypt the same key through alias/other-app", "AccessDeniedException",
     enc(erin, "alias/other-app"))
case("erin DescribeKey through alias/erin-app", "OK", describe(erin, "alias/erin-app"))
case("erin GenerateDataKey by key id (kms:ResourceAliases)", "OK", gdk(erin, k_erin))
case("erin GenerateDataKey a key without her alias", "AccessDeniedException",
     gdk(erin, k_default))
case("admin DeleteAlias alias/erin-app", "OK",
     lambda: admin.kms.delete_alias(AliasName="alias/erin-app"))
case("erin GenerateDataKey once the alias is gone", "AccessDeniedException",
     gdk(erin, k_erin))

# --- condition keys of the other operations
digest = b"\x01" * 32
case("hank Sign ECDSA_SHA_256 RAW", "OK",
     lambda: hank.kms.sign(KeyId=k_sign, Message=b"m", SigningAlgorithm="ECDSA_SHA_256"))
case("hank Sign ECDSA_SHA_256 DIGEST (kms:MessageType)", "AccessDeniedException",
     lambda: hank.kms.sign(KeyId=k_sign, Message=digest, MessageType="DIGEST",
                           SigningAlgorithm="ECDSA_SHA_256"))
case("hank Sign ECDSA_SHA_384 (kms:SigningAlgorithm)", "AccessDeniedException",
     lambda: hank.kms.sign(KeyId=k_sign, Message=b"m", SigningAlgorithm="ECDSA_SHA_384"))
signature = admin.kms.sign(KeyId=k_sign, Message=b"m",
                           SigningAlgorithm="ECDSA_SHA_256")["Signature"]
case("hank Verify ECDSA_SHA_256 RAW", "OK",
     lambda: hank.kms.verify(KeyId=k_sign, Message=b"m", Signature=signature,
                             SigningAlgorithm="ECDSA_SHA_256"))
case("hank GenerateMac HMAC_SHA_256", "OK",
     lambda: hank.kms.generate_mac(KeyId=k_hmac, Message=b"m", MacAlgorithm="HMAC_SHA_256"))
case("hank GenerateMac HMAC_SHA_512 (kms:MacAlgorithm)", "AccessDeniedException",
     lambda: hank.kms.generate_mac(KeyId=k_hmac, Message=b"m", MacAlgorithm="HMAC_SHA_512"))
case("hank VerifyMac, not allowed", "AccessDeniedException",
     lambda: hank.kms.verify_mac(KeyId=k_hmac, Message=b"m", MacAlgorithm="HMAC_SHA_256",
                                 Mac=b"\0" * 32))
case("hank ScheduleKeyDeletion, 7-day window is below his floor", "AccessDeniedException",
     lambda: hank.kms.schedule_key_deletion(KeyId=k_hank, PendingWindowInDays=7))
case("hank EnableKeyRotation every 365 days (kms:RotationPeriodInDays)",
     "AccessDeniedException",
     lambda: hank.kms.enable_key_rotation(KeyId=k_hank, RotationPeriodInDays=365))
case("hank EnableKeyRotation every 90 days", "OK",
     lambda: hank.kms.enable_key_rotation(KeyId=k_hank, RotationPeriodInDays=90))
case("hank TagResource env=dev", "OK",
     lambda: hank.kms.tag_resource(KeyId=k_hank, Tags=[{"TagKey": "env", "TagValue": "dev"}]))
case("hank TagResource env=prod (aws:RequestTag)", "AccessDeniedException",
     lambda: hank.kms.tag_resource(KeyId=k_hank,
                                   Tags=[{"TagKey": "env", "TagValue": "prod"}]))
case("hank TagResource env=dev plus owner (aws:TagKeys)", "AccessDeniedException",
     lambda: hank.kms.tag_resource(KeyId=k_hank,
                                   Tags=[{"TagKey": "env", "TagValue": "dev"},
                                         {"TagKey": "owner", "TagValue": "h"}]))
case("hank UntagResource owner (aws:TagKeys)", "AccessDeniedException",
     lambda: hank.kms.untag_resource(KeyId=k_hank, TagKeys=["owner"]))
case("hank UntagResource env", "OK",
     lambda: hank.kms.untag_resource(KeyId=k_hank, TagKeys=["env"]))
case("hank ScheduleKeyDeletion with the default 30-day window", "OK",
     lambda: hank.kms.schedule_key_deletion(KeyId=k_hank))

case("kim CreateKey SYMMETRIC_DEFAULT (deprecated kms:CustomerMasterKeySpec)", "OK",
     lambda: kim.kms.create_key())
case("kim CreateKey RSA_2048", "AccessDeniedException",
     lambda: kim.kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY"))
case("kim DescribeKey of a P-256 signing key (kms:KeySpec, kms:KeyUsage)", "OK",
     describe(kim, k_sign))
case("kim DescribeKey of a P-256 key agreement key", "AccessDeniedException",
     describe(kim, k_ecdh))

# --- DryRun: checked last, after authorization (kms-api §3)
dry = {"DryRun": True}
DRY_RUN = "DryRunOperationException"
case("DryRun Encrypt", DRY_RUN, enc(admin, k_default, **dry))
case("DryRun Decrypt", DRY_RUN, dec(admin, ct_default, **dry))
case("DryRun ReEncrypt", DRY_RUN,
     lambda: admin.kms.re_encrypt(CiphertextBlob=ct_default, DestinationKeyId=k_default,
                                  **dry))
case("DryRun GenerateDataKey", DRY_RUN, gdk(admin, k_default, **dry))
case("DryRun GenerateDataKeyWithoutPlaintext", DRY_RUN,
     lambda: admin.kms.generate_data_key_without_plaintext(KeyId=k_default,
                                                           NumberOfBytes=32, **dry))
case("DryRun GenerateDataKeyPair", DRY_RUN,
     lambda: admin.kms.generate_data_key_pair(KeyId=k_default, KeyPairSpec="ECC_NIST_P256",
                                              **dry))
case("DryRun GenerateDataKeyPairWithoutPlaintext", DRY_RUN,
     lambda: admin.kms.generate_data_key_pair_without_plaintext(
         KeyId=k_default, KeyPairSpec="ECC_NIST_P256", **dry))
case("DryRun Sign", DRY_RUN,
     lambda: admin.kms.sign(KeyId=k_sign, Message=b"m", SigningAlgorithm="ECDSA_SHA_256",
                            **dry))
case("DryRun Verify", DRY_RUN,
     lambda: admin.kms.verify(KeyId=k_sign, Message=b"m", Signature=signature,
                              SigningAlgorithm="ECDSA_SHA_256", **dry))
case("DryRun GenerateMac", DRY_RUN,
     lambda: admin.kms.generate_mac(KeyId=k_hmac, Message=b"m", MacAlgorithm="HMAC_SHA_256",
                                    **dry))
mac = admin.kms.generate_mac(KeyId=k_hmac, Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
case("DryRun VerifyMac", DRY_RUN,
     lambda: admin.kms.verify_mac(KeyId=k_hmac, Message=b"m", MacAlgorithm="HMAC_SHA_256",
                                  Mac=mac, **dry))
case("DryRun DeriveSharedSecret", DRY_RUN,
     lambda: admin.kms.derive_shared_secret(KeyId=k_ecdh, KeyAgreementAlgorithm="ECDH",
                                            PublicKey=peer_public, **dry))
case("DryRun Decrypt with an RSA key", DRY_RUN,
     lambda: admin.kms.decrypt(CiphertextBlob=ct_rsa, KeyId=k_rsa,
                               EncryptionAlgorithm="RSAES_OAEP_SHA_256", **dry))
case("DryRun CreateGrant", DRY_RUN,
     lambda: admin.kms.create_grant(KeyId=k_grant, GranteePrincipal=user_arn(A, "bob"),
                                    Operations=["Encrypt"], **dry))
dry_grant = admin.kms.create_grant(KeyId=k_grant, GranteePrincipal=user_arn(A, "bob"),
                                   Operations=["Encrypt"])
case("DryRun RetireGrant", DRY_RUN,
     lambda: admin.kms.retire_grant(KeyId=k_grant, GrantId=dry_grant["GrantId"], **dry))
case("DryRun RevokeGrant", DRY_RUN,
     lambda: admin.kms.revoke_grant(KeyId=k_grant, GrantId=dry_grant["GrantId"], **dry))
case("DryRun by a caller who is denied answers AccessDenied", "AccessDeniedException",
     enc(bob, k_default, **dry))
case("the DryRun grant still works: bob Encrypt with it", "OK", enc(bob, k_grant))
case("DryRun on a disabled key answers the state error first", "DisabledException",
     lambda: (admin.kms.disable_key(KeyId=k_lock2),
              admin.kms.encrypt(KeyId=k_lock2, Plaintext=b"x", DryRun=True)))

# --- the lockout safety check
lockout = policy(allow("kms:Encrypt", principal=user_arn(A, "alice")))
case("PutKeyPolicy that would lock the caller out", "MalformedPolicyDocumentException",
     lambda: admin.kms.put_key_policy(KeyId=k_lock, PolicyName="default", Policy=lockout))
case("CreateKey with a policy that would lock the caller out",
     "MalformedPolicyDocumentException", lambda: admin.kms.create_key(Policy=lockout))
case("PutKeyPolicy with BypassPolicyLockoutSafetyCheck", "OK",
     lambda: admin.kms.put_key_policy(KeyId=k_lock, PolicyName="default", Policy=lockout,
                                      BypassPolicyLockoutSafetyCheck=True))
case("admin PutKeyPolicy on the locked-out key", "AccessDeniedException",
     lambda: admin.kms.put_key_policy(KeyId=k_lock, PolicyName="default",
                                      Policy=policy(ROOT_STATEMENT)))
case("admin DescribeKey on the locked-out key", "AccessDeniedException",
     describe(admin, k_lock))
case("alice Encrypt on the locked-out key: the policy still names her", "OK",
     enc(alice, k_lock))
case("carol PutKeyPolicy keeping the account root", "OK",
     lambda: carol.kms.put_key_policy(KeyId=k_lock2, PolicyName="default",
                                      Policy=policy(ROOT_STATEMENT)))

# ---------------------------------------------------------------- report
width = max(len(title) for _, title, _, _ in results)
failures = [r for r in results if r[2] != r[3]]
for number, title, expected, actual in results:
    mark = "ok " if expected == actual else "BAD"
    print(f"{mark} {number:3d} {title:<{width}}  expected {expected:<35} got {actual}")
print(f"{len(results)} cases, {len(failures)} failed")
if failures:
    sys.exit(1)
assert len(results) >= 100, len(results)
