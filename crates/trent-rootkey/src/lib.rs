//! Root-key providers: the key that wraps all key material and secrets Trent stores at rest.
//!
//! The seam is the [`RootKeyProvider`] trait: `wrap` seals bytes with AES-256-GCM under the
//! root key with caller-chosen associated data (for key material the caller binds the key ARN
//! and material id), `unwrap` reverses it, and `describe` says where the key lives without
//! revealing it. The one provider today is [`SealedFileRootKey`], a 256-bit key kept in a
//! versioned file created with mode 0600, optionally encrypted under an Argon2id-stretched
//! passphrase. File and wrapping formats are documented in `docs/ciphertext-format.md`.
//!
//! The root key never leaves this crate: it is held only as an aws-lc-rs key object, transient
//! copies are zeroizing buffers, and neither `Debug` output nor errors contain secret bytes.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::digest;
use zeroize::Zeroizing;

/// Errors of root-key providers. They never contain key bytes or passphrases.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RootKeyError {
    /// Reading or writing the sealed file failed.
    #[error("root key file I/O error: {0}")]
    Io(#[from] io::Error),
    /// The root key file is sealed with a passphrase and none was given.
    #[error("the root key file is sealed with a passphrase; none was given")]
    PassphraseRequired,
    /// The passphrase does not open the root key file.
    #[error("wrong passphrase for the root key file")]
    WrongPassphrase,
    /// A passphrase was given but the root key file is not passphrase-sealed.
    #[error("a passphrase was given but the root key file is not sealed with one")]
    PassphraseNotUsed,
    /// An empty passphrase was given (use `None` for an unsealed file).
    #[error("the root key passphrase is empty")]
    EmptyPassphrase,
    /// The root key file is truncated, garbled or of an unknown format.
    #[error("root key file is corrupt: {0}")]
    Corrupt(String),
    /// A wrapped value is malformed, was tampered with, or its associated data does not match.
    #[error("unwrapping failed: wrong associated data or damaged wrapped value")]
    UnwrapFailed,
    /// The system random number generator failed.
    #[error("the random number generator failed")]
    Random,
    /// A cryptographic primitive refused its input (not expected in practice).
    #[error("internal root key failure: {0}")]
    Internal(&'static str),
}

/// A root key that wraps secrets at rest.
pub trait RootKeyProvider: Send + Sync + fmt::Debug + 'static {
    /// Seals `plaintext`, binding `aad` (which the caller must present again to unwrap).
    fn wrap(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, RootKeyError>;
    /// Opens a value produced by [`RootKeyProvider::wrap`] with the same `aad`.
    fn unwrap(&self, aad: &[u8], wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, RootKeyError>;
    /// A human-readable description of where the key lives, without secrets.
    fn describe(&self) -> String;
}

/// Version byte of a wrapped value.
pub const WRAP_FORMAT_VERSION: u8 = 0x01;
/// Bytes `wrap` adds to its plaintext: version (1) + nonce (12) + tag (16).
pub const WRAP_OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;
/// Domain label prefixed to the caller's associated data by `wrap` and `unwrap`.
const WRAP_DOMAIN: &[u8] = b"trent/rootkey/wrap/v1\0";

const TAG_LEN: usize = 16;
const ROOT_KEY_LEN: usize = 32;

// Sealed file layout, format version 1. See docs/ciphertext-format.md.
const MAGIC: &[u8; 8] = b"TRNTROOT";
const FILE_VERSION: u8 = 0x01;
const PROTECTION_NONE: u8 = 0x00;
const PROTECTION_ARGON2ID: u8 = 0x01;
const CHECKSUM_LEN: usize = 32;
const ARGON2_SALT_LEN: usize = 16;
/// Domain label prefixed to the file header when it is used as associated data.
const FILE_AAD_DOMAIN: &[u8] = b"trent/rootkey/file/v1\0";
/// magic + version + protection + key + checksum.
const PLAIN_FILE_LEN: usize = 8 + 1 + 1 + ROOT_KEY_LEN + CHECKSUM_LEN;
/// magic + version + protection + m,t,p + salt + nonce.
const SEALED_HEADER_LEN: usize = 8 + 1 + 1 + 12 + ARGON2_SALT_LEN + NONCE_LEN;
/// header + encrypted key + tag + checksum.
const SEALED_FILE_LEN: usize = SEALED_HEADER_LEN + ROOT_KEY_LEN + TAG_LEN + CHECKSUM_LEN;
/// Files larger than this are not root key files; don't read them whole.
const MAX_FILE_LEN: u64 = 4096;

// Upper bounds accepted when reading Argon2 parameters from a file.
const MAX_M_COST_KIB: u32 = 4 * 1024 * 1024;
const MAX_T_COST: u32 = 1024;
const MAX_P_COST: u32 = 64;

/// Argon2id cost parameters for passphrase-sealed root key files.
///
/// They are stored in the file, so a file is always opened with the parameters it was sealed
/// with; these only matter when a file is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory cost in KiB.
    pub m_cost_kib: u32,
    /// Number of passes.
    pub t_cost: u32,
    /// Degree of parallelism.
    pub p_cost: u32,
}

impl KdfParams {
    /// The production parameters: 64 MiB, 3 passes, 1 lane.
    pub const DEFAULT: Self = Self {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };

    /// Minimal-cost parameters for tests only: they offer no protection against guessing.
    pub const INSECURE_FAST_FOR_TESTS: Self = Self {
        m_cost_kib: 8,
        t_cost: 1,
        p_cost: 1,
    };
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A 256-bit root key kept in a sealed file, optionally under an Argon2id passphrase.
pub struct SealedFileRootKey {
    path: PathBuf,
    passphrase: bool,
    key: LessSafeKey,
}

impl fmt::Debug for SealedFileRootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedFileRootKey")
            .field("path", &self.path)
            .field("passphrase", &self.passphrase)
            .field("key", &"**redacted**")
            .finish()
    }
}

