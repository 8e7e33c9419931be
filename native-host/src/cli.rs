//! The command-line tool: certificate import and status, renewal steps, browser registration,
//! catalog look-ups. Output goes to the given writer (stdout), errors are returned as text.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use caiso_shared::certificate::{IdentityKind, IdentityStatus, Thresholds};
use caiso_shared::renewal::RenewalAction;
use caiso_shared::{Classifier, Environment, Status};
use zeroize::Zeroizing;

use crate::config::{self, Config, IdentityConfig, KeySource, PassphraseSource};
use crate::registration::{self, Browser, Os, UserDirs, Verdict};
use crate::renewal::{self, RenewalBook};
use crate::session::{self, Store};
use crate::{cli_calls, clock, inspect};
use crate::{custody, keyring_store};

/// The usage text.
pub const USAGE: &str = "\
caiso-access: CAISO access helper (independent project, not affiliated with the California ISO)

usage:
  caiso-access import <file.p12|cert.pem> --label <name> [--key <key.pem>]
                      [--environment production|map-stage] [--kind user|application]
                      [--passphrase-env <VAR> | --passphrase-stdin] [--no-keyring] [--replace]
                                      add a certificate and its key (the files stay where they are);
                                      a typed passphrase goes to the Windows Credential Manager or
                                      the macOS Keychain, elsewhere it is not kept
  caiso-access status [--json]        every certificate: expiry, CA, renewal progress, problems
  caiso-access verify <label>         open the certificate file with its kept passphrase, check the
                                      key still fits and refresh what the host knows of it
  caiso-access renewal <label> approved [--date YYYY-MM-DD]
  caiso-access renewal <label> registered <transaction-id> [--date YYYY-MM-DD]
  caiso-access renewal <label> installed|retired [--date YYYY-MM-DD]
  caiso-access renewal <label> reset  record a step of CAISO's renewal procedure
  caiso-access remove <label>         forget a certificate (its files are not touched)
  caiso-access thresholds <days,...>  reminder thresholds (default 30,14,7,3,1)
  caiso-access install [--browser <name>]... [--user-data-dir <dir>]
  caiso-access uninstall [--browser <name>]... [--user-data-dir <dir>]
  caiso-access doctor [--browser <name>]... [--user-data-dir <dir>]
                                      register with / unregister from / check the browsers
                                      (chrome, chromium, edge, brave, firefox)
  caiso-access classify <url>...      what each URL is and where an old one leads now
  caiso-access portals [production|map-stage]
                                      every current CAISO portal of an environment
  caiso-access tests [--json]         the API test calls available here
  caiso-access call <label> <system> <service> [--environment production|map-stage|sandbox]
                    [--repeat <n>] [--json]
                                      a signed test call with the certificate, within CAISO's
                                      rate limits, and what the answer means
  caiso-access diagnose <label> [--environment ...] [--json]
                                      every stage from DNS to a signed call, timed and explained,
                                      with OASIS as the network control
  caiso-access report <label> [--environment ...] [--interface ui|api] [--browser <name>]
                      [--frequency always|intermittent] [--third-party <vendor>] [--out <file>]
                                      write what CAISO support asks for (no secrets in it)
  caiso-access sandbox <host:port> [--ca <file>]... | off
                                      use a local sandbox (caiso-sandbox) as the sandbox environment
  caiso-access trust add|remove <file> | trust list
                                      extra CA certificates for CAISO's servers (e.g. Entrust G2, L1M)
  caiso-access signature rsa-sha1|rsa-sha256
                                      message signature algorithm (default rsa-sha1)
  caiso-access timeout <seconds>      time limit of one call (default 60)
  caiso-access --version

files: $CAISO_ACCESS_CONFIG_DIR or the system's configuration folder (caiso-access/config.json)
";

/// A command-line failure: the message and the exit code.
#[derive(Debug)]
pub struct Failure {
    /// What went wrong and what to do.
    pub message: String,
    /// 2 for usage errors, 1 otherwise.
    pub code: u8,
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure { message, code: 1 }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure {
            message: e.to_string(),
            code: 1,
        }
    }
}

pub(crate) fn usage(message: impl Into<String>) -> Failure {
    Failure {
        message: format!("{}\n\n{USAGE}", message.into()),
        code: 2,
    }
}

/// Options and positional arguments of one command.
pub(crate) struct Args {
    pub(crate) positional: Vec<String>,
    options: Vec<(String, Option<String>)>,
}

