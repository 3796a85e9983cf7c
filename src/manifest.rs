//! The Slack app manifest shipped as `manifest.yml`, printed with the request URLs of the
//! operator's host filled in, so installing is one paste.

const MANIFEST: &str = include_str!("../manifest.yml");
/// The host the shipped manifest names in its request URLs.
const PLACEHOLDER_HOST: &str = "https://bot.example.com";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error(
        "`{0}` is not a base URL like https://bot.example.com (Slack needs https for request URLs)"
    )]
    BadUrl(String),
}

/// The manifest; with `base_url`, its request URLs point there.
pub fn render(base_url: Option<&str>) -> Result<String, ManifestError> {
    let Some(base_url) = base_url else {
        return Ok(MANIFEST.to_string());
    };
    let trimmed = base_url.trim().trim_end_matches('/');
    let parsed = url::Url::parse(trimmed).map_err(|_| ManifestError::BadUrl(base_url.into()))?;
    if !matches!(parsed.scheme(), "https" | "http")
        || !parsed.has_host()
        || parsed.query().is_some()
    {
        return Err(ManifestError::BadUrl(base_url.into()));
    }
    Ok(MANIFEST.replace(PLACEHOLDER_HOST, trimmed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_urls_take_the_given_host() {
        let manifest = render(Some("https://norms.acme.dev/")).unwrap();
        assert!(manifest.contains("request_url: https://norms.acme.dev/slack/events"));
        assert!(manifest.contains("url: https://norms.acme.dev/slack/commands"));
        assert!(manifest.contains("request_url: https://norms.acme.dev/slack/interactivity"));
        assert!(!manifest.contains("bot.example.com"));
    }

    #[test]
    fn a_base_url_that_is_not_one_is_refused() {
        for bad in ["norms.acme.dev", "ftp://x", "https://x?y=1", ""] {
            assert!(render(Some(bad)).is_err(), "{bad}");
        }
    }
}