impl SealedFileRootKey {
    /// Opens the sealed root key at `path`, or generates and seals a new 256-bit one if the file
    /// does not exist (then the second value is `true`).
    ///
    /// A created file has mode 0600; it is written to a temporary file in the same directory,
    /// fsync'd, linked into place (never replacing a file that appeared meanwhile) and the
    /// directory is fsync'd. With a passphrase the key is encrypted under an Argon2id-stretched
    /// key ([`KdfParams::DEFAULT`]); without, it is stored in a plaintext-format file.
    pub fn open_or_create(
        path: &Path,
        passphrase: Option<&[u8]>,
    ) -> Result<(Self, bool), RootKeyError> {
        Self::open_or_create_with_params(path, passphrase, KdfParams::DEFAULT)
    }

    /// [`SealedFileRootKey::open_or_create`] with explicit Argon2id parameters for a new file
    /// (an existing file is opened with the parameters stored in it).
    pub fn open_or_create_with_params(
        path: &Path,
        passphrase: Option<&[u8]>,
        params: KdfParams,
    ) -> Result<(Self, bool), RootKeyError> {
        if passphrase.is_some_and(<[u8]>::is_empty) {
            return Err(RootKeyError::EmptyPassphrase);
        }
        match read_limited(path) {
            Ok(bytes) => return Ok((Self::from_file_bytes(path, &bytes, passphrase)?, false)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }

        if passphrase.is_some()
            && argon2::Params::new(params.m_cost_kib, params.t_cost, params.p_cost, None).is_err()
        {
            return Err(RootKeyError::Internal("invalid Argon2id parameters"));
        }
        let mut key = Zeroizing::new([0u8; ROOT_KEY_LEN]);
        fill_random(&mut key[..])?;
        let contents = match passphrase {
            None => encode_plain(&key),
            Some(passphrase) => encode_sealed(&key, passphrase, params)?,
        };
        if write_new_file(path, &contents)? {
            Ok((Self::from_key(path, &key, passphrase.is_some())?, true))
        } else {
            // Another process created the file first; use theirs.
            Ok((Self::open(path, passphrase)?, false))
        }
    }

    /// Opens an existing sealed root key file.
    pub fn open(path: &Path, passphrase: Option<&[u8]>) -> Result<Self, RootKeyError> {
        if passphrase.is_some_and(<[u8]>::is_empty) {
            return Err(RootKeyError::EmptyPassphrase);
        }
        let bytes = read_limited(path)?;
        Self::from_file_bytes(path, &bytes, passphrase)
    }

    /// The path of the sealed file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file is sealed with a passphrase.
    pub fn has_passphrase(&self) -> bool {
        self.passphrase
    }

    fn from_file_bytes(
        path: &Path,
        bytes: &[u8],
        passphrase: Option<&[u8]>,
    ) -> Result<Self, RootKeyError> {
        let key = decode_file(bytes, passphrase)?;
        Self::from_key(path, &key, passphrase.is_some())
    }

    fn from_key(
        path: &Path,
        key: &[u8; ROOT_KEY_LEN],
        passphrase: bool,
    ) -> Result<Self, RootKeyError> {
        Ok(Self {
            path: path.to_path_buf(),
            passphrase,
            key: aes_key(key)?,
        })
    }
}

impl RootKeyProvider for SealedFileRootKey {
    fn wrap(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, RootKeyError> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        let mut out = Vec::with_capacity(plaintext.len() + WRAP_OVERHEAD);
        out.push(WRAP_FORMAT_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(wrap_aad(aad)),
                &mut out[1 + NONCE_LEN..],
            )
            .map_err(|_| RootKeyError::Internal("AES-GCM seal failed"))?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    fn unwrap(&self, aad: &[u8], wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, RootKeyError> {
        if wrapped.len() < WRAP_OVERHEAD || wrapped[0] != WRAP_FORMAT_VERSION {
            return Err(RootKeyError::UnwrapFailed);
        }
        let nonce = Nonce::try_assume_unique_for_key(&wrapped[1..1 + NONCE_LEN])
            .map_err(|_| RootKeyError::UnwrapFailed)?;
        let mut buffer = Zeroizing::new(wrapped[1 + NONCE_LEN..].to_vec());
        let len = self
            .key
            .open_in_place(nonce, Aad::from(wrap_aad(aad)), &mut buffer)
            .map_err(|_| RootKeyError::UnwrapFailed)?
            .len();
        buffer.truncate(len);
        Ok(buffer)
    }

    fn describe(&self) -> String {
        format!(
            "sealed file {} (passphrase: {})",
            self.path.display(),
            if self.passphrase { "yes" } else { "no" }
        )
    }
}

fn wrap_aad(aad: &[u8]) -> Vec<u8> {
    [WRAP_DOMAIN, aad].concat()
}

fn fill_random(out: &mut [u8]) -> Result<(), RootKeyError> {
    aws_lc_rs::rand::fill(out).map_err(|_| RootKeyError::Random)
}

fn aes_key(key: &[u8]) -> Result<LessSafeKey, RootKeyError> {
    UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| RootKeyError::Internal("AES-256 key rejected"))
}

fn checksum(bytes: &[u8]) -> digest::Digest {
    digest::digest(&digest::SHA256, bytes)
}

fn encode_plain(key: &[u8; ROOT_KEY_LEN]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(PLAIN_FILE_LEN));
    out.extend_from_slice(MAGIC);
    out.push(FILE_VERSION);
    out.push(PROTECTION_NONE);
    out.extend_from_slice(key);
    let sum = checksum(&out);
    out.extend_from_slice(sum.as_ref());
    out
}

fn encode_sealed(
    key: &[u8; ROOT_KEY_LEN],
    passphrase: &[u8],
    params: KdfParams,
) -> Result<Zeroizing<Vec<u8>>, RootKeyError> {
    let mut salt = [0u8; ARGON2_SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut salt)?;
    fill_random(&mut nonce)?;
    let kek = stretch(passphrase, &salt, params)?;

    let mut out = Zeroizing::new(Vec::with_capacity(SEALED_FILE_LEN));
    out.extend_from_slice(MAGIC);
    out.push(FILE_VERSION);
    out.push(PROTECTION_ARGON2ID);
    out.extend_from_slice(&params.m_cost_kib.to_be_bytes());
    out.extend_from_slice(&params.t_cost.to_be_bytes());
    out.extend_from_slice(&params.p_cost.to_be_bytes());
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);
    let aad = [FILE_AAD_DOMAIN, &out[..]].concat();
    out.extend_from_slice(key);
    let tag = kek
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[SEALED_HEADER_LEN..],
        )
        .map_err(|_| RootKeyError::Internal("AES-GCM seal failed"))?;
    out.extend_from_slice(tag.as_ref());
    let sum = checksum(&out);
    out.extend_from_slice(sum.as_ref());
    Ok(out)
}

