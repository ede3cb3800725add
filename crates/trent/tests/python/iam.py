"""IAM through AWS's own clients: boto3's `iam` client and the `aws iam` CLI against Trent.

Usage: iam.py ENDPOINT CREDENTIALS_FILE WORK_DIR
Writes alice's secret access key to WORK_DIR/alice-secret so the caller can check that the
audit trail never contains it.
"""
import json
import os
import subprocess
import sys

import boto3
import botocore.exceptions
from botocore.config import Config

endpoint, credentials, work = sys.argv[1:4]
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = credentials
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.pop("AWS_PROFILE", None)
ACCOUNT = "111122223333"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})


def client(service, key=None, secret=None):
    kwargs = {}
    if key:
        kwargs = {"aws_access_key_id": key, "aws_secret_access_key": secret}
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        config=NO_RETRY, **kwargs)


def error_of(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except botocore.exceptions.ClientError as e:
        return (e.response["Error"]["Code"], e.response["Error"].get("Message", ""),
                e.response["ResponseMetadata"]["HTTPStatusCode"])
    raise AssertionError(f"{fn.__name__} should have failed")


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


iam = client("iam")
kms = client("kms")

# ---- users ----
user = iam.create_user(UserName="alice")["User"]
assert user["UserName"] == "alice" and user["Arn"] == ALICE, user
assert user["UserId"].startswith("AIDA") and user["Path"] == "/", user
code, _, status = error_of(iam.create_user, UserName="alice")
assert (code, status) == ("EntityAlreadyExists", 409), (code, status)
code, message, status = error_of(iam.create_user, UserName="bad name")
assert (code, status) == ("ValidationError", 400), (code, message, status)
assert iam.get_user(UserName="alice")["User"]["Arn"] == ALICE
assert iam.get_user()["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/admin"
names = [u["UserName"] for u in iam.list_users()["Users"]]
assert names == ["admin", "alice"], names
page = iam.list_users(MaxItems=1)
assert page["IsTruncated"] and page["Marker"] and len(page["Users"]) == 1, page
rest = iam.list_users(Marker=page["Marker"])
assert [u["UserName"] for u in rest["Users"]] == ["alice"], rest
code, message, status = error_of(iam.get_user, UserName="nobody")
assert (code, status) == ("NoSuchEntity", 404), (code, status)
assert message == "The user with name nobody cannot be found.", message

# ---- access keys ----
created = iam.create_access_key(UserName="alice")["AccessKey"]
alice_key, alice_secret = created["AccessKeyId"], created["SecretAccessKey"]
assert alice_key.startswith("AKIA") and len(alice_key) == 20 and len(alice_secret) == 40
with open(os.path.join(work, "alice-secret"), "w") as f:
    f.write(alice_secret)
listed = iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]
assert [k["AccessKeyId"] for k in listed] == [alice_key], listed
assert "SecretAccessKey" not in listed[0]

# ---- identity policies ----
use_policy = policy({"Effect": "Allow",
                     "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"],
                     "Resource": "*"})
iam.put_user_policy(UserName="alice", PolicyName="kms-use", PolicyDocument=use_policy)
code, _, status = error_of(iam.put_user_policy, UserName="alice", PolicyName="bad",
                           PolicyDocument='{"Statement": "nope"}')
assert (code, status) == ("MalformedPolicyDocument", 400), (code, status)
got = iam.get_user_policy(UserName="alice", PolicyName="kms-use")
# boto3 URL-decodes and parses the document, as it does against AWS.
assert got["PolicyDocument"] == json.loads(use_policy), got
assert iam.list_user_policies(UserName="alice")["PolicyNames"] == ["kms-use"]

# ---- every list pages with MaxItems and Marker ----
for name in ["p-b", "p-a", "p-c"]:
    iam.put_user_policy(UserName="alice", PolicyName=name, PolicyDocument=use_policy)
