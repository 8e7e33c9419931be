//! The only `unsafe` code of the host: the few CryptoAPI calls that read the current user's
//! certificate store, and the CryptoAPI and CNG (NCrypt) calls that sign with a key kept in a
//! CryptoAPI container or by a CNG key storage provider, behind safe wrappers.
//!
//! Every handle is owned by a value that releases it when dropped; every buffer's length comes
//! from the call that fills it; no pointer outlives the call that produced it (certificate bytes
//! and property strings are copied out before the context is freed). The key never leaves its
//! container: only hashes go in and signatures come out.
#![allow(unsafe_code)]

use std::ptr;

#[cfg(test)]
use super::store_error::Cause;
use super::store_error::StoreError;

use windows_sys::Win32::Foundation::GetLastError;
use windows_sys::Win32::Security::Cryptography::{
    AT_KEYEXCHANGE, AT_SIGNATURE, BCRYPT_PAD_PKCS1, BCRYPT_PKCS1_PADDING_INFO,
    BCRYPT_SHA1_ALGORITHM, BCRYPT_SHA256_ALGORITHM, CALG_SHA_256, CALG_SHA1, CERT_CONTEXT,
    CERT_KEY_PROV_INFO_PROP_ID, CERT_STORE_OPEN_EXISTING_FLAG, CERT_STORE_PROV_SYSTEM_W,
    CERT_STORE_READONLY_FLAG, CERT_SYSTEM_STORE_CURRENT_USER, CRYPT_KEY_PROV_INFO,
    CRYPT_MACHINE_KEYSET, CRYPT_SILENT, CertCloseStore, CertEnumCertificatesInStore,
    CertGetCertificateContextProperty, CertOpenStore, CryptAcquireContextW, CryptCreateHash,
    CryptDestroyHash, CryptReleaseContext, CryptSetHashParam, CryptSignHashW, HCERTSTORE,
    HP_HASHVAL, MS_ENH_RSA_AES_PROV_W, NCRYPT_MACHINE_KEY_FLAG, NCRYPT_SILENT_FLAG,
    NCryptFreeObject, NCryptOpenKey, NCryptOpenStorageProvider, NCryptSignHash, PROV_RSA_AES,
};

/// Where a certificate's private key is kept, from its key-provider property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyContainer {
    /// The container's name.
    pub container: String,
    /// The provider's name (`Microsoft Enhanced Cryptographic Provider v1.0`, a smart-card
    /// provider, or a CNG key storage provider).
    pub provider: String,
    /// The provider type; 0 for a CNG key storage provider.
    pub provider_type: u32,
    /// `AT_KEYEXCHANGE` or `AT_SIGNATURE` (CryptoAPI), 0 for CNG.
    pub key_spec: u32,
    /// Whether the container is the machine's rather than the user's.
    pub machine: bool,
}

/// One certificate of a store, copied out.
#[derive(Debug, Clone)]
pub(super) struct StoredCertificate {
    /// The certificate (DER).
    pub der: Vec<u8>,
    /// Where its private key is, when the store says it has one.
    pub key: Option<KeyContainer>,
}

/// An open system store of the current user, read-only.
struct Store(HCERTSTORE);

/// `ERROR_FILE_NOT_FOUND`: the store has never been written (a user who never had a
/// certificate of that kind).
const STORE_NOT_FOUND: u32 = 2;

impl Store {
    /// Opens the store `name`; `None` when it does not exist yet.
    fn open(name: &str) -> Result<Option<Store>, StoreError> {
        let wide = wide(name);
        // SAFETY: `wide` is a NUL-terminated UTF-16 string that lives across the call; the flags
        // ask for an existing store, read-only.
        let handle = unsafe {
            CertOpenStore(
                CERT_STORE_PROV_SYSTEM_W,
                0,
                0,
                CERT_SYSTEM_STORE_CURRENT_USER
                    | CERT_STORE_READONLY_FLAG
                    | CERT_STORE_OPEN_EXISTING_FLAG,
                wide.as_ptr().cast(),
            )
        };
        if !handle.is_null() {
            return Ok(Some(Store(handle)));
        }
        // SAFETY: reads the calling thread's last error, no arguments.
        if unsafe { GetLastError() } == STORE_NOT_FOUND {
            return Ok(None);
        }
        Err(last_error(&format!("opening the certificate store {name}")))
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // SAFETY: the handle came from CertOpenStore and is closed once.
        unsafe { CertCloseStore(self.0, 0) };
    }
}

