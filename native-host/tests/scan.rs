//! `caiso-access scan`: a tree of the files where participants' applications keep CAISO
//! addresses (WCF and .NET configuration in UTF-8 with a BOM and in UTF-16, Java properties, a
//! SoapUI project, YAML and Python), with current and OASIS addresses, a password, a binary
//! file, a `.git` folder and a symbolic link out of the tree, each holding an old address that
//! must not be reported; a pinned thumbprint of the imported test identity; trust stores with
//! and without the real Entrust Root G2 from the OS certificate folder. Checked: the exact
//! findings, text and JSON, exit codes, `--fix` byte for byte with its backups (pins and trust
//! stores never changed), and a second scan after it. Java keystores (JKS, JCEKS, PKCS#12) made
//! by keytool and a PKCS#12 truststore made by openssl, judged by what they trust; an identity
//! keystore is not a trust store, a PKCS#12 file with its own passphrase is named as not opened,
//! and a keystore cut short is a read error.

mod common;

use std::path::{Path, PathBuf};

use common::Workstation;
use serde_json::Value;

const OLD_CMRI: &str = "https://ws.caiso.com/sst/runtime.asvc/RetrieveMarketAwards_CMRIv4_AP";
const NEW_CMRI: &str = "https://ws.prod.caiso.com/sst/runtime.asvc/RetrieveMarketAwards_CMRIv4_AP";
const OLD_MAP: &str = "https://wsmap.caiso.com/sst/cmri/RetrieveMarketAwards_CMRIv4_AP";
const NEW_MAP: &str = "https://mapstage-ws.caiso.com/sst/cmri/RetrieveMarketAwards_CMRIv4_AP";
const OLD_SIBR: &str = "https://ws.caiso.com/sst/sibr/SubmitBids?x=1";
const NEW_SIBR: &str = "https://ws.prod.caiso.com/sst/sibr/SubmitBids?x=1";
const OLD_PORTAL: &str = "https://portal.caiso.com/tr/Home.aspx";
const NEW_PORTAL: &str = "https://tr.caiso.com/";

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    [0xff, 0xfe]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect()
}

