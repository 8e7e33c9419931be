//! Running commands and the tree's places: what every task of xtask uses (the project root,
//! the tools folder, cargo, a step's heading, a command run or read, files written and listed).

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What every task returns: its failure in words.
pub type Result<T = ()> = std::result::Result<T, String>;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

pub fn step(title: &str) {
    eprintln!("\n==> {title}");
}

/// Runs a command in the project root and fails with its description if it fails.
pub fn run(command: &mut Command) -> Result {
    command.current_dir(root());
    eprintln!("$ {}", describe(command));
    let status = command
        .status()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(command)))
    }
}

pub fn output(command: &mut Command) -> Option<String> {
    let out = command.current_dir(root()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

pub fn write(path: &Path, contents: &[u8]) -> Result {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    fs::write(path, contents).map_err(|e| format!("{}: {e}", path.display()))
}

/// Every file and folder below `dir`.
pub fn files_under(dir: &Path) -> Result<BTreeSet<PathBuf>> {
    let mut found = BTreeSet::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        for entry in fs::read_dir(&folder).map_err(|e| format!("{}: {e}", folder.display()))? {
            let entry = entry.map_err(|e| e.to_string())?;
            let path = entry.path();
            // Links are not followed (a Wine prefix's drive letters lead out of it).
            if entry.file_type().map_err(|e| e.to_string())?.is_dir() {
                pending.push(path.clone());
            }
            found.insert(path);
        }
    }
    Ok(found)
}

/// Installs the cargo subcommand `name` at `version` into `tools/` (from its own lockfile)
/// unless that version is there.
pub fn cargo_tool(name: &str, version: &str) -> Result {
    let installed = output(Command::new(tools_bin(name)).arg("--version")).unwrap_or_default();
    if installed.split_whitespace().nth(1) == Some(version) {
        return Ok(());
    }
    run(cargo().args([
        "install",
        name,
        "--version",
        version,
        "--locked",
        "--root",
        "tools",
    ]))
}

pub fn tools_bin(name: &str) -> PathBuf {
    root().join("tools").join("bin").join(name)
}

pub fn file_size(path: &Path) -> Result<u64> {
    fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// `files` (name, contents) as a ZIP archive, deflated, with fixed timestamps.
pub fn zip_bytes(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // Fixed timestamps (zip's default) keep packages reproducible.
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, contents) in files {
        zip.start_file(name.as_str(), options)
            .map_err(|e| e.to_string())?;
        zip.write_all(contents).map_err(|e| e.to_string())?;
    }
    Ok(zip.finish().map_err(|e| e.to_string())?.into_inner())
}
