//! Splitting one command's arguments into positional ones, flags and valued options.

use super::{Failure, suggest, usage};

/// Options and positional arguments of one command.
pub(crate) struct Args {
    /// The arguments that are not options, in order.
    pub positional: Vec<String>,
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
                    let hint = suggest::nearest(name, flags.iter().chain(valued).copied())
                        .map(|known| format!("; did you mean `--{known}`?"))
                        .unwrap_or_default();
                    return Err(usage(format!("unknown option --{name}{hint}")));
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

    /// Whether the flag `--name` was given.
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.options.iter().any(|(n, _)| n == name)
    }

    /// The value of the last `--name <value>`.
    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }

    /// Every value of `--name <value>`, in order.
    pub(crate) fn values(&self, name: &str) -> Vec<&str> {
        self.options
            .iter()
            .filter(|(n, _)| n == name)
            .filter_map(|(_, v)| v.as_deref())
            .collect()
    }
}
