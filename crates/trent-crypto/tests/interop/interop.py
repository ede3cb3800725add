#!/usr/bin/env python3
"""Independent counterpart for trent-crypto's interop tests (tests/interop.rs).

Reads a JSON request ({"op": ..., byte fields as hex strings}) or a list of them on stdin and
writes the answer(s) as JSON on stdout. Uses Python's `cryptography` (its own OpenSSL build) for everything it
supports, hashlib for SHAKE-256 (ML-DSA mu) and, for Ed25519ph, which `cryptography` does not
offer, a small RFC 8032 implementation written here whose pure-Ed25519 output is first checked
against `cryptography`'s Ed25519.
"""

import hashlib
import hmac as std_hmac
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa

HASHES = {"SHA_1": hashes.SHA1, "SHA_256": hashes.SHA256, "SHA_384": hashes.SHA384, "SHA_512": hashes.SHA512}


def alg_hash(alg):
    for suffix, h in HASHES.items():
        if alg.endswith(suffix):
            return h()
    raise ValueError(alg)


def b(x):
    return bytes.fromhex(x)


# ---- Ed25519 / Ed25519ph (RFC 8032), independent of the Rust side ----------------------------

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _recover_x(y, sign):
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def _add(p1, p2):
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = (y1 - x1) * (y2 - x2) % P
    bb = (y1 + x1) * (y2 + x2) % P
    c = t1 * 2 * D * t2 % P
    dd = z1 * 2 * z2 % P
    e, f, g, h = bb - a, dd - c, dd + c, bb + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(k, point):
    acc = (0, 1, 1, 0)
    while k:
        if k & 1:
            acc = _add(acc, point)
        point = _add(point, point)
        k >>= 1
    return acc


_BY = 4 * pow(5, P - 2, P) % P
_BX = _recover_x(_BY, 0)
BASE = (_BX, _BY, 1, _BX * _BY % P)


def _encode(point):
    x, y, z, _ = point
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _decode(data):
    n = int.from_bytes(data, "little")
    y, sign = n & ((1 << 255) - 1), n >> 255
    if y >= P:
        return None
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


def _same(p1, p2):
    return (p1[0] * p2[2] - p2[0] * p1[2]) % P == 0 and (p1[1] * p2[2] - p2[1] * p1[2]) % P == 0


