//! The command-line front end: argument parsing ([`args`]) and one file per command group
//! ([`identities`], [`browsers`], [`calls`], [`settings`], [`lookup`], [`scan`], [`schemas`]). Each command parses its
//! arguments, calls one use case of the core and writes the result; this is the only place
//! printed wording and exit codes are decided (2 for usage errors, 1 for every other failure).

pub(crate) mod args;
pub(crate) mod browsers;
pub(crate) mod calls;
pub(crate) mod identities;
pub(crate) mod lookup;
pub(crate) mod scan;
pub(crate) mod schemas;
pub(crate) mod settings;
mod suggest;

use std::io::Write;

use crate::error::HostError;

/// The usage text.
pub const USAGE: &str = "\
caiso-access: CAISO access helper (independent project, not affiliated with the California ISO)

usage:
  caiso-access import <file.p12|cert.pem> [--label <name>] [--key <key.pem>]
                      [--environment production|map-stage] [--kind user|application]
                      [--passphrase-env <VAR> | --passphrase-stdin] [--no-keyring] [--replace]
                                      add a certificate and its key (the files stay where they are;
                                      the label is made from the certificate's name if not given);
                                      a typed passphrase goes to the OS keyring (Windows Credential
                                      Manager, macOS Keychain, Linux Secret Service) where one
                                      answers, else it is not kept
  caiso-access import --store <thumbprint> [--label <name>] [--environment ...] [--kind ...]
                                      use a certificate of the Windows certificate store: its key
                                      stays there (never exported) and signs in place
  caiso-access store [--json]         CAISO's certificates in the Windows certificate store
  caiso-access status [--json]        every certificate: expiry, CA, renewal progress, problems
  caiso-access metrics [--textfile <folder>]
                                      the same in the Prometheus text format, or written as this
                                      user's file into a textfile collector's folder
  caiso-access verify <label>         open the certificate file with its kept passphrase, check the
                                      key still fits and refresh what the host knows of it
  caiso-access renewal <label> approved [--date YYYY-MM-DD]
  caiso-access renewal <label> registered <transaction-id> [--date YYYY-MM-DD]
  caiso-access renewal <label> installed|retired [--date YYYY-MM-DD]
  caiso-access renewal <label> reset  record a step of CAISO's renewal procedure
  caiso-access rename <old> <new>     give a certificate another label (history kept)
  caiso-access sc-id <label> <SC ID>|off
                                      the Scheduling Coordinator ID test calls query with it
  caiso-access remove <label>         forget a certificate (its files are not touched)
  caiso-access thresholds <days,...>  reminder thresholds (default 30,14,7,3,1)
  caiso-access install [--browser <name>]... [--user-data-dir <dir>] [--extension-id <id>]...
  caiso-access uninstall [--browser <name>]... [--user-data-dir <dir>]
  caiso-access doctor [--browser <name>]... [--user-data-dir <dir>]
                                      register with / unregister from / check the browsers
                                      (chrome, chromium, edge, brave, firefox); --extension-id
                                      also allows an organisation's own package of the extension
  caiso-access install --beside-program [--extension-id <id>]...
                                      write the package manifests beside this program (the
                                      per-machine MSI's step for its EXTENSION_ID)
  caiso-access classify <url>...      what each URL is and where an old one leads now
  caiso-access scan <path>... [--json] [--fix]
                                      find old CAISO addresses in applications' files (config,
                                      SoapUI projects, source); --fix rewrites them in place,
                                      keeping a backup and every other byte
  caiso-access portals [production|map-stage]
                                      every current CAISO portal of an environment
  caiso-access tests [--json]         the API test calls available here
  caiso-access call <label> <system> <service> [--environment production|map-stage|sandbox]
                    [--repeat <n>] [--save <folder>] [--json]
                                      a signed test call with the certificate, within CAISO's
                                      rate limits, what it proved and what the answer means;
                                      --save writes the request sent and the answer received
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
  caiso-access schemas import <zip-or-folder>
                                      keep CAISO's request schemas from an artifact package (as
                                      CAISO's developer site gives them): test calls then write
                                      and check their requests from them
  caiso-access schemas list | schemas remove <operation>|--all
  caiso-access --version

files: $CAISO_ACCESS_CONFIG_DIR or the system's configuration folder (caiso-access/config.json)
";

/// Every command `run` knows, for "did you mean" (a test checks each is dispatched).
const COMMANDS: [&str; 27] = [
    "import",
    "status",
    "metrics",
    "store",
    "renewal",
    "remove",
    "rename",
    "verify",
    "thresholds",
    "install",
    "uninstall",
    "doctor",
    "classify",
    "scan",
    "schemas",
    "portals",
    "tests",
    "call",
    "diagnose",
    "report",
    "sandbox",
    "trust",
    "signature",
    "timeout",
    "sc-id",
    "help",
    "--version",
];

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

impl From<HostError> for Failure {
    fn from(e: HostError) -> Self {
        Failure::from(e.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::from(e.to_string())
    }
}

/// A usage error: the message, then the usage text; exit code 2.
pub fn usage(message: impl Into<String>) -> Failure {
    Failure {
        message: format!("{}\n\n{USAGE}", message.into()),
        code: 2,
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
        Some("import") => identities::import(rest, out),
        Some("status") => identities::status(rest, out),
        Some("metrics") => identities::metrics(rest, out),
        Some("store") => identities::store(rest, out),
        Some("renewal") => identities::renewal_step(rest, out),
        Some("remove") => identities::remove(rest, out),
        Some("rename") => identities::rename(rest, out),
        Some("verify") => identities::verify(rest, out),
        Some("thresholds") => settings::thresholds(rest, out),
        Some("install") => browsers::install(rest, out),
        Some("uninstall") => browsers::uninstall(rest, out),
        Some("doctor") => browsers::doctor(rest, out),
        Some("classify") if !rest.is_empty() => Ok(lookup::classify(out, rest)?),
        Some("scan") => scan::scan(rest, out),
        Some("schemas") => schemas::schemas(rest, out),
        Some("portals") => lookup::portals(rest, out),
        Some("tests") => calls::tests(rest, out),
        Some("call") => calls::call(rest, out),
        Some("diagnose") => calls::diagnose(rest, out),
        Some("report") => calls::report(rest, out),
        Some("sandbox") => settings::sandbox(rest, out),
        Some("trust") => settings::trust(rest, out),
        Some("signature") => settings::signature(rest, out),
        Some("timeout") => settings::timeout(rest, out),
        Some("sc-id") => settings::sc_id(rest, out),
        Some(other) => Err(usage(format!(
            "unknown command {other:?}{}",
            suggest::did_you_mean(other, COMMANDS)
        ))),
        None => Err(usage("no command given")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commands_offered_as_guesses_are_the_commands_of_the_usage() {
        let mut in_usage: Vec<&str> = USAGE
            .lines()
            .filter_map(|line| line.trim_start().strip_prefix("caiso-access "))
            .filter_map(|rest| rest.split_whitespace().next())
            .collect();
        in_usage.dedup();
        let mut guesses: Vec<&str> = COMMANDS.into_iter().filter(|c| *c != "help").collect();
        in_usage.sort_unstable();
        in_usage.dedup();
        guesses.sort_unstable();
        assert_eq!(in_usage, guesses);
    }

    #[test]
    fn an_unknown_command_is_a_usage_error_with_a_guess() {
        let failure = run(&["imprt".to_owned()], &mut Vec::new()).expect_err("unknown");
        assert_eq!(failure.code, 2);
        let expected = format!("unknown command \"imprt\"; did you mean `import`?\n\n{USAGE}");
        assert_eq!(failure.message, expected);
    }
}
