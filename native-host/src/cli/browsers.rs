//! `install`, `uninstall`, `doctor`: registering with the browsers and checking every place
//! each looks.

use std::io::Write;
use std::path::PathBuf;

use super::args::Args;
use super::{Failure, usage};
use crate::actions::{self, Workspace};
use crate::registration::{self, Browser, Os, UserDirs, Verdict};

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
    Ok(dunce::canonicalize(&exe).unwrap_or(exe))
}

/// `caiso-access install [--browser NAME]... [--user-data-dir DIR] [--extension-id ID]...`, or
/// `caiso-access install --beside-program [--extension-id ID]...`.
pub(crate) fn install(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(
        args,
        &["beside-program"],
        &["browser", "user-data-dir", "extension-id"],
    )?;
    // An organisation's own package of the extension (its id from its signing key) is allowed
    // first, so the manifests written below name it too; every id is checked before any is kept.
    let ids = args.values("extension-id");
    let mut origins = Vec::new();
    for id in &ids {
        origins.push(actions::settings::extension_origin(id)?);
    }
    if args.flag("beside-program") {
        // The per-machine MSI's step for its EXTENSION_ID: the manifests it installed beside
        // the program, again, naming the ids too. No registry key, no user's settings: the
        // package owns the keys, and the machine policy allows the ids for every user.
        if args.value("browser").is_some() || args.value("user-data-dir").is_some() {
            return Err(usage(
                "--beside-program writes the manifests beside this program; it takes only --extension-id".to_owned(),
            ));
        }
        for path in registration::write_package_manifests(&host_path()?, &origins)? {
            writeln!(out, "wrote {}", path.display())?;
        }
        return Ok(());
    }
    if !ids.is_empty() {
        let mut workspace = Workspace::open()?;
        for id in ids {
            let origin = actions::settings::allow_extension(&mut workspace, id)?;
            writeln!(out, "allowed {origin} to use this host")?;
        }
    }
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
    let extra = Workspace::open()?.config()?.extra_allowed_callers.clone();
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

/// `caiso-access uninstall [--browser NAME]... [--user-data-dir DIR]`.
pub(crate) fn uninstall(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
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

/// `caiso-access doctor [--browser NAME]... [--user-data-dir DIR]`.
pub(crate) fn doctor(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
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
