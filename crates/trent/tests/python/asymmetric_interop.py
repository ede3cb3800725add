"""Asymmetric, HMAC and key-agreement keys checked against independent implementations.

Drives a running Trent with boto3 and checks every result with Python `cryptography` and the
`openssl` CLI, never with Trent itself: signatures made by Trent verify with GetPublicKey's
output, data encrypted outside Trent decrypts inside it, an ECDH secret computed outside equals
DeriveSharedSecret's, and a data key pair's private key matches its public key.

Usage: asymmetric_interop.py ENDPOINT CREDENTIALS_FILE WORK_DIR
"""
import hashlib
import hmac
import os
import subprocess
import sys

import boto3
import botocore.exceptions
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, padding

endpoint, credentials_file, work_dir = sys.argv[1:4]
os.environ.update(AWS_SHARED_CREDENTIALS_FILE=credentials_file, AWS_DEFAULT_REGION="us-east-1",
                  AWS_CONFIG_FILE=os.path.join(work_dir, "no-config"))
for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
    os.environ.pop(var, None)
kms = boto3.client("kms", endpoint_url=endpoint, region_name="us-east-1")
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAILED:", message, file=sys.stderr)


def error_code(call):
    try:
        call()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
    return None


def create(spec, usage):
    return kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]


HASHES = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}
message = b"Trent signs this message for an independent verifier."

# --- signatures verified by Python cryptography with GetPublicKey's SPKI ---
SIGNING = [
    ("RSA_2048", ["RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
                  "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512"]),
    ("RSA_3072", ["RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_512"]),
    ("ECC_NIST_P256", ["ECDSA_SHA_256"]),
    ("ECC_NIST_P384", ["ECDSA_SHA_384"]),
    ("ECC_NIST_P521", ["ECDSA_SHA_512"]),
    ("ECC_SECG_P256K1", ["ECDSA_SHA_256"]),
    ("ECC_NIST_EDWARDS25519", ["ED25519_SHA_512"]),
    ("ML_DSA_44", ["ML_DSA_SHAKE_256"]),
    ("ML_DSA_65", ["ML_DSA_SHAKE_256"]),
    ("ML_DSA_87", ["ML_DSA_SHAKE_256"]),
]