/// Every certificate in the current user's store `name` (`My`, `CA`, `Root`).
/// A store that does not exist yet holds none.
pub(super) fn certificates(name: &str) -> Result<Vec<StoredCertificate>, StoreError> {
    let Some(store) = Store::open(name)? else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    let mut context: *const CERT_CONTEXT = ptr::null();
    loop {
        // SAFETY: `context` is null or the previous context of this enumeration, which the call
        // frees; the store is open.
        context = unsafe { CertEnumCertificatesInStore(store.0, context) };
        if context.is_null() {
            break;
        }
        // SAFETY: a non-null context from the enumeration points at a valid CERT_CONTEXT whose
        // encoded bytes are `cbCertEncoded` long; they are copied before the next call.
        let der = unsafe {
            let cert = &*context;
            std::slice::from_raw_parts(cert.pbCertEncoded, cert.cbCertEncoded as usize).to_vec()
        };
        found.push(StoredCertificate {
            der,
            key: key_container(context),
        });
    }
    Ok(found)
}

/// The key-provider property of a certificate context, copied out.
fn key_container(context: *const CERT_CONTEXT) -> Option<KeyContainer> {
    let mut size = 0u32;
    // SAFETY: a size query (null buffer) on a valid context.
    let known = unsafe {
        CertGetCertificateContextProperty(
            context,
            CERT_KEY_PROV_INFO_PROP_ID,
            ptr::null_mut(),
            &mut size,
        )
    };
    if known == 0 || (size as usize) < std::mem::size_of::<CRYPT_KEY_PROV_INFO>() {
        return None;
    }
    // u64 words: aligned for the structure at the start of the buffer.
    let mut buffer = vec![0u64; (size as usize).div_ceil(8)];
    // SAFETY: the buffer holds `size` bytes, as the size query asked.
    let filled = unsafe {
        CertGetCertificateContextProperty(
            context,
            CERT_KEY_PROV_INFO_PROP_ID,
            buffer.as_mut_ptr().cast(),
            &mut size,
        )
    };
    if filled == 0 {
        return None;
    }
    // SAFETY: the call wrote a CRYPT_KEY_PROV_INFO at the start of the aligned buffer; its
    // strings point into the same buffer (or are null) and are read before it is dropped.
    let info = unsafe { &*buffer.as_ptr().cast::<CRYPT_KEY_PROV_INFO>() };
    Some(KeyContainer {
        container: unsafe { from_wide(info.pwszContainerName) },
        provider: unsafe { from_wide(info.pwszProvName) },
        provider_type: info.dwProvType,
        key_spec: info.dwKeySpec,
        machine: info.dwFlags & CRYPT_MACHINE_KEYSET != 0,
    })
}

/// The digests a container signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    /// SHA-1 (20 bytes).
    Sha1,
    /// SHA-256 (32 bytes).
    Sha256,
}

/// A key opened for signing, without any prompt: a CryptoAPI container (what CAISO's Edge
/// enrolment makes) or a key of a CNG key storage provider (the software KSP, a smart card's,
/// a TPM's).
#[derive(Debug)]
pub(super) struct Container {
    handle: KeyHandle,
}

#[derive(Debug)]
enum KeyHandle {
    /// A CryptoAPI provider handle and the key's spec in its container.
    Capi { provider: usize, key_spec: u32 },
    /// NCrypt handles: the key and the storage provider it was opened from.
    Cng { provider: usize, key: usize },
}