/// Argon2id(passphrase, salt) → AES-256-GCM key-encryption key.
fn stretch(passphrase: &[u8], salt: &[u8], params: KdfParams) -> Result<LessSafeKey, RootKeyError> {
    let argon_params = argon2::Params::new(
        params.m_cost_kib,
        params.t_cost,
        params.p_cost,
        Some(ROOT_KEY_LEN),
    )
    .map_err(|e| RootKeyError::Corrupt(format!("invalid Argon2id parameters: {e}")))?;
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon_params,
    );
    let mut kek = Zeroizing::new([0u8; ROOT_KEY_LEN]);
    argon
        .hash_password_into(passphrase, salt, &mut kek[..])
        .map_err(|e| RootKeyError::Corrupt(format!("Argon2id failed: {e}")))?;
    aes_key(&kek[..])
}

fn corrupt(reason: &str) -> RootKeyError {
    RootKeyError::Corrupt(reason.to_owned())
}

fn be_u32(bytes: &[u8], offset: usize) -> Result<u32, RootKeyError> {
    bytes
        .get(offset..offset + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(u32::from_be_bytes)
        .ok_or_else(|| corrupt("truncated"))
}

/// Validates a file image and recovers the root key from it.
fn decode_file(
    bytes: &[u8],
    passphrase: Option<&[u8]>,
) -> Result<Zeroizing<[u8; ROOT_KEY_LEN]>, RootKeyError> {
    if bytes.len() < 10 || &bytes[..8] != MAGIC {
        return Err(corrupt("not a Trent root key file"));
    }
    if bytes[8] != FILE_VERSION {
        return Err(corrupt("unknown root key file version"));
    }
    let expected_len = match bytes[9] {
        PROTECTION_NONE => PLAIN_FILE_LEN,
        PROTECTION_ARGON2ID => SEALED_FILE_LEN,
        _ => return Err(corrupt("unknown protection scheme")),
    };
    if bytes.len() != expected_len {
        return Err(corrupt("wrong length"));
    }
    let (body, sum) = bytes.split_at(expected_len - CHECKSUM_LEN);
    // Not a secret comparison: the checksum covers data the reader already has.
    if checksum(body).as_ref() != sum {
        return Err(corrupt("checksum mismatch"));
    }

    let mut key = Zeroizing::new([0u8; ROOT_KEY_LEN]);
    if bytes[9] == PROTECTION_NONE {
        if passphrase.is_some() {
            return Err(RootKeyError::PassphraseNotUsed);
        }
        key.copy_from_slice(&body[10..10 + ROOT_KEY_LEN]);
        return Ok(key);
    }

    let passphrase = passphrase.ok_or(RootKeyError::PassphraseRequired)?;
    let params = KdfParams {
        m_cost_kib: be_u32(body, 10)?,
        t_cost: be_u32(body, 14)?,
        p_cost: be_u32(body, 18)?,
    };
    if params.m_cost_kib > MAX_M_COST_KIB
        || params.t_cost > MAX_T_COST
        || params.p_cost > MAX_P_COST
    {
        return Err(corrupt("Argon2id parameters out of range"));
    }
    let salt = &body[22..22 + ARGON2_SALT_LEN];
    let nonce = Nonce::try_assume_unique_for_key(&body[38..38 + NONCE_LEN])
        .map_err(|_| corrupt("truncated"))?;
    let kek = stretch(passphrase, salt, params)?;
    let aad = [FILE_AAD_DOMAIN, &body[..SEALED_HEADER_LEN]].concat();
    let mut sealed = Zeroizing::new(body[SEALED_HEADER_LEN..].to_vec());
    let opened = kek
        .open_in_place(nonce, Aad::from(aad), &mut sealed)
        .map_err(|_| RootKeyError::WrongPassphrase)?;
    if opened.len() != ROOT_KEY_LEN {
        return Err(corrupt("wrong key length"));
    }
    key.copy_from_slice(opened);
    Ok(key)
}

fn read_limited(path: &Path) -> io::Result<Zeroizing<Vec<u8>>> {
    let file = File::open(path)?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_FILE_LEN + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Writes `contents` to a new file at `path` (mode 0600) via a fsync'd temporary file in the same
/// directory. Returns `false`, leaving the existing file alone, if `path` appeared meanwhile.
fn write_new_file(path: &Path, contents: &[u8]) -> Result<bool, RootKeyError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "root key path has no file name",
        )
    })?;
    let mut suffix = [0u8; 8];
    fill_random(&mut suffix)?;
    let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{suffix}.tmp"));
    let tmp = dir.join(tmp_name);

    let result = write_and_link(&tmp, path, contents);
    // The temporary name is gone after a rename; otherwise remove it (best effort).
    let _ = fs::remove_file(&tmp);
    let created = result?;
    if created {
        File::open(&dir)?.sync_all()?;
    }
    Ok(created)
}

