//! Per-user registry entries (HKEY_CURRENT_USER needs no administrator rights). There is no
//! registry off Windows; there these are never reached (the places of other systems are
//! folders).

pub(super) use imp::{delete, get_default, set_default};

#[cfg(windows)]
mod imp {
    use std::path::Path;
    use winreg::RegKey;

    use crate::error::{HostError, HostResult};
    use crate::registration::RegistryView;
    use winreg::enums::{
        HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, KEY_READ, KEY_WOW64_32KEY, KEY_WOW64_64KEY,
    };

    pub(crate) fn set_default(key: &str, manifest: &Path) -> HostResult<()> {
        let (entry, _) = RegKey::predef(HKEY_CURRENT_USER)
            .create_subkey(key)
            .map_err(|e| {
                HostError::Registration(format!("cannot create HKEY_CURRENT_USER\\{key}: {e}"))
            })?;
        entry
            .set_value("", &manifest.display().to_string())
            .map_err(|e| {
                HostError::Registration(format!("cannot set HKEY_CURRENT_USER\\{key}: {e}"))
            })
    }

    pub(crate) fn delete(key: &str) -> HostResult<bool> {
        match RegKey::predef(HKEY_CURRENT_USER).delete_subkey_all(key) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(HostError::Registration(format!(
                "cannot delete HKEY_CURRENT_USER\\{key}: {e}"
            ))),
        }
    }

    pub(crate) fn get_default(
        hive: &str,
        key: &str,
        view: Option<RegistryView>,
    ) -> HostResult<Option<String>> {
        let root = if hive == "HKEY_LOCAL_MACHINE" {
            HKEY_LOCAL_MACHINE
        } else {
            HKEY_CURRENT_USER
        };
        let flags = KEY_READ
            | match view {
                Some(RegistryView::Bits32) => KEY_WOW64_32KEY,
                Some(RegistryView::Bits64) => KEY_WOW64_64KEY,
                None => 0,
            };
        match RegKey::predef(root).open_subkey_with_flags(key, flags) {
            Ok(entry) => entry.get_value::<String, _>("").map(Some).map_err(|e| {
                HostError::Registration(format!("{hive}\\{key} has no usable default value: {e}"))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(HostError::Registration(format!(
                "cannot open {hive}\\{key}: {e}"
            ))),
        }
    }
}

#[cfg(not(windows))]
mod imp {
    use std::path::Path;

    use crate::error::{HostError, HostResult};

    pub(crate) fn set_default(_key: &str, _manifest: &Path) -> HostResult<()> {
        Err(HostError::Registration(
            "the Windows registry exists only on Windows".into(),
        ))
    }

    pub(crate) fn delete(_key: &str) -> HostResult<bool> {
        Ok(false)
    }

    pub(crate) fn get_default(
        _hive: &str,
        _key: &str,
        _view: Option<crate::registration::RegistryView>,
    ) -> HostResult<Option<String>> {
        Ok(None)
    }
}
