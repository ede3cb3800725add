"""Round trips through boto3 and the aws CLI against a running Trent server.

Usage: roundtrip.py ENDPOINT CREDENTIALS_FILE WORK_DIR
Exits non-zero (with a message) on the first failed expectation.
"""
import base64
import os
import subprocess
import sys

import boto3
import botocore.exceptions

endpoint, credentials_file, work_dir = sys.argv[1:4]
env = dict(os.environ)
env.update(
    AWS_SHARED_CREDENTIALS_FILE=credentials_file,
    AWS_CONFIG_FILE=os.path.join(work_dir, "no-config"),
    AWS_DEFAULT_REGION="us-east-1",
    AWS_PAGER="",
)
for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
    env.pop(var, None)
os.environ.clear()
os.environ.update(env)


def check(condition, message):
    if not condition:
        print("FAILED:", message, file=sys.stderr)
        sys.exit(1)


kms = boto3.client("kms", endpoint_url=endpoint, region_name="us-east-1")
meta = kms.create_key(Description="boto3")["KeyMetadata"]
check(meta["KeyState"] == "Enabled", "new key is Enabled")
key_id = meta["KeyId"]

enc = kms.encrypt(KeyId=key_id, Plaintext=b"hello from boto3", EncryptionContext={"app": "test"})
dec = kms.decrypt(CiphertextBlob=enc["CiphertextBlob"], EncryptionContext={"app": "test"})
check(dec["Plaintext"] == b"hello from boto3", "boto3 decrypt returns the plaintext")
check(dec["KeyId"] == meta["Arn"], "decrypt names the key ARN")

dk = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
check(len(dk["Plaintext"]) == 32, "AES_256 data key is 32 bytes")
check(kms.decrypt(CiphertextBlob=dk["CiphertextBlob"])["Plaintext"] == dk["Plaintext"], "data key decrypts")

try:
    kms.decrypt(CiphertextBlob=enc["CiphertextBlob"], EncryptionContext={"app": "other"})
    check(False, "mismatched context must fail")
except botocore.exceptions.ClientError as e:
    check(e.response["Error"]["Code"] == "InvalidCiphertextException", "mismatch is InvalidCiphertext")

try:
    kms.describe_key(KeyId="00000000-0000-0000-0000-000000000000")
    check(False, "missing key must fail")
except kms.exceptions.NotFoundException:
    pass

paginator = kms.get_paginator("list_keys")
listed = [k["KeyId"] for page in paginator.paginate(PaginationConfig={"PageSize": 1}) for k in page["Keys"]]
check(key_id in listed, "paginated list_keys includes the key")

# The aws CLI: encrypt a file, decrypt it back.
plain_path = os.path.join(work_dir, "secret.txt")
with open(plain_path, "wb") as f:
    f.write(b"file contents for the CLI\n")


def aws(*args):
    out = subprocess.run(
        ["aws", "kms", *args, "--endpoint-url", endpoint, "--output", "text"],
        check=False, capture_output=True, env=env,
    )
    check(out.returncode == 0, f"aws kms {' '.join(args)}: {out.stderr.decode()}")
    return out.stdout.decode().strip()


def aws_json(*args):
    out = subprocess.run(
        ["aws", "kms", *args, "--endpoint-url", endpoint, "--output", "json"],
        check=False, capture_output=True, env=env,
    )
    check(out.returncode == 0, f"aws kms {' '.join(args)}: {out.stderr.decode()}")
    return out.stdout.decode()


cli_key = aws("create-key", "--description", "cli", "--query", "KeyMetadata.KeyId")
blob_b64 = aws("encrypt", "--key-id", cli_key, "--plaintext", f"fileb://{plain_path}",
               "--query", "CiphertextBlob")
blob_path = os.path.join(work_dir, "secret.bin")
with open(blob_path, "wb") as f:
    f.write(base64.b64decode(blob_b64))
plain_b64 = aws("decrypt", "--ciphertext-blob", f"fileb://{blob_path}", "--query", "Plaintext")
check(base64.b64decode(plain_b64) == b"file contents for the CLI\n", "CLI round trip")
dk_cli = aws("generate-data-key", "--key-id", cli_key, "--key-spec", "AES_256", "--query", "KeyId")
check(dk_cli.endswith(cli_key), "CLI generate-data-key names the key")
# The CLI's own paginator walks Marker/NextMarker/Truncated to the end.
import json as _json
for i in range(3):
    aws("create-alias", "--alias-name", f"alias/cli-{i}", "--target-key-id", cli_key)
all_keys = kms.list_keys(Limit=1000)["Keys"]
paged_keys = _json.loads(aws_json("list-keys", "--page-size", "1"))["Keys"]
check([k["KeyId"] for k in paged_keys] == [k["KeyId"] for k in all_keys], "CLI list-keys paginates to every key")
paged_aliases = _json.loads(aws_json("list-aliases", "--page-size", "1"))["Aliases"]
check([a["AliasName"] for a in paged_aliases] == ["alias/cli-0", "alias/cli-1", "alias/cli-2"],
      "CLI list-aliases paginates to every alias")
print("boto3 and aws CLI round trips passed")