// A provider handle is a number the provider resolves; callers serialise its use (a Mutex).
impl Container {
    /// Opens `key`'s container. CryptoAPI containers (what CAISO's enrolment makes) are opened
    /// with the "Enhanced RSA and AES" provider, which also signs SHA-256 (the legacy provider
    /// they were made with only signs SHA-1); a container of any other provider type, a smart
    /// card's say, is opened with its own provider.
    ///
    /// A CNG key (provider type 0) is opened through NCrypt by its provider and key name.
    pub(super) fn open(key: &KeyContainer) -> Result<Container, StoreError> {
        if key.provider_type == 0 {
            return Container::open_cng(key);
        }
        if key.key_spec != AT_KEYEXCHANGE && key.key_spec != AT_SIGNATURE {
            return Err(StoreError::Invalid(format!(
                "unexpected key spec {}",
                key.key_spec
            )));
        }
        let container = wide(&key.container);
        let flags = CRYPT_SILENT | if key.machine { CRYPT_MACHINE_KEYSET } else { 0 };
        let open = |provider: *const u16, provider_type: u32| {
            let mut handle = 0usize;
            // SAFETY: both strings are NUL-terminated UTF-16 that live across the call; the
            // handle is written on success only.
            let ok = unsafe {
                CryptAcquireContextW(
                    &mut handle,
                    container.as_ptr(),
                    provider,
                    provider_type,
                    flags,
                )
            };
            (ok != 0).then_some(handle)
        };
        let rsa_full = 1;
        let own_provider = wide(&key.provider);
        let handle = if key.provider_type == rsa_full || key.provider_type == PROV_RSA_AES {
            open(MS_ENH_RSA_AES_PROV_W, PROV_RSA_AES)
        } else {
            None
        }
        .or_else(|| open(own_provider.as_ptr(), key.provider_type))
        .ok_or_else(|| last_error(&format!("opening the key container of {}", key.provider)))?;
        Ok(Container {
            handle: KeyHandle::Capi {
                provider: handle,
                key_spec: key.key_spec,
            },
        })
    }

    /// Opens a key of a CNG key storage provider, silently (a smart card that needs its PIN
    /// says so instead of prompting inside a process nobody sees).
    fn open_cng(key: &KeyContainer) -> Result<Container, StoreError> {
        let provider = storage_provider(&key.provider)?;
        let name = wide(&key.container);
        let flags = NCRYPT_SILENT_FLAG
            | if key.machine {
                NCRYPT_MACHINE_KEY_FLAG
            } else {
                0
            };
        let mut handle = 0usize;
        // SAFETY: a provider handle just opened; `name` is NUL-terminated UTF-16 that lives
        // across the call; the key handle is written on success only.
        let status = unsafe { NCryptOpenKey(provider.0, &mut handle, name.as_ptr(), 0, flags) };
        checked(
            status,
            &format!("opening the key of {} (CNG)", key.provider),
        )?;
        Ok(Container {
            handle: KeyHandle::Cng {
                provider: provider.release(),
                key: handle,
            },
        })
    }

    /// The PKCS#1 v1.5 signature (big-endian, as everyone but CryptoAPI writes it) of a digest
    /// computed by the caller.
    pub(super) fn sign_digest(&self, digest: Digest, value: &[u8]) -> Result<Vec<u8>, StoreError> {
        let length = match digest {
            Digest::Sha1 => 20,
            Digest::Sha256 => 32,
        };
        if value.len() != length {
            return Err(StoreError::Invalid(format!(
                "a {digest:?} digest is {length} bytes"
            )));
        }
        match self.handle {
            KeyHandle::Capi { provider, key_spec } => capi_sign(provider, key_spec, digest, value),
            KeyHandle::Cng { key, .. } => cng_sign(key, digest, value),
        }
    }
}

