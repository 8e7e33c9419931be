//! Identity commands: `import`, `status`, `renewal`, `verify`, `rename`, `remove`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use caiso_shared::Environment;
use caiso_shared::certificate::{IdentityKind, IdentityStatus};
use caiso_shared::renewal::RenewalAction;
use zeroize::Zeroizing;

use super::args::Args;
use super::{Failure, usage};
use crate::actions::import::{ImportRequest, import as import_identity};
use crate::actions::{self, Workspace};
use crate::clock;
use crate::identity::{custody, windows_store};
use crate::store::config::{KeySource, PassphraseSource};

/// `caiso-access import <file> [--label NAME] [--key FILE] [--environment ENV] [--kind KIND]
/// [--passphrase-env VAR | --passphrase-stdin] [--no-keyring] [--replace]`.
pub(crate) fn import(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(
        args,
        &["passphrase-stdin", "replace", "no-keyring"],
        &[
            "label",
            "key",
            "environment",
            "kind",
            "passphrase-env",
            "store",
        ],
    )?;
    let store = args.value("store");
    let file = match (args.positional.as_slice(), store) {
        ([file], None) => Some(file),
        ([], Some(_)) if args.value("key").is_none() => None,
        _ => {
            return Err(usage(
                "import takes one certificate file, or --store <thumbprint> (no file, no --key)",
            ));
        }
    };
    let label = args.value("label");
    if let Some(label) = label
        && !crate::store::config::valid_label(label)
    {
        return Err(usage(
            crate::HostError::InvalidLabel(label.to_owned()).to_string(),
        ));
    }
    let environment = match args.value("environment") {
        None => Environment::Production,
        Some(e) => Environment::from_id(e).ok_or_else(|| {
            usage(format!(
                "unknown environment {e:?} (production or map-stage)"
            ))
        })?,
    };
    let kind = match args.value("kind") {
        None | Some("user") => IdentityKind::User,
        Some("application") => IdentityKind::Application,
        Some(k) => return Err(usage(format!("unknown kind {k:?} (user or application)"))),
    };
    let absolute = |p: &str| dunce::canonicalize(p).map_err(|e| Failure::from(format!("{p}: {e}")));
    let source = match (file, store) {
        (None, Some(thumbprint)) => KeySource::WindowsStore {
            thumbprint: windows_store::normalise_thumbprint(thumbprint).ok_or_else(|| {
                usage(format!(
                    "{thumbprint:?} is not a thumbprint (40 hex digits, as `caiso-access store` lists them)"
                ))
            })?,
        },
        (Some(file), _) => {
            let file = absolute(file)?;
            match args.value("key") {
                Some(key) => KeySource::Pem {
                    certificate: file,
                    key: absolute(key)?,
                },
                None if starts_with_pem(&file) => KeySource::Pem {
                    certificate: file.clone(),
                    key: file,
                },
                None => KeySource::Pkcs12 { path: file },
            }
        }
        (None, None) => return Err(usage("import takes one certificate file")),
    };
    let passphrase = if custody::needs_passphrase(&source).map_err(crate::HostError::from)? {
        Some(read_passphrase(&args, &source)?)
    } else {
        None
    };
    let mut workspace = Workspace::open()?;
    let imported = import_identity(
        &mut workspace,
        ImportRequest {
            label: label.map(str::to_owned),
            source,
            environment,
            kind,
            passphrase,
            use_keyring: !args.flag("no-keyring"),
            replace: args.flag("replace"),
        },
    )
    .map_err(|e| Failure::from(format!("cannot import: {e}")))?;
    let label = imported.label.as_str();
    writeln!(out, "imported {label} ({})", environment.display_name())?;
    if imported.label_chosen {
        writeln!(
            out,
            "  label chosen from the certificate's name; to change it: caiso-access rename {label} <new-label>"
        )?;
    }
    for renewed_label in &imported.renewed {
        writeln!(out, "renewal of {renewed_label}: new certificate installed")?;
    }
    write_status_of(out, &mut workspace, label)
}

/// `caiso-access rename <old> <new>`.
pub(crate) fn rename(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let [old, new] = args else {
        return Err(usage("rename takes <old-label> <new-label>"));
    };
    actions::settings::rename_identity(&mut Workspace::open()?, old, new)?;
    writeln!(
        out,
        "renamed {old} to {new} (its renewal history and passphrase go with it)"
    )?;
    Ok(())
}

