//! Slack identifiers as types, so a user id can never be passed where a channel id belongs.
//! They are plain strings on the wire (`T…`, `U…`/`W…`, `C…`/`G…`/`D…`).

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! slack_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_string())
            }
        }
    };
}

slack_id!(
    /// A workspace (`T…`). Every stored key starts with one.
    TeamId
);
slack_id!(
    /// A member or bot user (`U…`, `W…`).
    UserId
);
slack_id!(
    /// A channel, private channel or DM (`C…`, `G…`, `D…`).
    ChannelId
);
slack_id!(
    /// A user group (`S…`), mentioned as `<!subteam^S…>`.
    GroupId
);
