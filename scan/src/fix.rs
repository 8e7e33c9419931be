//! `--fix`: a file's old addresses rewritten in place. The file is read again and matched again
//! (it may have changed since the scan); only the addresses with a replacement and without
//! credentials are rewritten, and nothing else: the encoding, the byte-order mark, the line
//! ends and every other byte stay. The original is kept beside it (`<name>.caiso-access.bak`,
//! or `.caiso-access.<n>.bak` when that exists), and the new content replaces the file
//! atomically (a temporary file in the same folder, then a rename), with the file's
//! permissions.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::addresses::{AddressFinding, Matcher};
use crate::walk::{BACKUP_MARK, ReadError, read_text};

/// What fixing one file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixed {
    /// The file.
    pub path: PathBuf,
    /// The addresses rewritten: (line, old, new), as shown (secret-looking values hidden).
    pub changes: Vec<(usize, String, String)>,
    /// Where the original is kept.
    pub backup: PathBuf,
}

/// `text` with each fixable finding's address replaced by its replacement.
pub fn rewrite(text: &[u8], findings: &[AddressFinding]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut from = 0;
    for finding in findings {
        let (true, Some(replacement)) = (finding.fixable, &finding.replacement) else {
            continue;
        };
        out.extend_from_slice(&text[from..finding.start]);
        out.extend_from_slice(replacement.as_bytes());
        from = finding.end;
    }
    out.extend_from_slice(&text[from..]);
    out
}

/// Fixes the file at `path`; `Ok(None)` when it has nothing to fix.
pub fn fix_file(path: &Path, matcher: &Matcher, max_size: u64) -> Result<Option<Fixed>, String> {
    let (encoding, text) = match read_text(path, max_size) {
        Ok(Some(text)) => text,
        Ok(None) => return Ok(None),
        Err(ReadError::TooLarge) => return Err("too large to fix".into()),
        Err(ReadError::Undecodable) => {
            return Err("its UTF-16 does not decode: left alone".into());
        }
        Err(ReadError::Io(why)) => return Err(why),
    };
    let findings = matcher.find(&text);
    let changes: Vec<(usize, String, String)> = findings
        .iter()
        .filter(|f| f.fixable)
        .filter_map(|f| Some((f.line, f.found.clone(), f.replacement_shown()?)))
        .collect();
    if changes.is_empty() {
        return Ok(None);
    }
    let content = crate::text::write(encoding, &rewrite(&text, &findings))
        .map_err(|e| format!("cannot encode the fixed text: {e}"))?;
    let original = std::fs::read(path).map_err(|e| e.to_string())?;
    let backup = free_backup_name(path)?;
    std::fs::write(&backup, &original)
        .map_err(|e| format!("cannot keep the original as {}: {e}", backup.display()))?;
    replace_atomically(path, &content)?;
    Ok(Some(Fixed {
        path: path.to_path_buf(),
        changes,
        backup,
    }))
}

/// `<name>.caiso-access.bak`, or the first `<name>.caiso-access.<n>.bak` not taken.
fn free_backup_name(path: &Path) -> Result<PathBuf, String> {
    let name = path
        .file_name()
        .ok_or_else(|| format!("{} is not a file", path.display()))?
        .to_string_lossy()
        .into_owned();
    let mark = BACKUP_MARK;
    (0..1000)
        .map(|n| match n {
            0 => path.with_file_name(format!("{name}{mark}.bak")),
            n => path.with_file_name(format!("{name}{mark}.{n}.bak")),
        })
        .find(|candidate| std::fs::symlink_metadata(candidate).is_err())
        .ok_or_else(|| format!("{}: too many backups beside it", path.display()))
}

/// Replaces `path`'s content with `content`: a temporary file in the same folder with the
/// same permissions, flushed, then renamed over it.
fn replace_atomically(path: &Path, content: &[u8]) -> Result<(), String> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let permissions = std::fs::metadata(path)
        .map_err(|e| e.to_string())?
        .permissions();
    let mut temporary = tempfile::NamedTempFile::new_in(folder)
        .map_err(|e| format!("cannot write in {}: {e}", folder.display()))?;
    temporary
        .write_all(content)
        .and_then(|()| temporary.as_file().sync_all())
        .map_err(|e| e.to_string())?;
    std::fs::set_permissions(temporary.path(), permissions).map_err(|e| e.to_string())?;
    temporary
        .persist(path)
        .map_err(|e| format!("cannot replace {}: {}", path.display(), e.error))?;
    Ok(())
}