def verify_outside(public, alg, msg, sig):
    try:
        if alg.startswith("RSASSA_PSS"):
            h = HASHES[alg[-3:]]
            public.verify(sig, msg, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
        elif alg.startswith("RSASSA_PKCS1"):
            public.verify(sig, msg, padding.PKCS1v15(), HASHES[alg[-3:]])
        elif alg.startswith("ECDSA"):
            public.verify(sig, msg, ec.ECDSA(HASHES[alg[-3:]]))
        else:  # Ed25519 and ML-DSA take the message itself
            public.verify(sig, msg)
        return True
    except InvalidSignature:
        return False


for spec, algorithms in SIGNING:
    meta = create(spec, "SIGN_VERIFY")
    key_id = meta["KeyId"]
    check(sorted(meta["SigningAlgorithms"]) == sorted(
        kms.get_public_key(KeyId=key_id)["SigningAlgorithms"]), f"{spec} algorithm lists agree")
    check("EncryptionAlgorithms" not in meta, f"{spec} SIGN_VERIFY lists no encryption algorithms")
    spki = kms.get_public_key(KeyId=key_id)["PublicKey"]
    public = serialization.load_der_public_key(spki)
    for alg in algorithms:
        sig = kms.sign(KeyId=key_id, Message=message, SigningAlgorithm=alg)["Signature"]
        check(verify_outside(public, alg, message, sig), f"{spec}/{alg}: RAW signature verifies outside Trent")
        check(not verify_outside(public, alg, message + b"!", sig), f"{spec}/{alg}: changed message fails outside")
        check(kms.verify(KeyId=key_id, Message=message, Signature=sig, SigningAlgorithm=alg)["SignatureValid"],
              f"{spec}/{alg}: Trent verifies its own signature")
        bad = bytearray(sig)
        bad[len(bad) // 2] ^= 1
        check(error_code(lambda: kms.verify(KeyId=key_id, Message=message, Signature=bytes(bad),
                                            SigningAlgorithm=alg)) == "KMSInvalidSignatureException",
              f"{spec}/{alg}: a flipped signature byte is KMSInvalidSignature")
        if alg.startswith(("RSASSA", "ECDSA")):
            h = hashlib.new("sha" + alg[-3:], message).digest()
            sig = kms.sign(KeyId=key_id, Message=h, MessageType="DIGEST", SigningAlgorithm=alg)["Signature"]
            check(verify_outside(public, alg, message, sig), f"{spec}/{alg}: DIGEST signature verifies outside")
            check(error_code(lambda: kms.sign(KeyId=key_id, Message=h[:-1], MessageType="DIGEST",
                                              SigningAlgorithm=alg)) == "ValidationException",
                  f"{spec}/{alg}: a short digest is a ValidationException")

# Signatures made outside Trent, with a key Trent never saw, do not verify; made by openssl with
# a Trent public key they cannot exist -- so check openssl verifies a Trent ECDSA signature.
p384 = create("ECC_NIST_P384", "SIGN_VERIFY")["KeyId"]
spki_path = os.path.join(work_dir, "p384.der")
with open(spki_path, "wb") as f:
    f.write(kms.get_public_key(KeyId=p384)["PublicKey"])
msg_path = os.path.join(work_dir, "msg.bin")
with open(msg_path, "wb") as f:
    f.write(message)
sig_path = os.path.join(work_dir, "sig.der")
with open(sig_path, "wb") as f:
    f.write(kms.sign(KeyId=p384, Message=message, SigningAlgorithm="ECDSA_SHA_384")["Signature"])
out = subprocess.run(["openssl", "dgst", "-sha384", "-verify", spki_path, "-keyform", "DER",
                      "-signature", sig_path, msg_path], capture_output=True)
check(out.returncode == 0 and b"Verified OK" in out.stdout, "openssl verifies a Trent ECDSA P-384 signature")

# ML-DSA external mu: mu computed outside Trent, signature verified outside Trent.
mldsa_key = create("ML_DSA_65", "SIGN_VERIFY")["KeyId"]
mldsa_pub = serialization.load_der_public_key(kms.get_public_key(KeyId=mldsa_key)["PublicKey"])
tr = hashlib.shake_256(mldsa_pub.public_bytes_raw()).digest(64)
mu = hashlib.shake_256(tr + b"\x00\x00" + message).digest(64)
sig = kms.sign(KeyId=mldsa_key, Message=mu, MessageType="EXTERNAL_MU", SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]
check(verify_outside(mldsa_pub, "ML_DSA_SHAKE_256", message, sig), "ML-DSA EXTERNAL_MU signature verifies outside")

# --- RSA encryption: encrypted outside Trent, decrypted inside ---
for spec in ("RSA_2048", "RSA_3072"):
    meta = create(spec, "ENCRYPT_DECRYPT")
    key_id = meta["KeyId"]
    check(sorted(meta["EncryptionAlgorithms"]) == ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"], f"{spec} algorithms")
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    for alg, h in (("RSAES_OAEP_SHA_1", hashes.SHA1()), ("RSAES_OAEP_SHA_256", hashes.SHA256())):
        secret = os.urandom(100)
        blob = public.encrypt(secret, padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None))
        out = kms.decrypt(KeyId=key_id, CiphertextBlob=blob, EncryptionAlgorithm=alg)
        check(out["Plaintext"] == secret, f"{spec}/{alg}: Python ciphertext decrypts in Trent")
        own = kms.encrypt(KeyId=key_id, Plaintext=b"round trip", EncryptionAlgorithm=alg)["CiphertextBlob"]
        check(kms.decrypt(KeyId=key_id, CiphertextBlob=own, EncryptionAlgorithm=alg)["Plaintext"] == b"round trip",
              f"{spec}/{alg}: Trent round trip")
    limit = {"RSA_2048": 190, "RSA_3072": 318}[spec]
    check(error_code(lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x" * (limit + 1),
                                         EncryptionAlgorithm="RSAES_OAEP_SHA_256")) == "ValidationException",
          f"{spec}: plaintext over the OAEP limit is a ValidationException")
    kms.encrypt(KeyId=key_id, Plaintext=b"x" * limit, EncryptionAlgorithm="RSAES_OAEP_SHA_256")

rsa_key = create("RSA_2048", "ENCRYPT_DECRYPT")["KeyId"]
pub_path = os.path.join(work_dir, "rsa.der")
with open(pub_path, "wb") as f:
    f.write(kms.get_public_key(KeyId=rsa_key)["PublicKey"])
enc_path = os.path.join(work_dir, "rsa.enc")
out = subprocess.run(["openssl", "pkeyutl", "-encrypt", "-pubin", "-keyform", "DER", "-inkey", pub_path,
                      "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256",
                      "-pkeyopt", "rsa_mgf1_md:sha256", "-in", msg_path, "-out", enc_path], capture_output=True)
check(out.returncode == 0, f"openssl pkeyutl encrypts: {out.stderr.decode()}")
with open(enc_path, "rb") as f:
    dec = kms.decrypt(KeyId=rsa_key, CiphertextBlob=f.read(), EncryptionAlgorithm="RSAES_OAEP_SHA_256")
check(dec["Plaintext"] == message, "data openssl encrypts to the public key decrypts in Trent")

# --- ECDH: the secret computed outside Trent equals DeriveSharedSecret's ---
for spec, curve in (("ECC_NIST_P256", ec.SECP256R1()), ("ECC_NIST_P384", ec.SECP384R1()),
                    ("ECC_NIST_P521", ec.SECP521R1())):
    meta = create(spec, "KEY_AGREEMENT")
    check(meta.get("KeyAgreementAlgorithms") == ["ECDH"], f"{spec} KEY_AGREEMENT lists ECDH")
    trent_public = serialization.load_der_public_key(kms.get_public_key(KeyId=meta["KeyId"])["PublicKey"])
    peer = ec.generate_private_key(curve)
    peer_spki = peer.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    out = kms.derive_shared_secret(KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=peer_spki)
    check(out["SharedSecret"] == peer.exchange(ec.ECDH(), trent_public), f"{spec}: ECDH secrets agree")
    check(out["KeyOrigin"] == "AWS_KMS", f"{spec}: KeyOrigin")
    check(error_code(lambda: kms.derive_shared_secret(KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH",
                                                      PublicKey=b"garbage")) == "ValidationException",
          f"{spec}: a garbage peer key is a ValidationException")

# --- data key pairs: the private key matches the public key and works in openssl ---
wrapping = kms.create_key()["KeyMetadata"]["KeyId"]
for pair_spec in ("RSA_2048", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519"):
    out = kms.generate_data_key_pair(KeyId=wrapping, KeyPairSpec=pair_spec, EncryptionContext={"p": pair_spec})
    private = serialization.load_der_private_key(out["PrivateKeyPlaintext"], password=None)
    derived = private.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    check(derived == out["PublicKey"], f"{pair_spec}: private key matches the public key")
    dec = kms.decrypt(CiphertextBlob=out["PrivateKeyCiphertextBlob"], EncryptionContext={"p": pair_spec})
    check(dec["Plaintext"] == out["PrivateKeyPlaintext"], f"{pair_spec}: encrypted private key decrypts")
    key_path = os.path.join(work_dir, f"{pair_spec}.p8")
    with open(key_path, "wb") as f:
        f.write(out["PrivateKeyPlaintext"])
    res = subprocess.run(["openssl", "pkey", "-inform", "DER", "-in", key_path, "-pubout", "-outform", "DER"],
                         capture_output=True)
    check(res.returncode == 0 and res.stdout == out["PublicKey"], f"{pair_spec}: openssl derives the same public key")
    without = kms.generate_data_key_pair_without_plaintext(KeyId=wrapping, KeyPairSpec=pair_spec)
    check("PrivateKeyPlaintext" not in without, f"{pair_spec}: WithoutPlaintext omits the private key")
    private = serialization.load_der_private_key(
        kms.decrypt(CiphertextBlob=without["PrivateKeyCiphertextBlob"])["Plaintext"], password=None)
    check(private.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo) == without["PublicKey"],
          f"{pair_spec}: WithoutPlaintext private key matches")

# --- HMAC: equal to Python's hmac is impossible without the key; VerifyMac rejects any change ---
for spec, alg, size in (("HMAC_224", "HMAC_SHA_224", 28), ("HMAC_256", "HMAC_SHA_256", 32),
                        ("HMAC_384", "HMAC_SHA_384", 48), ("HMAC_512", "HMAC_SHA_512", 64)):
    meta = create(spec, "GENERATE_VERIFY_MAC")
    key_id = meta["KeyId"]
    check(meta["MacAlgorithms"] == [alg], f"{spec} MacAlgorithms")
    mac = kms.generate_mac(KeyId=key_id, Message=message, MacAlgorithm=alg)["Mac"]
    check(len(mac) == size, f"{spec}: MAC length")
    check(kms.verify_mac(KeyId=key_id, Message=message, MacAlgorithm=alg, Mac=mac)["MacValid"], f"{spec} verifies")
    for i in range(len(mac)):
        bad = bytearray(mac)
        bad[i] ^= 0x80
        if error_code(lambda: kms.verify_mac(KeyId=key_id, Message=message, MacAlgorithm=alg,
                                             Mac=bytes(bad))) != "KMSInvalidMacException":
            check(False, f"{spec}: changed MAC byte {i} must be KMSInvalidMac")
    check(error_code(lambda: kms.verify_mac(KeyId=key_id, Message=message + b"x", MacAlgorithm=alg,
                                            Mac=mac)) == "KMSInvalidMacException", f"{spec}: changed message")
    other = create(spec, "GENERATE_VERIFY_MAC")["KeyId"]
    check(error_code(lambda: kms.verify_mac(KeyId=other, Message=message, MacAlgorithm=alg,
                                            Mac=mac)) == "KMSInvalidMacException", f"{spec}: another key")
    wrong_alg = "HMAC_SHA_256" if alg != "HMAC_SHA_256" else "HMAC_SHA_384"
    check(error_code(lambda: kms.verify_mac(KeyId=key_id, Message=message, MacAlgorithm=wrong_alg,
                                            Mac=mac)) == "InvalidKeyUsageException", f"{spec}: another algorithm")

if failures:
    sys.exit(1)
print("asymmetric interop passed")