/// The tree, and the file outside it the symbolic link points into.
fn write_tree(root: &Path, outside: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let files: Vec<(&str, Vec<u8>)> = vec![
        (
            "app/Web.config",
            [
                &[0xef, 0xbb, 0xbf][..],
                format!(
                    "<configuration>\r\n  <appSettings>\r\n    <add key=\"CmriEndpoint\" value=\"{OLD_CMRI}\" />\r\n    <add key=\"OasisUrl\" value=\"http://oasis.caiso.com/oasisapi/SingleZip?queryname=PRC_LMP\" />\r\n    <add key=\"Current\" value=\"https://ws.prod.caiso.com/sst/cmri\" />\r\n    <add key=\"ServicePassword\" value=\"Hunter2-secret\" />\r\n  </appSettings>\r\n</configuration>\r\n"
                )
                .as_bytes(),
            ]
            .concat(),
        ),
        (
            "app/Client.exe.config",
            utf16le_with_bom(&format!(
                "<?xml version=\"1.0\" encoding=\"utf-16\"?>\r\n<system.serviceModel>\r\n  <client>\r\n    <endpoint address=\"{OLD_MAP}\" binding=\"customBinding\" contract=\"ICmri\" name=\"cmri\" />\r\n  </client>\r\n</system.serviceModel>\r\n"
            )),
        ),
        (
            "java/caiso.properties",
            format!("# CAISO\nsibr.url={OLD_SIBR}\ncmri.url=https://ws.prod.caiso.com/sst/cmri\ncaiso.host=ws.caiso.com\nops.mail=ops@ws.caiso.com\n")
                .into_bytes(),
        ),
        (
            "soapui/CMRI-soapui-project.xml",
            format!(
                "<con:soapui-project name=\"CMRI\">\n<con:endpoints><con:endpoint>{OLD_CMRI}</con:endpoint></con:endpoints>\n</con:soapui-project>\n"
            )
            .into_bytes(),
        ),
        (
            "python/settings.yaml",
            format!("portal: {OLD_PORTAL}\ncafé: ok\n").into_bytes(),
        ),
        (
            "app/Signing.config",
            format!(
                "<appSettings>\r\n  <add key=\"ClientCertThumbprint\" value=\"{}\" />\r\n  <add key=\"CertPassword\" value=\"{}\" />\r\n</appSettings>\r\n",
                thumbprint().to_lowercase(),
                "0123456789ABCDEF0123456789ABCDEF01234567"
            )
            .into_bytes(),
        ),
        ("certs/caiso-old.pem", pki_file("cybertrust-chain.pem")),
        ("certs/partners.pem", pki_file("entrust-chain.pem")),
        ("certs/with-g2.pem", {
            let mut bundle = os_entrust_root_g2();
            bundle.extend(pki_file("entrust-chain.pem"));
            bundle
        }),
        ("certs/client.pem", pki_file("valid-fullchain.crt")),
        ("bin/Client.dll", {
            let mut bytes = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
            bytes.extend_from_slice(OLD_CMRI.as_bytes());
            bytes
        }),
        (
            ".git/config",
            format!("[remote]\n url = {OLD_CMRI}\n").into_bytes(),
        ),
    ];
    let mut written = Vec::new();
    for (name, bytes) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("folder");
        std::fs::write(&path, &bytes).expect("write");
        written.push((path, bytes));
    }
    std::fs::create_dir_all(outside).expect("outside");
    std::fs::write(outside.join("other.config"), OLD_CMRI).expect("outside file");
    #[cfg(unix)]
    std::os::unix::fs::symlink(outside, root.join("linked")).expect("symlink");
    written
}

#[cfg(windows)]
macro_rules! cfg_select_drive {
    () => {
        "Z:"
    };
}
#[cfg(not(windows))]
macro_rules! cfg_select_drive {
    () => {
        ""
    };
}

fn pki_file(name: &str) -> Vec<u8> {
    std::fs::read(common::pki(name)).expect(name)
}

/// The real Entrust Root G2, from the operating system's certificate folder (this machine's,
/// through Wine's drive Z: when the Windows build runs under Wine).
fn os_entrust_root_g2() -> Vec<u8> {
    let path = concat!(
        cfg_select_drive!(),
        "/usr/share/ca-certificates/mozilla/Entrust_Root_Certification_Authority_-_G2.crt"
    );
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e} (Debian's ca-certificates)"))
}