/// Signs a digest with a CryptoAPI container's key.
fn capi_sign(
    provider: usize,
    key_spec: u32,
    digest: Digest,
    value: &[u8],
) -> Result<Vec<u8>, StoreError> {
    let algorithm = match digest {
        Digest::Sha1 => CALG_SHA1,
        Digest::Sha256 => CALG_SHA_256,
    };
    let hash = Hash::create(provider, algorithm)?;
    // SAFETY: HP_HASHVAL takes a buffer of the digest length, which sign_digest checked.
    if unsafe { CryptSetHashParam(hash.0, HP_HASHVAL, value.as_ptr(), 0) } == 0 {
        return Err(last_error("setting the digest"));
    }
    let mut size = 0u32;
    // SAFETY: a size query (null buffer) on a valid hash.
    if unsafe { CryptSignHashW(hash.0, key_spec, ptr::null(), 0, ptr::null_mut(), &mut size) } == 0
    {
        return Err(last_error("signing"));
    }
    let mut signature = vec![0u8; size as usize];
    // SAFETY: the buffer holds `size` bytes, as the size query asked.
    if unsafe {
        CryptSignHashW(
            hash.0,
            key_spec,
            ptr::null(),
            0,
            signature.as_mut_ptr(),
            &mut size,
        )
    } == 0
    {
        return Err(last_error("signing"));
    }
    signature.truncate(size as usize);
    // CryptoAPI writes the signature little-endian.
    signature.reverse();
    Ok(signature)
}

/// Signs a digest with a CNG key: PKCS#1 v1.5 padding, big-endian as written.
fn cng_sign(key: usize, digest: Digest, value: &[u8]) -> Result<Vec<u8>, StoreError> {
    let padding = BCRYPT_PKCS1_PADDING_INFO {
        pszAlgId: match digest {
            Digest::Sha1 => BCRYPT_SHA1_ALGORITHM,
            Digest::Sha256 => BCRYPT_SHA256_ALGORITHM,
        },
    };
    let flags = BCRYPT_PAD_PKCS1 | NCRYPT_SILENT_FLAG;
    let info = (&raw const padding).cast::<core::ffi::c_void>();
    // A size query with an empty buffer (null), then the signature into a buffer of that size.
    let sign = |into: &mut [u8], size: &mut u32| {
        let buffer = if into.is_empty() {
            ptr::null_mut()
        } else {
            into.as_mut_ptr()
        };
        // SAFETY: a valid key handle; `padding` names a static algorithm string and outlives
        // the call; the digest's length was checked by the caller; `buffer` is null or holds
        // `into.len()` bytes.
        unsafe {
            NCryptSignHash(
                key,
                info,
                value.as_ptr(),
                value.len() as u32,
                buffer,
                into.len() as u32,
                size,
                flags,
            )
        }
    };
    let mut size = 0u32;
    checked(sign(&mut [], &mut size), "signing (CNG)")?;
    let mut signature = vec![0u8; size as usize];
    checked(sign(&mut signature, &mut size), "signing (CNG)")?;
    signature.truncate(size as usize);
    Ok(signature)
}

impl Drop for Container {
    fn drop(&mut self) {
        match self.handle {
            // SAFETY: the handle came from CryptAcquireContextW and is released once.
            KeyHandle::Capi { provider, .. } => unsafe {
                CryptReleaseContext(provider, 0);
            },
            // SAFETY: both handles came from NCrypt and are freed once, the key first.
            KeyHandle::Cng { provider, key } => unsafe {
                NCryptFreeObject(key);
                NCryptFreeObject(provider);
            },
        }
    }
}

/// An NCrypt storage provider handle, freed when dropped unless released to a key's owner.
struct StorageProvider(usize);

impl StorageProvider {
    /// The handle, now the caller's to free.
    fn release(self) -> usize {
        let handle = self.0;
        std::mem::forget(self);
        handle
    }
}

impl Drop for StorageProvider {
    fn drop(&mut self) {
        // SAFETY: the handle came from NCryptOpenStorageProvider and is freed once.
        unsafe { NCryptFreeObject(self.0) };
    }
}