page = iam.list_user_policies(UserName="alice", MaxItems=2)
assert page["PolicyNames"] == ["kms-use", "p-a"] and page["IsTruncated"], page
page = iam.list_user_policies(UserName="alice", MaxItems=2, Marker=page["Marker"])
assert page["PolicyNames"] == ["p-b", "p-c"] and not page["IsTruncated"], page
assert "Marker" not in page, page
names = [n for p in iam.get_paginator("list_user_policies").paginate(
    UserName="alice", PaginationConfig={"PageSize": 1}) for n in p["PolicyNames"]]
assert names == ["kms-use", "p-a", "p-b", "p-c"], names
for name in ["p-a", "p-b", "p-c"]:
    iam.delete_user_policy(UserName="alice", PolicyName=name)
iam.tag_user(UserName="alice", Tags=[{"Key": k, "Value": "v"} for k in ["t3", "t1", "t2"]])
page = iam.list_user_tags(UserName="alice", MaxItems=2)
assert [t["Key"] for t in page["Tags"]] == ["t1", "t2"] and page["IsTruncated"], page
page = iam.list_user_tags(UserName="alice", Marker=page["Marker"])
assert [t["Key"] for t in page["Tags"]] == ["t3"] and not page["IsTruncated"], page
iam.untag_user(UserName="alice", TagKeys=["t1", "t2", "t3"])
second = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
page = iam.list_access_keys(UserName="alice", MaxItems=1)
assert len(page["AccessKeyMetadata"]) == 1 and page["IsTruncated"], page
rest = iam.list_access_keys(UserName="alice", Marker=page["Marker"])
ids = {page["AccessKeyMetadata"][0]["AccessKeyId"], rest["AccessKeyMetadata"][0]["AccessKeyId"]}
assert ids == {alice_key, second} and not rest["IsTruncated"], (page, rest)
iam.delete_access_key(UserName="alice", AccessKeyId=second)

key = kms.create_key(Description="default policy")["KeyMetadata"]["KeyId"]
alice_kms = client("kms", alice_key, alice_secret)
alice_iam = client("iam", alice_key, alice_secret)
blob = alice_kms.encrypt(KeyId=key, Plaintext=b"hello")["CiphertextBlob"]
assert alice_kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"hello"
assert alice_kms.describe_key(KeyId=key)["KeyMetadata"]["KeyId"] == key
# Even reading herself needs iam:GetUser, as in AWS.
code, _, status = error_of(alice_iam.get_user)
assert (code, status) == ("AccessDenied", 403), (code, status)
code, message, status = error_of(alice_kms.create_key)
assert code == "AccessDeniedException", code
assert message == (f"User: {ALICE} is not authorized to perform: kms:CreateKey on resource: * "
                   "because no identity-based policy allows the kms:CreateKey action"), message
code, message, _ = error_of(alice_kms.disable_key, KeyId=key)
assert code == "AccessDeniedException", code
assert message == (f"User: {ALICE} is not authorized to perform: kms:DisableKey on resource: "
                   f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{key} because no identity-based policy "
                   "allows the kms:DisableKey action"), message
code, message, status = error_of(alice_iam.create_user, UserName="mallory")
assert (code, status) == ("AccessDenied", 403), (code, status)
assert message.startswith(f"User: {ALICE} is not authorized to perform: iam:CreateUser"), message

code, message, status = error_of(iam.delete_user, UserName="alice")
assert (code, status) == ("DeleteConflict", 409), (code, status)

iam.delete_user_policy(UserName="alice", PolicyName="kms-use")
assert iam.list_user_policies(UserName="alice")["PolicyNames"] == []
code, _, _ = error_of(alice_kms.encrypt, KeyId=key, Plaintext=b"x")
assert code == "AccessDeniedException", code
code, _, status = error_of(iam.delete_user_policy, UserName="alice", PolicyName="kms-use")
assert (code, status) == ("NoSuchEntity", 404), (code, status)