/// Writes the status of identity `label` as it is now on disk.
fn write_status_of(
    out: &mut impl Write,
    workspace: &mut Workspace,
    label: &str,
) -> Result<(), Failure> {
    let status = workspace.status_of(label, clock::now())?;
    write_identity(out, &status)?;
    Ok(())
}

fn starts_with_pem(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| {
        b.iter()
            .skip_while(|c| c.is_ascii_whitespace())
            .take(10)
            .eq(b"-----BEGIN".iter())
    })
}

/// The passphrase of a file that needs one, and where it will be found later.
fn read_passphrase(
    args: &Args,
    source: &KeySource,
) -> Result<(Zeroizing<String>, PassphraseSource), Failure> {
    if let Some(var) = args.value("passphrase-env") {
        let value = std::env::var(var)
            .map_err(|_| Failure::from(format!("the environment variable {var} is not set")))?;
        return Ok((
            Zeroizing::new(value),
            PassphraseSource::Env {
                var: var.to_owned(),
            },
        ));
    }
    if args.flag("passphrase-stdin") {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin().lock().read_line(&mut line)?;
        let trimmed = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned());
        return Ok((trimmed, PassphraseSource::NotStored));
    }
    if std::io::stdin().is_terminal() {
        let file = source.files()[0].display().to_string();
        let value = rpassword::prompt_password(format!("Passphrase for {file}: "))?;
        return Ok((Zeroizing::new(value), PassphraseSource::NotStored));
    }
    Err(usage(
        "the file is protected by a passphrase: give --passphrase-env <VAR> (kept as the way to unlock it) or --passphrase-stdin",
    ))
}

/// `caiso-access status [--json]`.
pub(crate) fn status(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(args, &["json"], &[])?;
    if !args.positional.is_empty() {
        return Err(usage("status takes no arguments"));
    }
    let at = clock::now();
    let report = Workspace::open()?.status(at)?;
    // Where the machine policy names the monitoring's folder, every status refreshes the file
    // there; that is not this command's outcome, so a failure is only mentioned.
    if let Err(error) =
        crate::metrics::textfile::write_by_policy(&report, crate::metrics::Writer::CommandLine, at)
    {
        crate::log::plain(&format!("metrics not written: {error}"));
    }
    if args.flag("json") {
        serde_json::to_writer_pretty(&mut *out, &report).map_err(|e| e.to_string())?;
        writeln!(out)?;
        return Ok(());
    }
    if report.identities.is_empty() {
        writeln!(
            out,
            "no certificates yet: caiso-access import <file.p12> --label production"
        )?;
        return Ok(());
    }
    for identity in &report.identities {
        write_identity(out, identity)?;
    }
    Ok(())
}

/// `caiso-access metrics [--textfile <folder>]`: the status in the Prometheus text format, on
/// stdout or as this user's file in a textfile collector's folder.
pub(crate) fn metrics(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(args, &[], &["textfile"])?;
    if !args.positional.is_empty() {
        return Err(usage("metrics takes no arguments but --textfile <folder>"));
    }
    let at = clock::now();
    let report = Workspace::open()?.status(at)?;
    let user = crate::metrics::textfile::current_user();
    let writer = crate::metrics::Writer::CommandLine;
    match args.value("textfile") {
        None => Ok(out.write_all(
            crate::metrics::exposition::render(&report, &user, writer, at).as_bytes(),
        )?),
        Some(folder) => {
            let file =
                crate::metrics::textfile::write(Path::new(folder), &report, &user, writer, at)?;
            writeln!(
                out,
                "wrote {} ({} identities)",
                crate::store::shown(&file),
                report.identities.len()
            )?;
            Ok(())
        }
    }
}