/// Opens the CNG key storage provider `name`.
fn storage_provider(name: &str) -> Result<StorageProvider, StoreError> {
    let wide_name = wide(name);
    let mut handle = 0usize;
    // SAFETY: `wide_name` is NUL-terminated UTF-16 that lives across the call; the handle is
    // written on success only.
    let status = unsafe { NCryptOpenStorageProvider(&mut handle, wide_name.as_ptr(), 0) };
    checked(status, &format!("opening the key storage provider {name}"))?;
    Ok(StorageProvider(handle))
}

/// An NCrypt status as a result.
fn checked(status: i32, what: &str) -> Result<(), StoreError> {
    if status == 0 {
        Ok(())
    } else {
        Err(StoreError::failed(what, status as u32))
    }
}

/// A hash object, destroyed when dropped.
struct Hash(usize);

impl Hash {
    fn create(provider: usize, algorithm: u32) -> Result<Hash, StoreError> {
        let mut handle = 0usize;
        // SAFETY: a valid provider handle; the hash handle is written on success only.
        if unsafe { CryptCreateHash(provider, algorithm, 0, 0, &mut handle) } == 0 {
            return Err(last_error("creating a hash"));
        }
        Ok(Hash(handle))
    }
}

impl Drop for Hash {
    fn drop(&mut self) {
        // SAFETY: the handle came from CryptCreateHash and is destroyed once.
        unsafe { CryptDestroyHash(self.0) };
    }
}

fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

/// # Safety
/// `text` is null or points at a NUL-terminated UTF-16 string.
unsafe fn from_wide(text: *const u16) -> String {
    if text.is_null() {
        return String::new();
    }
    let mut length = 0;
    // SAFETY: the caller promises a NUL-terminated string: reading stops at the NUL.
    while unsafe { *text.add(length) } != 0 {
        length += 1;
    }
    // SAFETY: `length` units were just read.
    String::from_utf16_lossy(unsafe { std::slice::from_raw_parts(text, length) })
}

fn last_error(what: &str) -> StoreError {
    // SAFETY: reads the calling thread's last error, no arguments.
    StoreError::failed(what, unsafe { GetLastError() })
}

