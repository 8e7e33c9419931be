/*
 * store-fixture: puts a certificate and its key into the current user's Windows certificate
 * store the way CAISO's enrolment leaves them (Edge in IE mode, "Microsoft Enhanced
 * Cryptographic Provider"): the key in a legacy CryptoAPI container of its own, not exportable,
 * the certificate in "My" pointing at that container. Written in C against CryptoAPI directly,
 * apart from the host's Rust code, so the host's store support is tested against fixtures it did
 * not make. Built with MinGW by xtask (windows_test.rs); used by the host's Windows tests.
 *
 *   store-fixture add <key.pvk> <certificate.der> <container>
 *       PVK from `openssl rsa -outform PVK -pvk-none`; the key is imported not exportable.
 *   store-fixture cng <certificate.der> <key name>
 *       adds the certificate to "My" with the key-provider property Windows gives a key of a CNG
 *       key storage provider (the software KSP; a smart card's looks the same): provider type 0,
 *       key spec 0. The key itself is not made: Wine 8's NCrypt keeps no named keys.
 *   store-fixture ca <certificate.der>
 *       adds an issuing CA to the current user's intermediate store ("CA").
 *   store-fixture export <container>
 *       tries to export the container's private key; exit 0 when Windows refuses (prints the
 *       error), 1 when the key came out.
 *
 * Exit status 2 and a message on stderr for anything else that fails.
 */
#include <windows.h>
#include <wincrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

static int fail(const char *what) {
    fprintf(stderr, "store-fixture: %s failed: 0x%08lx\n", what, (unsigned long)GetLastError());
    return 2;
}

static BYTE *read_file(const wchar_t *path, DWORD *size) {
    FILE *f = _wfopen(path, L"rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long length = ftell(f);
    fseek(f, 0, SEEK_SET);
    BYTE *data = malloc(length > 0 ? (size_t)length : 1);
    if (data && fread(data, 1, (size_t)length, f) != (size_t)length) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = (DWORD)length;
    return data;
}

/* PVK header: magic, reserved, key type, encrypted, salt length, key length (little-endian). */
#define PVK_MAGIC 0xb0b5f11eu
#define PVK_HEADER 24

/* Adds a certificate to the current user's store `name`, with its key-provider property when
 * `info` is given, and commits the store. */
static int put_certificate(const wchar_t *name, const BYTE *cert, DWORD cert_size,
                           const CRYPT_KEY_PROV_INFO *info) {
    HCERTSTORE store = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0,
                                     CERT_SYSTEM_STORE_CURRENT_USER, name);
    if (!store) return fail("CertOpenStore");
    PCCERT_CONTEXT context = NULL;
    if (!CertAddEncodedCertificateToStore(store, X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, cert,
                                          cert_size, CERT_STORE_ADD_REPLACE_EXISTING, &context))
        return fail("CertAddEncodedCertificateToStore");
    if (info && !CertSetCertificateContextProperty(context, CERT_KEY_PROV_INFO_PROP_ID, 0, info))
        return fail("CertSetCertificateContextProperty(CERT_KEY_PROV_INFO_PROP_ID)");
    CertFreeCertificateContext(context);
    if (!CertControlStore(store, 0, CERT_STORE_CTRL_COMMIT, NULL))
        return fail("CertControlStore(COMMIT)");
    CertCloseStore(store, 0);
    return 0;
}