fn write_identity(out: &mut impl Write, s: &IdentityStatus) -> std::io::Result<()> {
    writeln!(
        out,
        "{} ({}, {:?} certificate)",
        s.label,
        s.environment.display_name(),
        s.kind
    )?;
    if let Some(c) = &s.certificate {
        writeln!(out, "  subject      {}", c.caiso_username)?;
        writeln!(out, "  issuer       {}", c.issuer)?;
        writeln!(out, "  CA           {}", c.ca_family.describe())?;
        let left = if c.expired {
            "expired".to_owned()
        } else {
            format!("{} days left", c.days_left)
        };
        writeln!(
            out,
            "  valid        {} to {} ({left})",
            &c.not_before[..10],
            &c.not_after[..10]
        )?;
        writeln!(out, "  severity     {:?}", s.severity)?;
        writeln!(
            out,
            "  key          {} {} bits{}",
            c.key.algorithm,
            c.key.bits,
            if c.key_matches {
                ", matches the certificate"
            } else {
                ", DOES NOT match the certificate"
            }
        )?;
        writeln!(
            out,
            "  chain        {}",
            if c.chain_complete {
                "complete"
            } else {
                "incomplete (the file holds no full chain to a root)"
            }
        )?;
        writeln!(out, "  serial       {}", c.serial)?;
        writeln!(out, "  sha-256      {}", c.sha256)?;
    }
    writeln!(out, "  key access   {}", s.key_access.detail)?;
    let r = &s.renewal;
    writeln!(out, "  renewal      {}", r.stage.checklist_text())?;
    if let Some(id) = &r.transaction_id {
        writeln!(out, "  transaction  {id}")?;
    }
    if let Some(date) = &r.collect_by {
        writeln!(out, "  collect by   {date}")?;
    }
    writeln!(out, "  next         {}", r.next_step)?;
    for problem in &s.problems {
        writeln!(out, "  PROBLEM      {problem}")?;
    }
    if !s.key_access.available {
        writeln!(
            out,
            "  PROBLEM      signed calls cannot open the key here: {}",
            s.key_access.fix
        )?;
    }
    Ok(())
}

/// `caiso-access renewal <label> <step> [...]`.
pub(crate) fn renewal_step(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(args, &[], &["date"])?;
    let date = args.value("date").map(str::to_owned);
    let action = match args
        .positional
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [_, "approved"] => RenewalAction::Approved { date },
        [_, "registered", id] => RenewalAction::Registered {
            transaction_id: (*id).to_owned(),
            date,
        },
        [_, "installed"] => RenewalAction::Installed { date },
        [_, "retired"] => RenewalAction::Retired { date },
        [_, "reset"] if date.is_none() => RenewalAction::Reset {},
        _ => {
            return Err(usage(
                "renewal <label> approved|registered <transaction-id>|installed|retired|reset",
            ));
        }
    };
    let label = &args.positional[0];
    let mut workspace = Workspace::open()?;
    let status = actions::renewal::record_step(&mut workspace, label, &action)?;
    write_identity(out, &status)?;
    Ok(())
}

/// `caiso-access verify <label>`.
pub(crate) fn verify(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let [label] = args else {
        return Err(usage("verify takes one label"));
    };
    let mut workspace = Workspace::open()?;
    let key_matches = actions::settings::verify_identity(&mut workspace, label)
        .map_err(|e| Failure::from(format!("{label}: {e}")))?;
    write_status_of(out, &mut workspace, label)?;
    if !key_matches {
        return Err(Failure::from(format!(
            "{label}: the private key does not belong to the certificate"
        )));
    }
    writeln!(
        out,
        "{label}: the file opens and the key fits the certificate"
    )?;
    Ok(())
}

/// `caiso-access store [--json]`: CAISO's certificates in the Windows certificate store, and
/// which are identities already.
pub(crate) fn store(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(args, &["json"], &[])?;
    if !args.positional.is_empty() {
        return Err(usage("store takes no arguments"));
    }
    let listed = actions::windows_store::list(&mut Workspace::open()?, clock::now())?;
    if args.flag("json") {
        serde_json::to_writer_pretty(&mut *out, &listed).map_err(|e| e.to_string())?;
        writeln!(out)?;
        return Ok(());
    }
    if listed.certificates.is_empty() {
        writeln!(out, "no CAISO certificate in {}", listed.store)?;
        return Ok(());
    }
    writeln!(out, "CAISO certificates in {}:", listed.store)?;
    for c in &listed.certificates {
        let left = if c.days_left < 0 {
            "expired".to_owned()
        } else {
            format!("{} days left", c.days_left)
        };
        writeln!(
            out,
            "{}  {}  {}, valid to {} ({left}){}",
            c.thumbprint,
            c.common_name.as_deref().unwrap_or("(no common name)"),
            c.ca_family.describe(),
            &c.not_after[..10],
            if c.has_key {
                ""
            } else {
                ", no private key here"
            }
        )?;
        match &c.identity {
            Some(label) => writeln!(out, "    identity {label}")?,
            None if c.has_key => writeln!(
                out,
                "    use it: caiso-access import --store {} [--label <name>] [--environment map-stage]",
                c.thumbprint
            )?,
            None => {}
        }
    }
    Ok(())
}

/// `caiso-access remove <label>`.
pub(crate) fn remove(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let [label] = args else {
        return Err(usage("remove takes one label"));
    };
    actions::settings::remove_identity(&mut Workspace::open()?, label)?;
    writeln!(out, "removed {label} (its files are untouched)")?;
    Ok(())
}