/// A key imported into the software key storage provider for this process only: what the
/// tests sign with, since Wine keeps no named CNG keys to open.
#[cfg(test)]
impl Container {
    fn imported_cng(blob: &[u8]) -> Result<Container, StoreError> {
        use windows_sys::Win32::Security::Cryptography::{BCRYPT_RSAPRIVATE_BLOB, NCryptImportKey};
        let provider = storage_provider("Microsoft Software Key Storage Provider")?;
        let mut key = 0usize;
        // SAFETY: `blob` is a BCRYPT_RSAKEY_BLOB of `blob.len()` bytes that lives across the
        // call; the key handle is written on success only.
        let status = unsafe {
            NCryptImportKey(
                provider.0,
                0,
                BCRYPT_RSAPRIVATE_BLOB,
                ptr::null(),
                &mut key,
                blob.as_ptr(),
                blob.len() as u32,
                NCRYPT_SILENT_FLAG,
            )
        };
        checked(status, "importing a test key (CNG)")?;
        Ok(Container {
            handle: KeyHandle::Cng {
                provider: provider.release(),
                key,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The BCRYPT_RSAKEY_BLOB of a PVK file's key (the test PKI's, made by openssl): CryptoAPI's
    /// little-endian modulus and primes, turned big-endian after CNG's header.
    fn rsa_private_blob(pvk: &[u8]) -> Vec<u8> {
        let word = |bytes: &[u8], at: usize| {
            u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
        };
        let salt = word(pvk, 16) as usize;
        // BLOBHEADER (8 bytes), then RSAPUBKEY: magic, bit length, public exponent.
        let key = &pvk[24 + salt..];
        let bits = word(key, 12) as usize;
        let exponent: Vec<u8> = word(key, 16)
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        let (modulus, half) = (bits / 8, bits / 16);
        let big_endian = |at: usize, length: usize| key[at..at + length].iter().rev().copied();
        let mut blob = Vec::new();
        for value in [
            windows_sys::Win32::Security::Cryptography::BCRYPT_RSAPRIVATE_MAGIC,
            bits as u32,
            exponent.len() as u32,
            modulus as u32,
            half as u32,
            half as u32,
        ] {
            blob.extend_from_slice(&value.to_le_bytes());
        }
        blob.extend_from_slice(&exponent);
        blob.extend(big_endian(20, modulus));
        blob.extend(big_endian(20 + modulus, half));
        blob.extend(big_endian(20 + modulus + half, half));
        blob
    }

    fn store_fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/pki/store")
            .join(name);
        std::fs::read(path).expect("fixture")
    }

    /// A CNG key signs the digests WS-Security and TLS 1.2 need (PKCS#1 v1.5 with SHA-1 and
    /// SHA-256), and the signatures verify with its certificate's public key (ring).
    #[test]
    fn a_cng_key_signs_sha1_and_sha256_digests_its_certificate_verifies() {
        let key = Container::imported_cng(&rsa_private_blob(&store_fixture("valid.pvk")))
            .expect("imported");
        let public = crate::identity::certificate::rsa_public_key(&store_fixture("valid.der"))
            .expect("an RSA certificate");
        let message = b"caiso-access: a CNG signature";
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, message);
        let sha256 = ring::digest::digest(&ring::digest::SHA256, message);
        let cases: [(Digest, &[u8], &ring::signature::RsaParameters); 2] = [
            (
                Digest::Sha1,
                sha1.as_ref(),
                &ring::signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            ),
            (
                Digest::Sha256,
                sha256.as_ref(),
                &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            ),
        ];
        for (digest, value, check) in cases {
            let signature = key.sign_digest(digest, value).expect("signs");
            ring::signature::UnparsedPublicKey::new(check, &public)
                .verify(message, &signature)
                .unwrap_or_else(|_| panic!("the {digest:?} signature verifies"));
        }
        let error = key
            .sign_digest(Digest::Sha256, sha1.as_ref())
            .expect_err("a SHA-1 digest is no SHA-256 digest");
        assert!(
            matches!(&error, StoreError::Invalid(why) if why.contains("32 bytes")),
            "{error}"
        );
    }

    /// A CNG key is opened through NCrypt by provider and name; when that fails the message
    /// names the provider and the cause (under Wine, which keeps no named CNG keys, "does not
    /// support this"; on Windows a missing key is "does not exist").
    #[test]
    fn a_cng_key_that_cannot_be_opened_says_where_and_why() {
        let missing = KeyContainer {
            container: "caiso-access-no-such-key".into(),
            provider: "Microsoft Software Key Storage Provider".into(),
            provider_type: 0,
            key_spec: 0,
            machine: false,
        };
        let error = Container::open(&missing).expect_err("no such key");
        let StoreError::Failed { what, code, cause } = &error else {
            panic!("a failed call: {error:?}");
        };
        assert_eq!(
            what,
            "opening the key of Microsoft Software Key Storage Provider (CNG)"
        );
        assert_eq!(code >> 16, 0x8009, "an NTE_ code: {error}");
        assert!(
            matches!(cause, Cause::KeyNotFound | Cause::Unsupported),
            "the cause named: {error:?}"
        );
        assert!(
            error.to_string().ends_with(')'),
            "the cause in words: {error}"
        );
        let unknown = KeyContainer {
            provider: "caiso-access No Such Key Storage Provider".into(),
            ..missing
        };
        // Windows refuses the provider itself; Wine opens any name and refuses the key.
        let error = Container::open(&unknown)
            .expect_err("no such provider")
            .to_string();
        assert!(
            error.contains("caiso-access No Such Key Storage Provider")
                && error.contains("failed: 0x8009"),
            "{error}"
        );
    }

    /// A user who never had a certificate has no `My` store yet: that is an empty list, not an
    /// error (found when a fresh Wine prefix was asked before any certificate was added).
    #[test]
    fn a_store_never_written_holds_no_certificates() {
        let listed = certificates("caiso-access-test-never-written").expect("no error");
        assert!(listed.is_empty());
    }
}