def _expand(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def _h(*parts):
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little") % L


def _sign(seed, message, dom):
    a, prefix = _expand(seed)
    pub = _encode(_mul(a, BASE))
    r = _h(dom, prefix, message)
    big_r = _encode(_mul(r, BASE))
    k = _h(dom, big_r, pub, message)
    return big_r + ((r + k * a) % L).to_bytes(32, "little")


def _verify(pub, message, sig, dom):
    a_pt, r_pt = _decode(pub), _decode(sig[:32])
    s = int.from_bytes(sig[32:], "little")
    if a_pt is None or r_pt is None or s >= L or len(sig) != 64:
        return False
    k = _h(dom, sig[:32], pub, message)
    return _same(_mul(s, BASE), _add(r_pt, _mul(k, a_pt)))


# dom2(phflag = 1, context = empty), RFC 8032 section 5.1.
PH_DOM = b"SigEd25519 no Ed25519 collisions" + bytes([1, 0])


def _ed25519_seed(pkcs8):
    key = serialization.load_der_private_key(pkcs8, password=None)
    seed = key.private_bytes_raw()
    # Self-check: this implementation's pure Ed25519 must equal cryptography's.
    probe = b"self-check"
    assert _sign(seed, probe, b"") == key.sign(probe), "own Ed25519 disagrees with cryptography"
    return seed


# ---- operations ------------------------------------------------------------------------------


def verify(req):
    alg, msg, sig = req["alg"], b(req["msg"]), b(req["sig"])
    key = serialization.load_der_public_key(b(req["spki"]))
    try:
        if alg.startswith("RSASSA_PSS"):
            h = alg_hash(alg)
            key.verify(sig, msg, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
        elif alg.startswith("RSASSA_PKCS1"):
            key.verify(sig, msg, padding.PKCS1v15(), alg_hash(alg))
        elif alg.startswith("ECDSA"):
            key.verify(sig, msg, ec.ECDSA(alg_hash(alg)))
        elif alg == "ED25519_SHA_512":
            key.verify(sig, msg)
        elif alg == "ED25519_PH_SHA_512":
            # msg is the 64-byte SHA-512 prehash, as with MessageType DIGEST.
            raw = key.public_bytes_raw()
            return {"valid": _verify(raw, msg, sig, PH_DOM)}
        elif alg == "ML_DSA_SHAKE_256":
            key.verify(sig, msg)
        else:
            raise ValueError(alg)
    except InvalidSignature:
        return {"valid": False}
    return {"valid": True}


def sign(req):
    alg, msg, pkcs8 = req["alg"], b(req["msg"]), b(req["pkcs8"])
    if alg == "ED25519_PH_SHA_512":
        return {"sig": _sign(_ed25519_seed(pkcs8), hashlib.sha512(msg).digest(), PH_DOM).hex()}
    key = serialization.load_der_private_key(pkcs8, password=None)
    if alg.startswith("RSASSA_PSS"):
        h = alg_hash(alg)
        sig = key.sign(msg, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    elif alg.startswith("RSASSA_PKCS1"):
        sig = key.sign(msg, padding.PKCS1v15(), alg_hash(alg))
    elif alg.startswith("ECDSA"):
        sig = key.sign(msg, ec.ECDSA(alg_hash(alg)))
    elif alg in ("ED25519_SHA_512", "ML_DSA_SHAKE_256"):
        sig = key.sign(msg)
    else:
        raise ValueError(alg)
    return {"sig": sig.hex()}


def ml_dsa_mu(req):
    """FIPS 204 mu for pure ML-DSA with an empty context: H(H(pk, 64) || 0 || 0 || M, 64)."""
    key = serialization.load_der_public_key(b(req["spki"]))
    tr = hashlib.shake_256(key.public_bytes_raw()).digest(64)
    return {"mu": hashlib.shake_256(tr + b"\x00\x00" + b(req["msg"])).digest(64).hex()}


def oaep_encrypt(req):
    key = serialization.load_der_public_key(b(req["spki"]))
    h = alg_hash(req["alg"])
    ct = key.encrypt(b(req["msg"]), padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None))
    return {"ct": ct.hex()}


def oaep_decrypt(req):
    key = serialization.load_der_private_key(b(req["pkcs8"]), password=None)
    h = alg_hash(req["alg"])
    pt = key.decrypt(b(req["ct"]), padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None))
    return {"pt": pt.hex()}


def ecdh(req):
    ours = serialization.load_der_public_key(b(req["spki"]))
    mine = ec.generate_private_key(ours.curve)
    secret = mine.exchange(ec.ECDH(), ours)
    spki = mine.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {"peer_spki": spki.hex(), "secret": secret.hex()}


def hmac_op(req):
    name = {"HMAC_SHA_224": "sha224", "HMAC_SHA_256": "sha256", "HMAC_SHA_384": "sha384", "HMAC_SHA_512": "sha512"}
    return {"mac": std_hmac.new(b(req["key"]), b(req["msg"]), name[req["alg"]]).hexdigest()}


def key_info(req):
    """Loads a PKCS#8 private key and returns its type and SPKI public key."""
    key = serialization.load_der_private_key(b(req["pkcs8"]), password=None)
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if isinstance(key, rsa.RSAPrivateKey):
        kind = "RSA-%d" % key.key_size
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        kind = "EC-" + key.curve.name
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        kind = "Ed25519"
    elif isinstance(key, mldsa.MLDSA44PrivateKey):
        kind = "ML-DSA-44"
    elif isinstance(key, mldsa.MLDSA65PrivateKey):
        kind = "ML-DSA-65"
    elif isinstance(key, mldsa.MLDSA87PrivateKey):
        kind = "ML-DSA-87"
    else:
        kind = type(key).__name__
    return {"type": kind, "spki": spki.hex()}


OPS = {
    "verify": verify,
    "sign": sign,
    "ml_dsa_mu": ml_dsa_mu,
    "oaep_encrypt": oaep_encrypt,
    "oaep_decrypt": oaep_decrypt,
    "ecdh": ecdh,
    "hmac": hmac_op,
    "key_info": key_info,
}

if __name__ == "__main__":
    # One request object, or a list of them answered in order (one interpreter start per batch).
    request = json.load(sys.stdin)
    if isinstance(request, list):
        json.dump([OPS[r["op"]](r) for r in request], sys.stdout)
    else:
        json.dump(OPS[request["op"]](request), sys.stdout)
