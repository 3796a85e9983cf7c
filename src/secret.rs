//! A secret value (a token, a signing secret, a key) that is printed only on purpose: the
//! settings read it and the Slack edge uses it, and neither lets it into a log line.

use std::fmt;

/// A token or signing secret: printable only on purpose, never by `{:?}` in a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}
