//! The only `unsafe` code of the host: the few CryptoAPI calls that read the current user's
//! certificate store and sign with a key kept in a CryptoAPI container, behind safe wrappers.
//!
//! Every handle is owned by a value that releases it when dropped; every buffer's length comes
//! from the call that fills it; no pointer outlives the call that produced it (certificate bytes
//! and property strings are copied out before the context is freed). The key never leaves its
//! container: only hashes go in and signatures come out.
#![allow(unsafe_code)]

use std::ptr;

use windows_sys::Win32::Foundation::GetLastError;
use windows_sys::Win32::Security::Cryptography::{
    AT_KEYEXCHANGE, AT_SIGNATURE, CALG_SHA_256, CALG_SHA1, CERT_CONTEXT,
    CERT_KEY_PROV_INFO_PROP_ID, CERT_STORE_OPEN_EXISTING_FLAG, CERT_STORE_PROV_SYSTEM_W,
    CERT_STORE_READONLY_FLAG, CERT_SYSTEM_STORE_CURRENT_USER, CRYPT_KEY_PROV_INFO,
    CRYPT_MACHINE_KEYSET, CRYPT_SILENT, CertCloseStore, CertEnumCertificatesInStore,
    CertGetCertificateContextProperty, CertOpenStore, CryptAcquireContextW, CryptCreateHash,
    CryptDestroyHash, CryptReleaseContext, CryptSetHashParam, CryptSignHashW, HCERTSTORE,
    HP_HASHVAL, MS_ENH_RSA_AES_PROV_W, PROV_RSA_AES,
};

/// Where a certificate's private key is kept, from its key-provider property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyContainer {
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
pub struct StoredCertificate {
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
    fn open(name: &str) -> Result<Option<Store>, String> {
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
pub fn certificates(name: &str) -> Result<Vec<StoredCertificate>, String> {
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

/// A CryptoAPI key container opened for signing, without any prompt.
#[derive(Debug)]
pub struct Container {
    provider: usize,
    key_spec: u32,
}

// A provider handle is a number the provider resolves; callers serialise its use (a Mutex).
impl Container {
    /// Opens `key`'s container. CryptoAPI containers (what CAISO's enrolment makes) are opened
    /// with the "Enhanced RSA and AES" provider, which also signs SHA-256 (the legacy provider
    /// they were made with only signs SHA-1); a container of any other provider type, a smart
    /// card's say, is opened with its own provider.
    pub fn open(key: &KeyContainer) -> Result<Container, String> {
        if key.provider_type == 0 {
            return Err(format!(
                "the key is kept by {} (a CNG key storage provider, a smart card or a TPM), which this version cannot use",
                key.provider
            ));
        }
        if key.key_spec != AT_KEYEXCHANGE && key.key_spec != AT_SIGNATURE {
            return Err(format!("unexpected key spec {}", key.key_spec));
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
            provider: handle,
            key_spec: key.key_spec,
        })
    }

    /// The PKCS#1 v1.5 signature (big-endian, as everyone but CryptoAPI writes it) of a digest
    /// computed by the caller.
    pub fn sign_digest(&self, digest: Digest, value: &[u8]) -> Result<Vec<u8>, String> {
        let (algorithm, length) = match digest {
            Digest::Sha1 => (CALG_SHA1, 20),
            Digest::Sha256 => (CALG_SHA_256, 32),
        };
        if value.len() != length {
            return Err(format!("a {digest:?} digest is {length} bytes"));
        }
        let hash = Hash::create(self.provider, algorithm)?;
        // SAFETY: HP_HASHVAL takes a buffer of the algorithm's digest length, checked above.
        if unsafe { CryptSetHashParam(hash.0, HP_HASHVAL, value.as_ptr(), 0) } == 0 {
            return Err(last_error("setting the digest"));
        }
        let mut size = 0u32;
        // SAFETY: a size query (null buffer) on a valid hash.
        if unsafe {
            CryptSignHashW(
                hash.0,
                self.key_spec,
                ptr::null(),
                0,
                ptr::null_mut(),
                &mut size,
            )
        } == 0
        {
            return Err(last_error("signing"));
        }
        let mut signature = vec![0u8; size as usize];
        // SAFETY: the buffer holds `size` bytes, as the size query asked.
        if unsafe {
            CryptSignHashW(
                hash.0,
                self.key_spec,
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
}

impl Drop for Container {
    fn drop(&mut self) {
        // SAFETY: the handle came from CryptAcquireContextW and is released once.
        unsafe { CryptReleaseContext(self.provider, 0) };
    }
}

/// A hash object, destroyed when dropped.
struct Hash(usize);

impl Hash {
    fn create(provider: usize, algorithm: u32) -> Result<Hash, String> {
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

fn last_error(what: &str) -> String {
    // SAFETY: reads the calling thread's last error, no arguments.
    let code = unsafe { GetLastError() };
    let meaning = match code {
        0x8009_0016 => " (the key container does not exist)",
        0x8009_000B => " (the key cannot be used in this way)",
        0x8009_0008 => " (the provider cannot sign with this digest)",
        0x8009_0027 | 0x8009_0022 => " (the provider needs to ask, and this process cannot)",
        0x8000_0002 => " (the store does not exist)",
        _ => "",
    };
    format!("{what} failed: 0x{code:08X}{meaning}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A user who never had a certificate has no `My` store yet: that is an empty list, not an
    /// error (found when a fresh Wine prefix was asked before any certificate was added).
    #[test]
    fn a_store_never_written_holds_no_certificates() {
        let listed = certificates("caiso-access-test-never-written").expect("no error");
        assert!(listed.is_empty());
    }
}