/// The SHA-1 thumbprint of the test identity's certificate, as openssl computes it (on
/// Windows, where there is no openssl, from the certificate's DER with ring).
#[cfg(windows)]
fn thumbprint() -> String {
    use base64::Engine;
    let pem = String::from_utf8(pki_file("valid.crt")).expect("PEM");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("base64");
    ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

#[cfg(not(windows))]
fn thumbprint() -> String {
    let output = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha1", "-in"])
        .arg(common::pki("valid.crt"))
        .output()
        .expect("openssl");
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim()
        .rsplit('=')
        .next()
        .expect("a fingerprint")
        .replace(':', "")
}

fn run(workstation: &Workstation, args: &[&str]) -> (Option<i32>, String, String) {
    let output = workstation
        .command()
        .arg("scan")
        .args(args)
        .output()
        .expect("run");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn scan_reports_exactly_the_old_addresses_and_fix_rewrites_only_them() {
    let workstation = Workstation::new();
    workstation.import("valid-modern.p12", "production", "production");
    let root = workstation.temp.path().join("apps");
    let outside = workstation.temp.path().join("outside");
    let written = write_tree(&root, &outside);
    let root_arg = root.to_str().expect("utf-8");

    let (code, stdout, _) = run(&workstation, &[root_arg, "--json"]);
    assert_eq!(code, Some(1), "{stdout}");
    let report: Value = serde_json::from_str(&stdout).expect("json");
    let all = report["findings"].as_array().expect("findings");
    let of_kind =
        |kind: &str| -> Vec<&Value> { all.iter().filter(|f| f["kind"] == kind).collect() };
    let relative = |f: &Value| {
        Path::new(f["path"].as_str().expect("path"))
            .strip_prefix(&root)
            .expect("inside")
            .to_string_lossy()
            .replace('\\', "/")
    };
    // The pin of the imported identity, named with its days left; the password's line unread.
    let pins = of_kind("pinned-certificate");
    assert_eq!(pins.len(), 1, "{pins:?}");
    assert_eq!(relative(pins[0]), "app/Signing.config");
    assert_eq!(pins[0]["line"], 2);
    assert_eq!(pins[0]["found"], thumbprint());
    assert_eq!(pins[0]["identity"], "production");
    assert!(
        pins[0]["days_left"].as_i64().is_some_and(|d| d > 0),
        "{}",
        pins[0]
    );
    // The trust stores without Entrust Root G2; not the one with it, nor a client's chain.
    let stores: Vec<(String, u64, bool)> = of_kind("trust-store")
        .iter()
        .map(|f| {
            (
                relative(f),
                f["certificates"].as_u64().expect("count"),
                f["cybertrust_only"].as_bool().expect("flag"),
            )
        })
        .collect();
    assert_eq!(
        stores,
        vec![
            ("certs/caiso-old.pem".to_owned(), 2, true),
            ("certs/partners.pem".to_owned(), 2, false)
        ]
    );
    let found: Vec<(String, u64, String, String, String)> = of_kind("old-address")
        .into_iter()
        .map(|f| {
            (
                relative(f),
                f["line"].as_u64().expect("line"),
                f["found"].as_str().expect("found").to_owned(),
                f["replacement"].as_str().expect("replacement").to_owned(),
                f["status"].as_str().expect("status").to_owned(),
            )
        })
        .collect();
    let expected = vec![
        (
            "app/Client.exe.config",
            4,
            OLD_MAP,
            NEW_MAP,
            "decommissioned",
        ),
        ("app/Web.config", 3, OLD_CMRI, NEW_CMRI, "legacy"),
        ("java/caiso.properties", 2, OLD_SIBR, NEW_SIBR, "legacy"),
        // A host without a scheme, replaced without one; the mail address is not one.
        (
            "java/caiso.properties",
            4,
            "ws.caiso.com",
            "ws.prod.caiso.com",
            "legacy",
        ),
        (
            "python/settings.yaml",
            1,
            OLD_PORTAL,
            NEW_PORTAL,
            "decommissioned",
        ),
        (
            "soapui/CMRI-soapui-project.xml",
            2,
            OLD_CMRI,
            NEW_CMRI,
            "legacy",
        ),
    ];
    let expected: Vec<(String, u64, String, String, String)> = expected
        .into_iter()
        .map(|(p, l, f, r, s)| (p.to_owned(), l, f.to_owned(), r.to_owned(), s.to_owned()))
        .collect();
    assert_eq!(found, expected);
    assert_eq!(report["skipped"]["binary"], 1, "{report}");
    #[cfg(unix)]
    assert_eq!(report["skipped"]["symbolic_links"], 1, "{report}");
    assert!(!stdout.contains("Hunter2"), "no secret in the report");
    assert!(
        !stdout.contains("0123456789ABCDEF"),
        "no password's value in the report"
    );

    // The text report: grouped by file, one line per finding, a summary.
    let (code, text, _) = run(&workstation, &[root_arg]);
    assert_eq!(code, Some(1));
    assert!(
        text.contains(&format!("    3: old address {OLD_CMRI} -> {NEW_CMRI}")),
        "{text}"
    );
    assert!(
        text.contains("6 old address(es), 1 pinned certificate(s), 2 trust store(s) to update, in 8 file(s); 10 file(s) scanned, 0 keystore(s) read, 1 binary"),
        "{text}"
    );
    assert!(
        text.contains("trust store with only retired Cybertrust certificates (2)"),
        "{text}"
    );
    assert!(text.contains("\"production\", "), "{text}");
    assert!(!text.contains("Hunter2"));

    // --fix: only the addresses change, every other byte (BOM, UTF-16, CRLF, é) stays; the
    // originals are kept beside; nothing outside the tree or in .git or the binary is touched.
    let (code, text, stderr) = run(&workstation, &[root_arg, "--fix"]);
    assert_eq!(
        code,
        Some(1),
        "pins and trust stores still need attention: {text}{stderr}"
    );
    for (path, original) in &written {
        let now = std::fs::read(path).expect("read");
        let relative = path
            .strip_prefix(&root)
            .expect("inside")
            .to_string_lossy()
            .replace('\\', "/");
        let expected: Vec<u8> = match relative.as_str() {
            "app/Client.exe.config" => {
                let text = String::from_utf16(
                    &original[2..]
                        .chunks_exact(2)
                        .map(|c| u16::from_le_bytes([c[0], c[1]]))
                        .collect::<Vec<_>>(),
                )
                .expect("utf-16");
                utf16le_with_bom(&text.replace(OLD_MAP, NEW_MAP))
            }
            "app/Web.config" | "soapui/CMRI-soapui-project.xml" => {
                replace_bytes(original, OLD_CMRI, NEW_CMRI)
            }
            "java/caiso.properties" => replace_bytes(
                &replace_bytes(original, OLD_SIBR, NEW_SIBR),
                "host=ws.caiso.com",
                "host=ws.prod.caiso.com",
            ),
            "python/settings.yaml" => replace_bytes(original, OLD_PORTAL, NEW_PORTAL),
            _ => original.clone(),
        };
        assert_eq!(now, expected, "{relative}");
        let backup = path.with_file_name(format!(
            "{}.caiso-access.bak",
            path.file_name().expect("name").to_string_lossy()
        ));
        if now != *original {
            assert_eq!(
                &std::fs::read(&backup).expect("backup"),
                original,
                "{relative}"
            );
            assert!(
                text.contains(&format!("(original kept as {})", backup.display())),
                "{text}"
            );
        } else {
            assert!(!backup.exists(), "{relative}");
        }
    }
    assert_eq!(
        std::fs::read_to_string(outside.join("other.config")).expect("outside"),
        OLD_CMRI
    );
    // A second scan finds no old address (the backups are this tool's and not scanned); the
    // pin and the trust stores, never changed, are still there.
    let (code, text, _) = run(&workstation, &[root_arg]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(
            "0 old address(es), 1 pinned certificate(s), 2 trust store(s) to update, in 3 file(s)"
        ),
        "{text}"
    );
}

fn replace_bytes(bytes: &[u8], old: &str, new: &str) -> Vec<u8> {
    // The fixtures' non-ASCII bytes are valid UTF-8, so a text replace is a byte replace.
    String::from_utf8(bytes.to_vec())
        .expect("utf-8")
        .replace(old, new)
        .into_bytes()
}

#[test]
fn a_path_that_does_not_exist_or_no_path_is_exit_2_and_a_clean_tree_exit_0() {
    let workstation = Workstation::new();
    let (code, _, stderr) = run(&workstation, &["/no/such/folder"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("/no/such/folder: no such file or folder"),
        "{stderr}"
    );
    let (code, _, _) = run(&workstation, &[]);
    assert_eq!(code, Some(2));
    let clean = workstation.temp.path().join("clean");
    std::fs::create_dir_all(&clean).expect("folder");
    std::fs::write(
        clean.join("a.config"),
        "https://ws.prod.caiso.com/sst/cmri\n",
    )
    .expect("write");
    let (code, text, _) = run(&workstation, &[clean.to_str().expect("utf-8")]);
    assert_eq!(code, Some(0), "{text}");
}

#[test]
fn a_file_that_cannot_be_decoded_is_reported_left_alone_and_exit_2() {
    let workstation = Workstation::new();
    let folder = workstation.temp.path().join("broken");
    std::fs::create_dir_all(&folder).expect("folder");
    // A UTF-16 byte-order mark, then an odd number of bytes.
    let mut broken = [&[0xff, 0xfe][..], OLD_CMRI.as_bytes()].concat();
    if broken.len() % 2 == 0 {
        broken.push(b'x');
    }
    let path = folder.join("broken.config");
    std::fs::write(&path, &broken).expect("write");
    let (code, text, _) = run(&workstation, &[folder.to_str().expect("utf-8"), "--fix"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains(&format!(
            "not scanned: {}: UTF-16 that does not decode",
            path.display()
        )),
        "{text}"
    );
    assert_eq!(std::fs::read(&path).expect("read"), broken);
}

/// The PEM certificates of a file, one string each.
#[cfg(unix)]
fn pem_pieces(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8(bytes.to_vec()).expect("PEM");
    text.split_inclusive("-----END CERTIFICATE-----")
        .filter_map(|piece| {
            let start = piece.find("-----BEGIN CERTIFICATE-----")?;
            Some(format!("{}\n", &piece[start..]))
        })
        .collect()
}

/// Runs Java's keytool (Debian's JRE), which must succeed.
#[cfg(unix)]
fn keytool(args: &[&str]) {
    let output = std::process::Command::new("keytool")
        .args(args)
        .arg("-noprompt")
        .output()
        .expect("keytool (the JRE in the set-up's packages)");
    assert!(
        output.status.success(),
        "keytool {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A trust store made by keytool: each certificate imported as a trusted entry.
#[cfg(unix)]
fn keytool_trust_store(path: &Path, store_type: &str, certificates: &[&Path]) {
    for (i, certificate) in certificates.iter().enumerate() {
        keytool(&[
            "-importcert",
            "-storetype",
            store_type,
            "-keystore",
            path.to_str().expect("utf-8"),
            "-storepass",
            "changeit",
            "-alias",
            &format!("ca{i}"),
            "-file",
            certificate.to_str().expect("utf-8"),
        ]);
    }
}

#[cfg(unix)]
#[test]
fn java_keystores_and_pkcs12_trust_stores_are_judged_by_what_they_trust() {
    let workstation = Workstation::new();
    let pieces = workstation.temp.path().join("pieces");
    let stores = workstation.temp.path().join("stores");
    std::fs::create_dir_all(&pieces).expect("folder");
    std::fs::create_dir_all(&stores).expect("folder");
    let write_piece = |name: &str, pem: &str| {
        let path = pieces.join(name);
        std::fs::write(&path, pem).expect("write");
        path
    };
    let entrust = pem_pieces(&pki_file("entrust-chain.pem"));
    let cybertrust = pem_pieces(&pki_file("cybertrust-chain.pem"));
    let (e0, e1) = (
        write_piece("e0.pem", &entrust[0]),
        write_piece("e1.pem", &entrust[1]),
    );
    let (c0, c1) = (
        write_piece("c0.pem", &cybertrust[0]),
        write_piece("c1.pem", &cybertrust[1]),
    );
    let g2 = write_piece(
        "g2.pem",
        &String::from_utf8(os_entrust_root_g2()).expect("PEM"),
    );

    keytool_trust_store(&stores.join("old.jks"), "JKS", &[&c0, &c1]);
    keytool_trust_store(&stores.join("partners.jks"), "JKS", &[&e0, &e1]);
    keytool_trust_store(&stores.join("with-g2.jks"), "JKS", &[&e0, &e1, &g2]);
    keytool_trust_store(&stores.join("partners.jceks"), "JCEKS", &[&e0, &e1]);
    keytool_trust_store(&stores.join("partners.p12"), "PKCS12", &[&e0, &e1]);
    keytool_trust_store(&stores.join("with-g2.p12"), "PKCS12", &[&e0, &g2]);
    // A trust store openssl makes, with no password at all.
    let bundle = write_piece("bundle.pem", &entrust.concat());
    let openssl = std::process::Command::new("openssl")
        .args(["pkcs12", "-export", "-nokeys", "-passout", "pass:", "-in"])
        .arg(&bundle)
        .arg("-out")
        .arg(stores.join("openssl-partners.pfx"))
        .output()
        .expect("openssl");
    assert!(openssl.status.success(), "{openssl:?}");
    // A keystore holding only an identity (its key and chain): not a trust store.
    keytool(&[
        "-importkeystore",
        "-srckeystore",
        common::pki("valid-modern.p12").to_str().expect("utf-8"),
        "-srcstoretype",
        "PKCS12",
        "-srcstorepass",
        &common::passphrase(),
        "-destkeystore",
        stores.join("identity.jks").to_str().expect("utf-8"),
        "-deststoretype",
        "JKS",
        "-deststorepass",
        "changeit",
    ]);
    // An identity with its own passphrase: not opened, and said so.
    std::fs::copy(common::pki("valid-modern.p12"), stores.join("client.p12")).expect("copy");

    let stores_arg = stores.to_str().expect("utf-8");
    let (code, stdout, _) = run(&workstation, &[stores_arg, "--json"]);
    assert_eq!(code, Some(1), "{stdout}");
    let report: Value = serde_json::from_str(&stdout).expect("json");
    let found: Vec<(String, String, u64, bool)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            assert_eq!(f["kind"], "trust-store", "{f}");
            (
                Path::new(f["path"].as_str().expect("path"))
                    .file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned(),
                f["format"].as_str().expect("format").to_owned(),
                f["certificates"].as_u64().expect("count"),
                f["cybertrust_only"].as_bool().expect("flag"),
            )
        })
        .collect();
    let expected = [
        ("old.jks", "JKS", 2, true),
        ("openssl-partners.pfx", "PKCS#12", 2, false),
        ("partners.jceks", "JCEKS", 2, false),
        ("partners.jks", "JKS", 2, false),
        ("partners.p12", "PKCS#12", 2, false),
    ]
    .map(|(n, f, c, o)| (n.to_owned(), f.to_owned(), c, o));
    assert_eq!(found, expected);
    assert_eq!(report["keystores"], 8, "{report}");
    assert_eq!(report["skipped"]["binary"], 0, "{report}");
    let unopened: Vec<&str> = report["not_opened"]
        .as_array()
        .expect("not_opened")
        .iter()
        .map(|p| p.as_str().expect("path"))
        .collect();
    assert_eq!(
        unopened,
        [stores.join("client.p12").to_str().expect("utf-8")]
    );

    let (code, text, _) = run(&workstation, &[stores_arg]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!("{} (JKS)\n", stores.join("old.jks").display())),
        "{text}"
    );
    assert!(
        text.contains("JKS trust store with only retired Cybertrust certificates (2)"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "not opened: {}: a PKCS#12 file whose password is neither none nor Java's default",
            stores.join("client.p12").display()
        )),
        "{text}"
    );

    // A keystore cut short is a read error (exit 2), named, and left as it was.
    let broken = workstation.temp.path().join("broken");
    std::fs::create_dir_all(&broken).expect("folder");
    let whole = std::fs::read(stores.join("partners.jks")).expect("read");
    let cut = &whole[..whole.len() / 2];
    std::fs::write(broken.join("cut.jks"), cut).expect("write");
    let (code, text, _) = run(&workstation, &[broken.to_str().expect("utf-8")]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("cut.jks: begins as a JKS store, but: cut short at byte"),
        "{text}"
    );
    assert_eq!(std::fs::read(broken.join("cut.jks")).expect("read"), cut);
}
