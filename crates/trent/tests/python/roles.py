"""IAM roles and STS through AWS's own clients: boto3's `iam`/`sts`/`kms` clients and the `aws`
CLI against Trent.

Usage: roles.py ENDPOINT CREDENTIALS_FILE WORK_DIR OTHER_ACCOUNT_CREDENTIALS_FILE
OTHER_ACCOUNT_CREDENTIALS_FILE holds the administrator of a second account (from
`trent admin create-account`). Writes every temporary secret and session token it obtains to
WORK_DIR/secrets (one a line), so the caller can check that the audit trail never contains one.
"""
import base64
import configparser
import json
import os
import subprocess
import sys

import boto3
import botocore.exceptions
from botocore.config import Config

endpoint, credentials, work, other_credentials = sys.argv[1:5]
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = credentials
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    os.environ.pop(name, None)
ACCOUNT = "111122223333"
ADMIN = f"arn:aws:iam::{ACCOUNT}:user/admin"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})
SECRETS = []


def client(service, key=None, secret=None, token=None):
    kwargs = {}
    if key:
        kwargs = {"aws_access_key_id": key, "aws_secret_access_key": secret,
                  "aws_session_token": token}
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        config=NO_RETRY, **kwargs)


def session_clients(creds, *services):
    SECRETS.extend([creds["SecretAccessKey"], creds["SessionToken"]])
    return [client(s, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
            for s in services]


def error_of(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except botocore.exceptions.ClientError as e:
        return (e.response["Error"]["Code"], e.response["Error"].get("Message", ""),
                e.response["ResponseMetadata"]["HTTPStatusCode"])
    raise AssertionError(f"{fn.__name__} should have failed")


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust(principal, **extra):
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    statement.update(extra)
    return policy(statement)


iam, sts, kms = client("iam"), client("sts"), client("kms")

# ---- GetCallerIdentity for a user ----
me = sts.get_caller_identity()
assert me["Account"] == ACCOUNT and me["Arn"] == ADMIN and me["UserId"].startswith("AIDA"), me

# ---- alice, a user with no policies ----
iam.create_user(UserName="alice")
created = iam.create_access_key(UserName="alice")["AccessKey"]
alice = (created["AccessKeyId"], created["SecretAccessKey"])
alice_sts = client("sts", *alice)
# GetCallerIdentity never needs a permission.
assert alice_sts.get_caller_identity()["Arn"] == ALICE

# ---- CreateRole and its validation ----
role = iam.create_role(RoleName="deployer", Path="/app/", AssumeRolePolicyDocument=trust(ALICE),
                       Description="deploys", MaxSessionDuration=7200,
                       Tags=[{"Key": "team", "Value": "red"}])["Role"]
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app/deployer"
assert role["Arn"] == ROLE and role["RoleId"].startswith("AROA") and role["Path"] == "/app/", role
assert role["AssumeRolePolicyDocument"] == json.loads(trust(ALICE)), role
assert role["MaxSessionDuration"] == 7200 and role["Description"] == "deploys", role
code, message, status = error_of(iam.create_role, RoleName="DEPLOYER",
                                 AssumeRolePolicyDocument=trust(ALICE))
assert (code, status) == ("EntityAlreadyExists", 409), (code, message, status)
assert message == "Role with name deployer already exists.", message
for bad, expected in [
    (policy({"Effect": "Allow", "Action": "sts:AssumeRole"}), "Missing required field Principal"),
    (trust(ALICE, Resource="*"), "Has prohibited field Resource"),
    (policy({"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "kms:Encrypt"}),
     "AssumeRole policy may only specify STS AssumeRole actions."),
    (trust(f"arn:aws:iam::{ACCOUNT}:user/nobody"),
     f'Invalid principal in policy: "AWS":"arn:aws:iam::{ACCOUNT}:user/nobody"'),
    ("not json", None),
]:
    code, message, status = error_of(iam.create_role, RoleName="bad",
                                     AssumeRolePolicyDocument=bad)
    assert (code, status) == ("MalformedPolicyDocument", 400), (bad, code, message)
    assert expected is None or message == expected, (bad, message)
code, _, status = error_of(iam.create_role, RoleName="bad", AssumeRolePolicyDocument=trust(ALICE),
                           MaxSessionDuration=60000)
assert (code, status) == ("ValidationError", 400), code
code, message, status = error_of(iam.get_role, RoleName="nobody")
assert (code, status) == ("NoSuchEntity", 404), code
assert message == "The role with name nobody cannot be found.", message

got = iam.get_role(RoleName="deployer")["Role"]
assert got["Arn"] == ROLE and got["Tags"] == [{"Key": "team", "Value": "red"}], got
assert "RoleLastUsed" in got, got

# ---- ListRoles paging and PathPrefix ----
iam.create_role(RoleName="auditor", AssumeRolePolicyDocument=trust(ACCOUNT))
listed = iam.list_roles()["Roles"]
assert [r["RoleName"] for r in listed] == ["auditor", "deployer"], listed
page = iam.list_roles(MaxItems=1)
assert page["IsTruncated"] and [r["RoleName"] for r in page["Roles"]] == ["auditor"], page
rest = iam.list_roles(Marker=page["Marker"])
assert [r["RoleName"] for r in rest["Roles"]] == ["deployer"] and not rest["IsTruncated"], rest
assert [r["RoleName"] for r in iam.list_roles(PathPrefix="/app/")["Roles"]] == ["deployer"]

# ---- UpdateRole, tags, inline policies ----
iam.update_role(RoleName="deployer", Description="ships", MaxSessionDuration=3600)
got = iam.get_role(RoleName="deployer")["Role"]
assert got["Description"] == "ships" and got["MaxSessionDuration"] == 3600, got
iam.tag_role(RoleName="deployer", Tags=[{"Key": "env", "Value": "prod"}])
assert iam.list_role_tags(RoleName="deployer")["Tags"] == [
    {"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "red"}]
iam.untag_role(RoleName="deployer", TagKeys=["env"])
assert iam.list_role_tags(RoleName="deployer")["Tags"] == [{"Key": "team", "Value": "red"}]
use_policy = policy({"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"],
                     "Resource": "*"})
iam.put_role_policy(RoleName="deployer", PolicyName="use", PolicyDocument=use_policy)
assert iam.get_role_policy(RoleName="deployer", PolicyName="use")["PolicyDocument"] == \
    json.loads(use_policy)
assert iam.list_role_policies(RoleName="deployer")["PolicyNames"] == ["use"]
code, _, status = error_of(iam.put_role_policy, RoleName="deployer", PolicyName="bad",
                           PolicyDocument=trust(ALICE))
assert (code, status) == ("MalformedPolicyDocument", 400), code
code, _, status = error_of(iam.get_role_policy, RoleName="deployer", PolicyName="nope")
assert (code, status) == ("NoSuchEntity", 404), code
code, message, status = error_of(iam.delete_role, RoleName="deployer")
assert (code, status) == ("DeleteConflict", 409), (code, message)
# Role operations need iam: permissions, like user operations.
code, _, status = error_of(client("iam", *alice).get_role, RoleName="deployer")
assert (code, status) == ("AccessDenied", 403), code

# ---- AssumeRole: a trust policy naming alice needs no identity policy ----
key = kms.create_key(Description="for roles")["KeyMetadata"]["KeyId"]
assumed = alice_sts.assume_role(RoleArn=ROLE, RoleSessionName="build-1")
creds, user = assumed["Credentials"], assumed["AssumedRoleUser"]
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/build-1"
assert creds["AccessKeyId"].startswith("ASIA") and len(creds["SecretAccessKey"]) == 40, creds
assert user["Arn"] == SESSION and user["AssumedRoleId"] == f"{role['RoleId']}:build-1", user
s_sts, s_kms, s_iam = session_clients(creds, "sts", "kms", "iam")
who = s_sts.get_caller_identity()
assert who["Arn"] == SESSION and who["UserId"] == f"{role['RoleId']}:build-1", who
assert who["Account"] == ACCOUNT, who
blob = s_kms.encrypt(KeyId=key, Plaintext=b"from a role")["CiphertextBlob"]
assert s_kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"from a role"
code, message, _ = error_of(s_kms.create_key)
assert code == "AccessDeniedException", code
assert message.startswith(f"User: {SESSION} is not authorized to perform: kms:CreateKey"), message
code, _, status = error_of(s_iam.list_roles)
assert (code, status) == ("AccessDenied", 403), code
code, message, status = error_of(s_iam.get_user)
assert (code, status) == ("ValidationError", 400), code
assert message == "Must specify userName when calling with non-User credentials", message
# A policy change of the role reaches its sessions at once.
iam.delete_role_policy(RoleName="deployer", PolicyName="use")
code, _, _ = error_of(s_kms.encrypt, KeyId=key, Plaintext=b"x")
assert code == "AccessDeniedException", code
iam.put_role_policy(RoleName="deployer", PolicyName="use", PolicyDocument=use_policy)
s_kms.encrypt(KeyId=key, Plaintext=b"x")

# ---- duration bounds ----
# (Too short a session name or duration botocore refuses itself; the Rust tests send them raw.)
code, message, _ = error_of(alice_sts.assume_role, RoleArn=ROLE, RoleSessionName="long",
                            DurationSeconds=7200)
assert code == "ValidationError", code
assert message == ("The requested DurationSeconds exceeds the MaxSessionDuration set for this "
                   "role."), message
short = alice_sts.assume_role(RoleArn=ROLE, RoleSessionName="short", DurationSeconds=900)
SECRETS.extend([short["Credentials"]["SecretAccessKey"], short["Credentials"]["SessionToken"]])

# ---- a trust policy naming the account delegates to the caller's identity policies ----
AUDITOR = f"arn:aws:iam::{ACCOUNT}:role/auditor"
code, message, status = error_of(alice_sts.assume_role, RoleArn=AUDITOR, RoleSessionName="a1")
assert (code, status) == ("AccessDenied", 403), (code, status)
assert message == (f"User: {ALICE} is not authorized to perform: sts:AssumeRole on resource: "
                   f"{AUDITOR}"), message
iam.put_user_policy(UserName="alice", PolicyName="assume", PolicyDocument=policy(
    {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": AUDITOR}))
SECRETS.extend(alice_sts.assume_role(RoleArn=AUDITOR, RoleSessionName="a1")["Credentials"]
               [k] for k in ("SecretAccessKey", "SessionToken"))
# A role that does not exist is refused the same way.
code, message, _ = error_of(alice_sts.assume_role, RoleArn=f"arn:aws:iam::{ACCOUNT}:role/ghost",
                            RoleSessionName="gg")
assert code == "AccessDenied", code
# Roots may not assume roles; the bootstrap admin is a user, so it goes through its policies.
sts.assume_role(RoleArn=AUDITOR, RoleSessionName="admin-1")

# ---- ExternalId ----
iam.create_role(RoleName="vendor", AssumeRolePolicyDocument=trust(
    ALICE, Condition={"StringEquals": {"sts:ExternalId": "s3cret-ext"}}))
VENDOR = f"arn:aws:iam::{ACCOUNT}:role/vendor"
code, _, _ = error_of(alice_sts.assume_role, RoleArn=VENDOR, RoleSessionName="vv")
assert code == "AccessDenied", code
code, _, _ = error_of(alice_sts.assume_role, RoleArn=VENDOR, RoleSessionName="vv",
                      ExternalId="wrong-id")
assert code == "AccessDenied", code
alice_sts.assume_role(RoleArn=VENDOR, RoleSessionName="vv", ExternalId="s3cret-ext")

# ---- session tags: sts:TagSession, aws:RequestTag on the trust, aws:PrincipalTag after ----
iam.create_role(RoleName="tagged", AssumeRolePolicyDocument=policy(
    {"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "sts:AssumeRole"},
    {"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "sts:TagSession",
     "Condition": {"StringEquals": {"aws:RequestTag/project": ["blue", "green"]}}}),
    Tags=[{"Key": "project", "Value": "red"}])
iam.put_role_policy(RoleName="tagged", PolicyName="abac", PolicyDocument=policy(
    {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*",
     "Condition": {"StringEquals": {"aws:PrincipalTag/project": "blue"}}}))
TAGGED = f"arn:aws:iam::{ACCOUNT}:role/tagged"
code, message, _ = error_of(alice_sts.assume_role, RoleArn=TAGGED, RoleSessionName="tt",
                            Tags=[{"Key": "project", "Value": "yellow"}])
assert code == "AccessDenied", code
assert "sts:TagSession" in message, message
untagged = alice_sts.assume_role(RoleArn=TAGGED, RoleSessionName="tt")["Credentials"]
(u_kms,) = session_clients(untagged, "kms")
code, _, _ = error_of(u_kms.encrypt, KeyId=key, Plaintext=b"x")  # role tag says red
assert code == "AccessDeniedException", code
blue = alice_sts.assume_role(RoleArn=TAGGED, RoleSessionName="tt",
                             Tags=[{"Key": "project", "Value": "blue"}])
assert "PackedPolicySize" in blue, blue
(b_kms,) = session_clients(blue["Credentials"], "kms")
b_kms.encrypt(KeyId=key, Plaintext=b"x")  # the session tag overrides the role tag

# ---- transitive session tags pass on through role chaining ----
DOWN = f"arn:aws:iam::{ACCOUNT}:role/downstream"
iam.create_role(RoleName="downstream", AssumeRolePolicyDocument=policy(
    {"Effect": "Allow", "Principal": {"AWS": TAGGED},
     "Action": ["sts:AssumeRole", "sts:TagSession"]}))
iam.put_role_policy(RoleName="downstream", PolicyName="abac", PolicyDocument=policy(
    {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*",
     "Condition": {"StringEquals": {"aws:PrincipalTag/project": "blue"}}}))
carrier = alice_sts.assume_role(RoleArn=TAGGED, RoleSessionName="carrier",
                                Tags=[{"Key": "project", "Value": "blue"}],
                                TransitiveTagKeys=["project"])["Credentials"]
(carrier_sts,) = session_clients(carrier, "sts")
(d_kms,) = session_clients(
    carrier_sts.assume_role(RoleArn=DOWN, RoleSessionName="down")["Credentials"], "kms")
d_kms.encrypt(KeyId=key, Plaintext=b"x")
code, _, _ = error_of(carrier_sts.assume_role, RoleArn=DOWN, RoleSessionName="again",
                      Tags=[{"Key": "project", "Value": "green"}])
assert code == "ValidationError", code
plain = alice_sts.assume_role(RoleArn=TAGGED, RoleSessionName="carrier2",
                              Tags=[{"Key": "project", "Value": "blue"}])["Credentials"]
(plain_sts,) = session_clients(plain, "sts")
(d2_kms,) = session_clients(
    plain_sts.assume_role(RoleArn=DOWN, RoleSessionName="down2")["Credentials"], "kms")
code, _, _ = error_of(d2_kms.encrypt, KeyId=key, Plaintext=b"x")
assert code == "AccessDeniedException", code

# ---- an inline session policy intersects with the role's policies ----
narrowed = alice_sts.assume_role(RoleArn=ROLE, RoleSessionName="narrow", Policy=policy(
    {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}))["Credentials"]
(n_kms,) = session_clients(narrowed, "kms")
blob = n_kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
code, message, _ = error_of(n_kms.decrypt, CiphertextBlob=blob)
assert code == "AccessDeniedException", code
assert "because no session policy allows the kms:Decrypt action" in message, message
code, _, _ = error_of(alice_sts.assume_role, RoleArn=ROLE, RoleSessionName="bad",
                      Policy='{"Statement": 1}')
assert code == "MalformedPolicyDocument", code

# ---- key policies name the role (covering its sessions) or one session ----
by_role = kms.create_key(Policy=policy(
    {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
     "Action": "kms:*", "Resource": "*"},
    {"Sid": "Role", "Effect": "Allow", "Principal": {"AWS": AUDITOR},
     "Action": "kms:Encrypt", "Resource": "*"},
    {"Sid": "Session", "Effect": "Allow",
     "Principal": {"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/auditor/named"},
     "Action": "kms:GetKeyPolicy", "Resource": "*"},
    {"Sid": "Ids", "Effect": "Allow", "Principal": {"AWS": AUDITOR},
     "Action": "kms:DescribeKey", "Resource": "*",
     "Condition": {"StringLike": {"aws:userid": "AROA*:named"},
                   "StringEquals": {"aws:PrincipalArn": AUDITOR}}}))["KeyMetadata"]["KeyId"]
auditor_creds = alice_sts.assume_role(RoleArn=AUDITOR, RoleSessionName="named")["Credentials"]
(a_kms,) = session_clients(auditor_creds, "kms")
a_kms.encrypt(KeyId=by_role, Plaintext=b"x")
a_kms.describe_key(KeyId=by_role)
a_kms.get_key_policy(KeyId=by_role, PolicyName="default")
other_session = alice_sts.assume_role(RoleArn=AUDITOR, RoleSessionName="other")["Credentials"]
(o_kms,) = session_clients(other_session, "kms")
o_kms.encrypt(KeyId=by_role, Plaintext=b"x")
code, _, _ = error_of(o_kms.describe_key, KeyId=by_role)
assert code == "AccessDeniedException", code
code, _, _ = error_of(o_kms.get_key_policy, KeyId=by_role, PolicyName="default")
assert code == "AccessDeniedException", code

# ---- grants to a role apply to its sessions ----
kms.create_grant(KeyId=key, GranteePrincipal=AUDITOR, Operations=["Encrypt"])
o_kms.encrypt(KeyId=key, Plaintext=b"x")

# ---- role chaining: a session may assume a role, for at most an hour ----
iam.create_role(RoleName="chained", AssumeRolePolicyDocument=trust(AUDITOR),
                MaxSessionDuration=7200)
(a_sts,) = session_clients(auditor_creds, "sts")
code, message, _ = error_of(a_sts.assume_role, RoleArn=f"arn:aws:iam::{ACCOUNT}:role/chained",
                            RoleSessionName="cc", DurationSeconds=7200)
assert code == "ValidationError" and "role chaining" in message, (code, message)
chained = a_sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/chained",
                            RoleSessionName="cc")["Credentials"]
(c_sts,) = session_clients(chained, "sts")
assert c_sts.get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/chained/cc"

# ---- cross-account: the trust policy and the caller's identity policies must both allow ----
parser = configparser.ConfigParser()
parser.read(other_credentials)
other = (parser["default"]["aws_access_key_id"], parser["default"]["aws_secret_access_key"])
other_iam, other_sts = client("iam", *other), client("sts", *other)
OTHER = other_sts.get_caller_identity()["Account"]
assert OTHER != ACCOUNT
other_iam.create_user(UserName="carol")
carol_key = other_iam.create_access_key(UserName="carol")["AccessKey"]
carol_sts = client("sts", carol_key["AccessKeyId"], carol_key["SecretAccessKey"])
CAROL = f"arn:aws:iam::{OTHER}:user/carol"
iam.create_role(RoleName="partner", AssumeRolePolicyDocument=trust(CAROL))
PARTNER = f"arn:aws:iam::{ACCOUNT}:role/partner"
code, message, _ = error_of(carol_sts.assume_role, RoleArn=PARTNER, RoleSessionName="xx")
assert code == "AccessDenied", code  # trusted, but her own account does not let her out
assert message == (f"User: {CAROL} is not authorized to perform: sts:AssumeRole on resource: "
                   f"{PARTNER}"), message
other_iam.put_user_policy(UserName="carol", PolicyName="out", PolicyDocument=policy(
    {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": PARTNER}))
partner = carol_sts.assume_role(RoleArn=PARTNER, RoleSessionName="xx")["Credentials"]
(p_sts,) = session_clients(partner, "sts")
assert p_sts.get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/partner/xx"
# Allowed out by her policy, but not trusted by this role.
code, _, _ = error_of(carol_sts.assume_role, RoleArn=ROLE, RoleSessionName="xx")
assert code == "AccessDenied", code
other_iam.put_user_policy(UserName="carol", PolicyName="out", PolicyDocument=policy(
    {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
code, _, _ = error_of(carol_sts.assume_role, RoleArn=ROLE, RoleSessionName="xx")
assert code == "AccessDenied", code

# ---- bad session credentials ----
broken = dict(creds, SessionToken=creds["SessionToken"][:-8] + "AAAAAAA=")
(x_kms, x_sts) = session_clients(broken, "kms", "sts")
code, message, _ = error_of(x_kms.list_keys)
assert code == "UnrecognizedClientException", code
assert message == "The security token included in the request is invalid.", message
code, _, status = error_of(x_sts.get_caller_identity)
assert (code, status) == ("InvalidClientTokenId", 403), (code, status)
no_token = client("kms", creds["AccessKeyId"], creds["SecretAccessKey"])
code, _, _ = error_of(no_token.list_keys)
assert code == "UnrecognizedClientException", code
# A long-term key with someone's session token is refused too.
code, _, _ = error_of(client("kms", alice[0], alice[1], creds["SessionToken"]).list_keys)
assert code == "UnrecognizedClientException", code

# ---- the aws CLI ----
def aws(*args, env=None):
    out = subprocess.run(["aws", *args, "--endpoint-url", endpoint, "--output", "json"],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0, (args, out.stdout, out.stderr)
    return json.loads(out.stdout) if out.stdout.strip() else None

aws("iam", "create-role", "--role-name", "cli-role", "--assume-role-policy-document",
    trust(ADMIN))
aws("iam", "put-role-policy", "--role-name", "cli-role", "--policy-name", "use",
    "--policy-document", use_policy)
assert aws("iam", "get-role", "--role-name", "cli-role")["Role"]["RoleName"] == "cli-role"
cli_creds = aws("sts", "assume-role", "--role-arn", f"arn:aws:iam::{ACCOUNT}:role/cli-role",
                "--role-session-name", "cli")["Credentials"]
SECRETS.extend([cli_creds["SecretAccessKey"], cli_creds["SessionToken"]])
env = dict(os.environ, AWS_ACCESS_KEY_ID=cli_creds["AccessKeyId"],
           AWS_SECRET_ACCESS_KEY=cli_creds["SecretAccessKey"],
           AWS_SESSION_TOKEN=cli_creds["SessionToken"])
env.pop("AWS_SHARED_CREDENTIALS_FILE")
who = aws("sts", "get-caller-identity", env=env)
assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/cli-role/cli", who
# (aws CLI v1: --plaintext is the text itself; the blob comes back base64-encoded.)
encrypted = aws("kms", "encrypt", "--key-id", key, "--plaintext", "hello", env=env)
blob = base64.b64decode(encrypted["CiphertextBlob"])
assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"hello"

# ---- deleting a role ends its sessions ----
aws("iam", "delete-role-policy", "--role-name", "cli-role", "--policy-name", "use")
aws("iam", "delete-role", "--role-name", "cli-role")
failed = subprocess.run(["aws", "kms", "list-keys", "--endpoint-url", endpoint], env=env,
                        capture_output=True, text=True)
assert failed.returncode != 0 and "UnrecognizedClientException" in failed.stderr, failed.stderr
# Re-creating a role of the same name does not revive them.
aws("iam", "create-role", "--role-name", "cli-role", "--assume-role-policy-document",
    trust(ADMIN))
failed = subprocess.run(["aws", "sts", "get-caller-identity", "--endpoint-url", endpoint],
                        env=env, capture_output=True, text=True)
assert failed.returncode != 0 and "InvalidClientTokenId" in failed.stderr, failed.stderr

# ---- the role of the first session, for the Rust side (expiry, restart) ----
with open(os.path.join(work, "session.json"), "w") as f:
    json.dump({"AccessKeyId": creds["AccessKeyId"], "SecretAccessKey": creds["SecretAccessKey"],
               "SessionToken": creds["SessionToken"], "KeyId": key}, f)
with open(os.path.join(work, "secrets"), "w") as f:
    f.write("\n".join(SECRETS))
print("roles ok")