impl Args {
    /// Splits `args`; `flags` take no value, every other `--option` takes one.
    pub(crate) fn parse(args: &[String], flags: &[&str], valued: &[&str]) -> Result<Args, Failure> {
        let mut positional = Vec::new();
        let mut options = Vec::new();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            if let Some(name) = arg.strip_prefix("--") {
                if flags.contains(&name) {
                    options.push((name.to_owned(), None));
                } else if valued.contains(&name) {
                    let value = iter
                        .next()
                        .ok_or_else(|| usage(format!("--{name} needs a value")))?;
                    options.push((name.to_owned(), Some(value.clone())));
                } else {
                    return Err(usage(format!("unknown option --{name}")));
                }
            } else {
                positional.push(arg.clone());
            }
        }
        Ok(Args {
            positional,
            options,
        })
    }

    pub(crate) fn flag(&self, name: &str) -> bool {
        self.options.iter().any(|(n, _)| n == name)
    }

    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }

    pub(crate) fn values(&self, name: &str) -> Vec<&str> {
        self.options
            .iter()
            .filter(|(n, _)| n == name)
            .filter_map(|(_, v)| v.as_deref())
            .collect()
    }
}

/// Runs the command line `args` (without the program name).
pub fn run(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let rest = args.get(1..).unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("--version" | "-V") => {
            Ok(writeln!(out, "caiso-access {}", env!("CARGO_PKG_VERSION"))?)
        }
        Some("help" | "--help" | "-h") => Ok(out.write_all(USAGE.as_bytes())?),
        Some("import") => import(rest, out),
        Some("status") => status(rest, out),
        Some("renewal") => renewal_step(rest, out),
        Some("remove") => remove(rest, out),
        Some("verify") => verify(rest, out),
        Some("thresholds") => thresholds(rest, out),
        Some("install") => install(rest, out),
        Some("uninstall") => uninstall(rest, out),
        Some("doctor") => doctor(rest, out),
        Some("classify") if !rest.is_empty() => Ok(classify(out, rest)?),
        Some("portals") => portals(rest, out),
        Some("tests") => cli_calls::tests(rest, out),
        Some("call") => cli_calls::call(rest, out),
        Some("diagnose") => cli_calls::diagnose(rest, out),
        Some("report") => cli_calls::report(rest, out),
        Some("sandbox") => cli_calls::sandbox(rest, out),
        Some("trust") => cli_calls::trust(rest, out),
        Some("signature") => cli_calls::signature(rest, out),
        Some("timeout") => cli_calls::timeout(rest, out),
        Some(other) => Err(usage(format!("unknown command {other:?}"))),
        None => Err(usage("no command given")),
    }
}

pub(crate) fn config_dir() -> Result<PathBuf, Failure> {
    Ok(config::config_dir()?)
}