fn write_and_link(tmp: &Path, path: &Path, contents: &[u8]) -> Result<bool, RootKeyError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    // A hard link never replaces an existing file, unlike rename.
    match fs::hard_link(tmp, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        // File systems without hard links: fall back to an atomic rename.
        Err(_) => {
            fs::rename(tmp, path)?;
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams::INSECURE_FAST_FOR_TESTS;
    const AAD: &[u8] = b"trent/material/v1\0arn:aws:kms:us-east-1:111122223333:key/x\0ab";

    fn create(dir: &tempfile::TempDir, passphrase: Option<&[u8]>) -> (SealedFileRootKey, PathBuf) {
        let path = dir.path().join("root.key");
        let (key, created) =
            SealedFileRootKey::open_or_create_with_params(&path, passphrase, FAST).unwrap();
        assert!(created);
        (key, path)
    }

    #[test]
    fn create_then_reopen_round_trips_without_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let (key, path) = create(&dir, None);
        let wrapped = key.wrap(AAD, b"secret material").unwrap();
        assert_eq!(wrapped.len(), b"secret material".len() + WRAP_OVERHEAD);
        assert_eq!(wrapped[0], WRAP_FORMAT_VERSION);
        drop(key);

        let (reopened, created) = SealedFileRootKey::open_or_create(&path, None).unwrap();
        assert!(!created);
        assert_eq!(
            &reopened.unwrap(AAD, &wrapped).unwrap()[..],
            b"secret material"
        );
        let opened = SealedFileRootKey::open(&path, None).unwrap();
        assert_eq!(
            &opened.unwrap(AAD, &wrapped).unwrap()[..],
            b"secret material"
        );
        assert!(!opened.has_passphrase());
        assert_eq!(opened.path(), path);
        // Only the key file remains in the directory (no leftover temporary file).
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn create_then_reopen_round_trips_with_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let (key, path) = create(&dir, Some(b"correct horse"));
        assert!(key.has_passphrase());
        let wrapped = key.wrap(AAD, b"").unwrap();
        let (reopened, created) =
            SealedFileRootKey::open_or_create(&path, Some(b"correct horse")).unwrap();
        assert!(!created);
        assert!(reopened.unwrap(AAD, &wrapped).unwrap().is_empty());
        assert_eq!(fs::read(&path).unwrap().len(), SEALED_FILE_LEN);
    }

    #[test]
    fn independent_keys_differ() {
        let dir = tempfile::tempdir().unwrap();
        let (a, _) = create(&dir, None);
        let other = tempfile::tempdir().unwrap();
        let (b, _) = create(&other, None);
        let wrapped = a.wrap(AAD, b"x").unwrap();
        assert!(matches!(
            b.unwrap(AAD, &wrapped),
            Err(RootKeyError::UnwrapFailed)
        ));
        // Fresh nonces: wrapping twice differs.
        assert_ne!(a.wrap(AAD, b"x").unwrap(), wrapped);
    }

    #[cfg(unix)]
    #[test]
    fn created_file_has_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        for passphrase in [None, Some(&b"pw"[..])] {
            let dir = tempfile::tempdir().unwrap();
            let (_, path) = create(&dir, passphrase);
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
    }

    #[test]
    fn wrong_aad_fails() {
        let dir = tempfile::tempdir().unwrap();
        let (key, _) = create(&dir, None);
        let wrapped = key.wrap(AAD, b"secret").unwrap();
        for aad in [
            &b""[..],
            b"trent/material/v1\0",
            &AAD[..AAD.len() - 1],
            b"other",
        ] {
            assert!(matches!(
                key.unwrap(aad, &wrapped),
                Err(RootKeyError::UnwrapFailed)
            ));
        }
    }

    #[test]
    fn every_flipped_byte_and_truncation_fails() {
        let dir = tempfile::tempdir().unwrap();
        let (key, _) = create(&dir, None);
        let wrapped = key.wrap(AAD, b"secret").unwrap();
        for i in 0..wrapped.len() {
            let mut bad = wrapped.clone();
            bad[i] ^= 0x01;
            assert!(matches!(
                key.unwrap(AAD, &bad),
                Err(RootKeyError::UnwrapFailed)
            ));
        }
        for len in 0..wrapped.len() {
            assert!(matches!(
                key.unwrap(AAD, &wrapped[..len]),
                Err(RootKeyError::UnwrapFailed)
            ));
        }
    }

    #[test]
    fn wrong_passphrase_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (_, path) = create(&dir, Some(b"right"));
        assert!(matches!(
            SealedFileRootKey::open(&path, Some(b"wrong")),
            Err(RootKeyError::WrongPassphrase)
        ));
        assert!(matches!(
            SealedFileRootKey::open_or_create(&path, Some(b"wrong")),
            Err(RootKeyError::WrongPassphrase)
        ));
    }

    #[test]
    fn missing_passphrase_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (_, path) = create(&dir, Some(b"right"));
        assert!(matches!(
            SealedFileRootKey::open(&path, None),
            Err(RootKeyError::PassphraseRequired)
        ));
        assert!(matches!(
            SealedFileRootKey::open_or_create(&path, None),
            Err(RootKeyError::PassphraseRequired)
        ));
    }

    #[test]
    fn passphrase_for_unsealed_file_and_empty_passphrase_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (_, path) = create(&dir, None);
        assert!(matches!(
            SealedFileRootKey::open(&path, Some(b"pw")),
            Err(RootKeyError::PassphraseNotUsed)
        ));
        assert!(matches!(
            SealedFileRootKey::open(&path, Some(b"")),
            Err(RootKeyError::EmptyPassphrase)
        ));
        let fresh = dir.path().join("new.key");
        assert!(matches!(
            SealedFileRootKey::open_or_create(&fresh, Some(b"")),
            Err(RootKeyError::EmptyPassphrase)
        ));
        assert!(!fresh.exists());
    }

    #[test]
    fn truncated_or_garbled_files_are_corrupt() {
        for passphrase in [None, Some(&b"pw"[..])] {
            let dir = tempfile::tempdir().unwrap();
            let (_, path) = create(&dir, passphrase);
            let good = fs::read(&path).unwrap();
            for len in 0..good.len() {
                fs::write(&path, &good[..len]).unwrap();
                assert!(
                    matches!(
                        SealedFileRootKey::open(&path, passphrase),
                        Err(RootKeyError::Corrupt(_))
                    ),
                    "truncated to {len}"
                );
            }
            for i in 0..good.len() {
                let mut bad = good.clone();
                bad[i] ^= 0x40;
                fs::write(&path, &bad).unwrap();
                assert!(
                    matches!(
                        SealedFileRootKey::open(&path, passphrase),
                        Err(RootKeyError::Corrupt(_))
                    ),
                    "flipped byte {i}"
                );
            }
            let mut longer = good.clone();
            longer.push(0);
            fs::write(&path, &longer).unwrap();
            assert!(matches!(
                SealedFileRootKey::open(&path, passphrase),
                Err(RootKeyError::Corrupt(_))
            ));
            // The original still opens.
            fs::write(&path, &good).unwrap();
            SealedFileRootKey::open(&path, passphrase).unwrap();
        }
    }

    #[test]
    fn open_of_missing_file_is_io_not_found() {
        let dir = tempfile::tempdir().unwrap();
        match SealedFileRootKey::open(&dir.path().join("absent"), None) {
            Err(RootKeyError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::NotFound),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn file_stores_its_kdf_params() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        let params = KdfParams {
            m_cost_kib: 16,
            t_cost: 2,
            p_cost: 2,
        };
        SealedFileRootKey::open_or_create_with_params(&path, Some(b"pw"), params).unwrap();
        let bytes = fs::read(&path).unwrap();
        assert_eq!(&bytes[10..22], &[0, 0, 0, 16, 0, 0, 0, 2, 0, 0, 0, 2]);
        // Opening ignores the creation defaults and uses the stored parameters.
        SealedFileRootKey::open(&path, Some(b"pw")).unwrap();
        assert_eq!(KdfParams::default(), KdfParams::DEFAULT);
        assert_eq!(KdfParams::DEFAULT.m_cost_kib, 65536);
    }

    #[test]
    fn invalid_kdf_params_are_refused_at_creation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        let params = KdfParams {
            m_cost_kib: 1,
            t_cost: 0,
            p_cost: 1,
        };
        assert!(matches!(
            SealedFileRootKey::open_or_create_with_params(&path, Some(b"pw"), params),
            Err(RootKeyError::Internal(_))
        ));
        assert!(!path.exists());
    }

    #[test]
    fn debug_and_describe_never_show_the_key() {
        for passphrase in [None, Some(&b"hunter2-passphrase"[..])] {
            let dir = tempfile::tempdir().unwrap();
            let (key, path) = create(&dir, passphrase);
            let raw = decode_file(&fs::read(&path).unwrap(), passphrase).unwrap();
            let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
            let decimal = format!("{:?}", &raw[..]);
            for text in [format!("{key:?}"), format!("{key:#?}"), key.describe()] {
                assert!(!text.contains(&hex));
                assert!(!text.contains(&decimal[1..decimal.len() - 1]));
                assert!(!text.contains("hunter2"));
            }
            assert!(format!("{key:?}").contains("redacted"));
            let expected = format!(
                "sealed file {} (passphrase: {})",
                path.display(),
                if passphrase.is_some() { "yes" } else { "no" }
            );
            assert_eq!(key.describe(), expected);
        }
    }

    #[test]
    fn provider_is_object_safe() {
        let dir = tempfile::tempdir().unwrap();
        let (key, _) = create(&dir, None);
        let provider: std::sync::Arc<dyn RootKeyProvider> = std::sync::Arc::new(key);
        let wrapped = provider.wrap(b"a", b"b").unwrap();
        assert_eq!(&provider.unwrap(b"a", &wrapped).unwrap()[..], b"b");
    }

    #[test]
    fn writer_never_replaces_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        assert!(write_new_file(&path, b"first").unwrap());
        assert!(!write_new_file(&path, b"second").unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"first");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