# ---- a key policy naming alice needs no identity policy ----
named = kms.create_key(Policy=policy(
    {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
     "Action": "kms:*", "Resource": "*"},
    {"Sid": "Alice", "Effect": "Allow", "Principal": {"AWS": ALICE},
     "Action": "kms:Encrypt", "Resource": "*"}))["KeyMetadata"]["KeyId"]
alice_kms.encrypt(KeyId=named, Plaintext=b"x")

# ---- an explicit deny in her identity policy beats the key policy's allow ----
iam.put_user_policy(UserName="alice", PolicyName="deny", PolicyDocument=policy(
    {"Effect": "Deny", "Action": "kms:Encrypt", "Resource": "*"}))
code, message, _ = error_of(alice_kms.encrypt, KeyId=named, Plaintext=b"x")
assert code == "AccessDeniedException", code
assert "explicit deny in an identity-based policy" in message, message
iam.delete_user_policy(UserName="alice", PolicyName="deny")
alice_kms.encrypt(KeyId=named, Plaintext=b"x")

# ---- aws:PrincipalTag from the user's tags ----
iam.put_user_policy(UserName="alice", PolicyName="abac", PolicyDocument=policy(
    {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*",
     "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}))
code, _, _ = error_of(alice_kms.encrypt, KeyId=key, Plaintext=b"x")
assert code == "AccessDeniedException", code
iam.tag_user(UserName="alice", Tags=[{"Key": "team", "Value": "blue"}])
assert iam.list_user_tags(UserName="alice")["Tags"] == [{"Key": "team", "Value": "blue"}]
alice_kms.encrypt(KeyId=key, Plaintext=b"x")
iam.untag_user(UserName="alice", TagKeys=["team"])
assert iam.list_user_tags(UserName="alice")["Tags"] == []
code, _, _ = error_of(alice_kms.encrypt, KeyId=key, Plaintext=b"x")
assert code == "AccessDeniedException", code

# ---- the aws CLI, unchanged but for --endpoint-url ----
def aws(*args):
    out = subprocess.run(["aws", *args, "--endpoint-url", endpoint, "--output", "json"],
                         capture_output=True, text=True)
    assert out.returncode == 0, (args, out.stdout, out.stderr)
    return json.loads(out.stdout) if out.stdout.strip() else None

assert aws("iam", "get-user", "--user-name", "alice")["User"]["Arn"] == ALICE
aws("iam", "create-user", "--user-name", "bob", "--tags", "Key=team,Value=red")
aws("iam", "put-user-policy", "--user-name", "bob", "--policy-name", "p",
    "--policy-document", use_policy)
assert aws("iam", "list-user-policies", "--user-name", "bob")["PolicyNames"] == ["p"]
assert [u["UserName"] for u in aws("iam", "list-users")["Users"]] == ["admin", "alice", "bob"]
aws("iam", "delete-user-policy", "--user-name", "bob", "--policy-name", "p")
aws("iam", "delete-user", "--user-name", "bob")
failed = subprocess.run(["aws", "iam", "get-user", "--user-name", "bob",
                         "--endpoint-url", endpoint], capture_output=True, text=True)
assert failed.returncode != 0 and "NoSuchEntity" in failed.stderr, failed.stderr

# ---- deleting an access key makes it unusable at once ----
iam.delete_access_key(UserName="alice", AccessKeyId=alice_key)
code, _, _ = error_of(alice_kms.list_keys)
assert code == "UnrecognizedClientException", code
code, _, status = error_of(alice_iam.get_user)
assert (code, status) == ("InvalidClientTokenId", 403), (code, status)
code, _, status = error_of(iam.delete_access_key, UserName="alice", AccessKeyId=alice_key)
assert (code, status) == ("NoSuchEntity", 404), (code, status)

# ---- deleting the user once nothing is attached ----
iam.delete_user_policy(UserName="alice", PolicyName="abac")
iam.delete_user(UserName="alice")
code, _, status = error_of(iam.get_user, UserName="alice")
assert (code, status) == ("NoSuchEntity", 404), (code, status)
print("iam ok")