fn import(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(
        args,
        &["passphrase-stdin", "replace", "no-keyring"],
        &["label", "key", "environment", "kind", "passphrase-env"],
    )?;
    let [file] = args.positional.as_slice() else {
        return Err(usage("import takes one certificate file"));
    };
    let label = args
        .value("label")
        .ok_or_else(|| usage("import needs --label <name>"))?;
    if !config::valid_label(label) {
        return Err(usage(format!(
            "label {label:?}: use 1 to 40 of a-z, 0-9, '-' and '_', starting with a letter or digit"
        )));
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
    let absolute =
        |p: &str| std::fs::canonicalize(p).map_err(|e| Failure::from(format!("{p}: {e}")));
    let file = absolute(file)?;
    let source = match args.value("key") {
        Some(key) => KeySource::Pem {
            certificate: file,
            key: absolute(key)?,
        },
        None if starts_with_pem(&file) => KeySource::Pem {
            certificate: file.clone(),
            key: file,
        },
        None => KeySource::Pkcs12 { path: file },
    };

    let (passphrase, passphrase_source) =
        if custody::needs_passphrase(&source).map_err(|e| e.to_string())? {
            read_passphrase(&args, &source)?
        } else {
            (None, PassphraseSource::None)
        };
    let unlocked = custody::unlock(&source, passphrase.as_ref().map(|p| p.as_str()))
        .map_err(|e| format!("cannot import: {e}"))?;
    // A typed passphrase is kept in the OS keyring where there is one (and the user agrees).
    let passphrase_source = match (&passphrase_source, &passphrase) {
        (PassphraseSource::NotStored, Some(typed))
            if keyring_store::available() && !args.flag("no-keyring") =>
        {
            keyring_store::store(label, typed)?;
            PassphraseSource::Keyring
        }
        _ => passphrase_source,
    };
    if !unlocked.key_matches {
        return Err(Failure::from(
            "cannot import: the private key does not belong to the certificate; export the certificate again together with its own key".to_owned(),
        ));
    }

    let dir = config_dir()?;
    let mut config = Config::load(&dir)?;
    let mut book = RenewalBook::load(&dir)?;
    let now = clock::now();
    let new_leaf = inspect::parse(&unlocked.chain[0]).map_err(|e| e.to_string())?;
    let new_cn = inspect::common_name(new_leaf.subject());
    let new_expiry = new_leaf.validity().not_after.to_datetime();
    let fingerprint = inspect::fingerprint(&unlocked.chain[0]);

    // Renewals this import completes: same common name, earlier expiry.
    let mut renewed = Vec::new();
    for existing in &config.identities {
        let Some(der) = existing.leaf() else {
            continue;
        };
        let Ok(old) = inspect::parse(&der) else {
            continue;
        };
        let old_expiry = old.validity().not_after.to_datetime();
        if new_cn.is_some()
            && inspect::common_name(old.subject()) == new_cn
            && old_expiry < new_expiry
        {
            renewed.push((existing.label.clone(), old_expiry.date()));
        }
    }
    let replacing = config.identity(label).is_some();
    if replacing && !args.flag("replace") && !renewed.iter().any(|(l, _)| l == label) {
        return Err(Failure::from(format!(
            "an identity is already labelled {label:?}; add --replace to replace it, or choose another label"
        )));
    }
    let identity = IdentityConfig {
        label: label.to_owned(),
        environment,
        kind,
        source,
        passphrase: passphrase_source,
        certificates: config::encode_chain(&unlocked.chain),
        key_matches: unlocked.key_matches,
        imported_at: inspect::rfc3339(now),
    };
    for (renewed_label, old_expiry) in &renewed {
        let record = book.record(renewed_label);
        let updated =
            renewal::record_import(&record, &fingerprint, clock::today(), Some(*old_expiry));
        book.identities.insert(renewed_label.clone(), updated);
    }
    if replacing && !renewed.iter().any(|(l, _)| l == label) {
        // A replacement that is not a renewal starts with a clean record.
        book.identities.remove(label);
    }
    match config.identities.iter_mut().find(|i| i.label == label) {
        Some(slot) => *slot = identity,
        None => config.identities.push(identity),
    }
    book.save(&dir)?;
    config.save(&dir)?;

    writeln!(out, "imported {label} ({})", environment.display_name())?;
    for (renewed_label, _) in &renewed {
        writeln!(out, "renewal of {renewed_label}: new certificate installed")?;
    }
    write_status_of(out, dir, label)
}

/// Writes the status of identity `label` as it is now on disk.
fn write_status_of(out: &mut impl Write, dir: PathBuf, label: &str) -> Result<(), Failure> {
    let report = Store::new(dir)
        .report(clock::now())
        .map_err(|e| e.message)?;
    if let Some(status) = report.identities.iter().find(|i| i.label == label) {
        write_identity(out, status)?;
    }
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

fn read_passphrase(
    args: &Args,
    source: &KeySource,
) -> Result<(Option<Zeroizing<String>>, PassphraseSource), Failure> {
    if let Some(var) = args.value("passphrase-env") {
        let value = std::env::var(var)
            .map_err(|_| Failure::from(format!("the environment variable {var} is not set")))?;
        return Ok((
            Some(Zeroizing::new(value)),
            PassphraseSource::Env {
                var: var.to_owned(),
            },
        ));
    }
    if args.flag("passphrase-stdin") {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin().lock().read_line(&mut line)?;
        let trimmed = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned());
        return Ok((Some(trimmed), PassphraseSource::NotStored));
    }
    if std::io::stdin().is_terminal() {
        let file = source.files()[0].display().to_string();
        let value = rpassword::prompt_password(format!("Passphrase for {file}: "))?;
        return Ok((Some(Zeroizing::new(value)), PassphraseSource::NotStored));
    }
    Err(usage(
        "the file is protected by a passphrase: give --passphrase-env <VAR> (kept as the way to unlock it) or --passphrase-stdin",
    ))
}

fn status(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(args, &["json"], &[])?;
    if !args.positional.is_empty() {
        return Err(usage("status takes no arguments"));
    }
    let mut store = Store::new(config_dir()?);
    let report = session::status_report(&mut store).map_err(|e| e.message)?;
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
    Ok(())
}

fn renewal_step(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
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
    let dir = config_dir()?;
    let config = Config::load(&dir)?;
    let identity = config.identity(label).ok_or_else(|| {
        Failure::from(format!(
            "no identity is labelled {label:?} (see caiso-access status)"
        ))
    })?;
    let book = RenewalBook::load(&dir)?;
    session::apply_renewal(&dir, book, identity, &action).map_err(|e| e.message)?;
    write_status_of(out, dir, label)
}

fn verify(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let [label] = args else {
        return Err(usage("verify takes one label"));
    };
    let dir = config_dir()?;
    let mut config = Config::load(&dir)?;
    let identity = config
        .identities
        .iter_mut()
        .find(|i| &i.label == label)
        .ok_or_else(|| Failure::from(format!("no identity is labelled {label:?}")))?;
    let passphrase = custody::stored_passphrase(label, &identity.passphrase)?;
    let unlocked = custody::unlock(&identity.source, passphrase.as_ref().map(|p| p.as_str()))
        .map_err(|e| format!("{label}: {e}"))?;
    identity.certificates = config::encode_chain(&unlocked.chain);
    identity.key_matches = unlocked.key_matches;
    config.save(&dir)?;
    write_status_of(out, dir, label)?;
    if !unlocked.key_matches {
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

fn remove(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let [label] = args else {
        return Err(usage("remove takes one label"));
    };
    let dir = config_dir()?;
    let mut config = Config::load(&dir)?;
    let Some(position) = config.identities.iter().position(|i| &i.label == label) else {
        return Err(Failure::from(format!("no identity is labelled {label:?}")));
    };
    let removed = config.identities.remove(position);
    let mut book = RenewalBook::load(&dir)?;
    book.identities.remove(label);
    config.save(&dir)?;
    book.save(&dir)?;
    if removed.passphrase == PassphraseSource::Keyring {
        keyring_store::delete(label)?;
    }
    writeln!(out, "removed {label} (its files are untouched)")?;
    Ok(())
}

fn thresholds(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let [list] = args else {
        return Err(usage("thresholds takes a list like 30,14,7,3,1"));
    };
    let days: Result<Vec<u32>, _> = list.split(',').map(|d| d.trim().parse::<u32>()).collect();
    let days = days.map_err(|_| usage(format!("{list:?} is not a list of whole days")))?;
    let thresholds = Thresholds::try_from(days).map_err(usage)?;
    let dir = config_dir()?;
    let mut config = Config::load(&dir)?;
    config.thresholds = thresholds;
    config.save(&dir)?;
    writeln!(
        out,
        "reminder thresholds: {:?} days",
        config.thresholds.days()
    )?;
    Ok(())
}

/// The browsers named with `--browser`, or `None` for "the ones found".
fn chosen_browsers(args: &Args) -> Result<Option<Vec<Browser>>, Failure> {
    let names = args.values("browser");
    if names.is_empty() {
        return Ok(None);
    }
    let mut browsers = Vec::new();
    for name in names {
        if name == "all" {
            return Ok(Some(Browser::ALL.to_vec()));
        }
        browsers.push(Browser::from_id(name).ok_or_else(|| {
            usage(format!(
                "unknown browser {name:?} (chrome, chromium, edge, brave, firefox, all)"
            ))
        })?);
    }
    Ok(Some(browsers))
}

fn host_path() -> Result<PathBuf, Failure> {
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find this program's path: {e}"))?;
    Ok(std::fs::canonicalize(&exe).unwrap_or(exe))
}

fn install(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(args, &[], &["browser", "user-data-dir"])?;
    let dirs = UserDirs::from_env()?;
    let os = Os::current();
    let user_data_dir = args.value("user-data-dir").map(PathBuf::from);
    let browsers = match chosen_browsers(&args)? {
        Some(b) => b,
        None => {
            let found: Vec<Browser> = Browser::ALL
                .into_iter()
                .filter(|&b| registration::browser_present(b, os, &dirs))
                .collect();
            if found.is_empty() {
                return Err(Failure::from(
                    "no supported browser profile found for this user; name one with --browser chrome|chromium|edge|brave|firefox".to_owned(),
                ));
            }
            found
        }
    };
    let host = host_path()?;
    let extra = Config::load(&config_dir()?)?.extra_allowed_callers;
    for browser in browsers {
        let dir = if browser == Browser::Firefox {
            None
        } else {
            user_data_dir.as_deref()
        };
        let place = registration::install(browser, os, &dirs, &host, &extra, dir)?;
        writeln!(out, "{}: registered {place}", browser.display_name())?;
    }
    Ok(())
}

fn uninstall(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(args, &[], &["browser", "user-data-dir"])?;
    let dirs = UserDirs::from_env()?;
    let user_data_dir = args.value("user-data-dir").map(PathBuf::from);
    let browsers = chosen_browsers(&args)?.unwrap_or_else(|| Browser::ALL.to_vec());
    for browser in browsers {
        let dir = if browser == Browser::Firefox {
            None
        } else {
            user_data_dir.as_deref()
        };
        for removed in registration::uninstall(browser, Os::current(), &dirs, dir)? {
            writeln!(out, "{}: removed {removed}", browser.display_name())?;
        }
    }
    Ok(())
}

fn doctor(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(args, &[], &["browser", "user-data-dir"])?;
    let dirs = UserDirs::from_env()?;
    let os = Os::current();
    let user_data_dir = args.value("user-data-dir").map(PathBuf::from);
    let browsers = chosen_browsers(&args)?.unwrap_or_else(|| Browser::ALL.to_vec());
    let host = host_path()?;
    writeln!(
        out,
        "caiso-access {} at {}",
        env!("CARGO_PKG_VERSION"),
        host.display()
    )?;
    let mut broken = 0;
    let mut registered = 0;
    for browser in browsers {
        let dir = if browser == Browser::Firefox {
            None
        } else {
            user_data_dir.as_deref()
        };
        let present = registration::browser_present(browser, os, &dirs) || dir.is_some();
        writeln!(
            out,
            "{}{}",
            browser.display_name(),
            if present {
                ""
            } else {
                " (no profile for this user)"
            }
        )?;
        let findings = registration::doctor(browser, os, &dirs, &host, dir);
        let mut ok_here = false;
        for finding in findings {
            let mark = match &finding.verdict {
                Verdict::Ok => {
                    ok_here = true;
                    "ok      ".to_owned()
                }
                Verdict::Absent => "absent  ".to_owned(),
                Verdict::Wrong(_) => {
                    broken += 1;
                    "WRONG   ".to_owned()
                }
            };
            writeln!(out, "  {mark}{}", finding.place)?;
            if let Verdict::Wrong(problems) = &finding.verdict {
                for problem in problems {
                    writeln!(out, "          {problem}")?;
                }
            }
        }
        if ok_here {
            registered += 1;
        } else if present {
            writeln!(
                out,
                "  -> not registered: run `caiso-access install --browser {}`",
                browser.id()
            )?;
        }
    }
    if broken > 0 || registered == 0 {
        return Err(Failure::from(format!(
            "{broken} broken registration(s), {registered} browser(s) correctly registered"
        )));
    }
    Ok(())
}

fn classify(out: &mut impl Write, urls: &[String]) -> std::io::Result<()> {
    let classifier = Classifier::builtin();
    for url in urls {
        match classifier.classify(url) {
            Ok(answer) => {
                let systems: Vec<&str> = answer.systems.iter().map(|s| s.name).collect();
                let what = match (answer.site, systems.is_empty()) {
                    (Some(site), _) => site.to_owned(),
                    (None, false) => systems.join(" / "),
                    (None, true) => "-".to_owned(),
                };
                let status = match answer.status {
                    Status::Current => "current",
                    Status::Legacy => "old, still answering",
                    Status::Decommissioned => "old, switched off",
                    Status::UnknownCaiso => "caiso.com, not in the catalog",
                    Status::NotCaiso => "not CAISO",
                };
                write!(out, "{url}\n  {status}; {what}")?;
                if let Some(environment) = answer.environment {
                    write!(out, "; {environment}")?;
                }
                writeln!(out)?;
                if let Some(replacement) = &answer.replacement {
                    writeln!(out, "  now: {replacement}")?;
                }
            }
            Err(e) => writeln!(out, "{url}\n  error: {e}")?,
        }
    }
    Ok(())
}

fn portals(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let environment = match args.first() {
        None => Environment::Production,
        Some(e) => Environment::from_id(e).ok_or_else(|| {
            usage(format!(
                "unknown environment {e:?} (production or map-stage)"
            ))
        })?,
    };
    for portal in Classifier::builtin().portals(environment) {
        writeln!(out, "{:<22} {}", portal.system.name, portal.url)?;
    }
    Ok(())
}