static int add(const wchar_t *pvk_path, const wchar_t *cert_path, const wchar_t *container) {
    DWORD pvk_size = 0, cert_size = 0;
    BYTE *pvk = read_file(pvk_path, &pvk_size);
    BYTE *cert = read_file(cert_path, &cert_size);
    if (!pvk || !cert) {
        fprintf(stderr, "store-fixture: cannot read the key or certificate file\n");
        return 2;
    }
    DWORD *header = (DWORD *)pvk;
    if (pvk_size < PVK_HEADER || header[0] != PVK_MAGIC || header[3] != 0 ||
        PVK_HEADER + header[4] + header[5] > pvk_size) {
        fprintf(stderr, "store-fixture: not an unencrypted PVK file\n");
        return 2;
    }
    DWORD key_spec = header[2]; /* AT_KEYEXCHANGE (1) or AT_SIGNATURE (2) */
    BYTE *blob = pvk + PVK_HEADER + header[4];
    DWORD blob_size = header[5];

    HCRYPTPROV prov = 0;
    if (!CryptAcquireContextW(&prov, container, MS_ENHANCED_PROV_W, PROV_RSA_FULL,
                              CRYPT_NEWKEYSET))
        return fail("CryptAcquireContextW(CRYPT_NEWKEYSET)");
    HCRYPTKEY key = 0;
    if (!CryptImportKey(prov, blob, blob_size, 0, 0 /* not CRYPT_EXPORTABLE */, &key))
        return fail("CryptImportKey");
    CryptDestroyKey(key);
    CryptReleaseContext(prov, 0);

    CRYPT_KEY_PROV_INFO info = {0};
    info.pwszContainerName = (LPWSTR)container;
    info.pwszProvName = (LPWSTR)MS_ENHANCED_PROV_W;
    info.dwProvType = PROV_RSA_FULL;
    info.dwKeySpec = key_spec;
    int status = put_certificate(L"My", cert, cert_size, &info);
    free(pvk);
    free(cert);
    return status;
}

static int add_cng(const wchar_t *cert_path, const wchar_t *key_name) {
    DWORD cert_size = 0;
    BYTE *cert = read_file(cert_path, &cert_size);
    if (!cert) {
        fprintf(stderr, "store-fixture: cannot read the certificate file\n");
        return 2;
    }
    CRYPT_KEY_PROV_INFO info = {0};
    info.pwszContainerName = (LPWSTR)key_name;
    info.pwszProvName = (LPWSTR)L"Microsoft Software Key Storage Provider";
    info.dwProvType = 0;
    info.dwKeySpec = 0;
    int status = put_certificate(L"My", cert, cert_size, &info);
    free(cert);
    return status;
}

static int add_ca(const wchar_t *cert_path) {
    DWORD cert_size = 0;
    BYTE *cert = read_file(cert_path, &cert_size);
    if (!cert) {
        fprintf(stderr, "store-fixture: cannot read the certificate file\n");
        return 2;
    }
    int status = put_certificate(L"CA", cert, cert_size, NULL);
    free(cert);
    return status;
}

static int export_key(const wchar_t *container) {
    HCRYPTPROV prov = 0;
    if (!CryptAcquireContextW(&prov, container, MS_ENHANCED_PROV_W, PROV_RSA_FULL, 0))
        return fail("CryptAcquireContextW");
    HCRYPTKEY key = 0;
    if (!CryptGetUserKey(prov, AT_KEYEXCHANGE, &key) && !CryptGetUserKey(prov, AT_SIGNATURE, &key))
        return fail("CryptGetUserKey");
    DWORD size = 0;
    if (CryptExportKey(key, 0, PRIVATEKEYBLOB, 0, NULL, &size)) {
        BYTE *blob = malloc(size);
        if (blob && CryptExportKey(key, 0, PRIVATEKEYBLOB, 0, blob, &size)) {
            printf("exported %lu bytes\n", (unsigned long)size);
            return 1;
        }
    }
    printf("refused: 0x%08lx\n", (unsigned long)GetLastError());
    return 0;
}

int wmain(int argc, wchar_t **argv) {
    if (argc == 5 && wcscmp(argv[1], L"add") == 0) return add(argv[2], argv[3], argv[4]);
    if (argc == 4 && wcscmp(argv[1], L"cng") == 0) return add_cng(argv[2], argv[3]);
    if (argc == 3 && wcscmp(argv[1], L"ca") == 0) return add_ca(argv[2]);
    if (argc == 3 && wcscmp(argv[1], L"export") == 0) return export_key(argv[2]);
    fprintf(stderr, "usage: store-fixture add <key.pvk> <certificate.der> <container> | cng <certificate.der> <key name> | ca <certificate.der> | export <container>\n");
    return 2;
}
