//! Time zones as people type them. Every entry path (the `/async` command, both modals, the
//! CLI, the audit's settings) reads a zone through [`parse_zone`], so they agree on what is a
//! zone: an IANA name in any case. Abbreviations and offsets are refused with a hint, since
//! the fixed zone they stand for is an hour off half the year. Names the bot wrote itself or
//! Slack sent (stored records, profiles) are read with [`zone_by_name`], which takes any name
//! the zone database knows, so nothing stored before is lost.

use chrono_tz::{TZ_VARIANTS, Tz};

use crate::typed::{edit_distance, shown};

/// Why a typed zone was refused; each message names what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZoneError {
    #[error("`{got}` is not an IANA time zone I know.{}", zone_hint(.suggestions))]
    Unknown {
        got: String,
        suggestions: Vec<&'static str>,
    },
    #[error("`{got}` is an abbreviation, which does not say when daylight saving changes; use a city zone instead, e.g. {}.", .examples.join(" or "))]
    Abbreviated {
        got: String,
        examples: &'static [&'static str],
    },
    #[error(
        "`{got}` is a fixed offset, which ignores daylight saving; use a city zone such as Europe/Berlin or America/New_York (or UTC)."
    )]
    Offset { got: String },
}

fn zone_hint(suggestions: &[&'static str]) -> String {
    match suggestions {
        [] => " Use an IANA name such as Europe/Berlin or America/New_York.".to_string(),
        [one] => format!(" Did you mean {one}?"),
        [first @ .., last] => format!(" Did you mean {} or {last}?", first.join(", ")),
    }
}

/// A zone by the exact name the zone database gives it (`Europe/Berlin`, but also `EST`):
/// for names read from the store or from Slack, never for what a person typed.
pub(crate) fn zone_by_name(name: &str) -> Option<Tz> {
    name.trim().parse().ok()
}

/// Abbreviations people type for zones, with the city zones they usually mean.
pub(crate) fn abbreviation_examples(word: &str) -> Option<&'static [&'static str]> {
    let examples: &'static [&'static str] = match word.to_ascii_uppercase().as_str() {
        "EST" | "EDT" | "ET" => &["America/New_York", "America/Toronto"],
        "CST" | "CDT" | "CT" => &["America/Chicago", "America/Mexico_City", "Asia/Shanghai"],
        "MST" | "MDT" | "MT" => &["America/Denver", "America/Phoenix"],
        "PST" | "PDT" | "PT" => &["America/Los_Angeles", "America/Vancouver"],
        "AKST" | "AKDT" => &["America/Anchorage"],
        "HST" => &["Pacific/Honolulu"],
        "GMT" | "BST" => &["Europe/London", "UTC"],
        "IST" => &["Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"],
        "CET" | "CEST" | "MET" | "MEST" => &["Europe/Berlin", "Europe/Paris", "Europe/Madrid"],
        "EET" | "EEST" => &["Europe/Athens", "Europe/Helsinki"],
        "WET" | "WEST" => &["Europe/Lisbon"],
        "MSK" => &["Europe/Moscow"],
        "JST" => &["Asia/Tokyo"],
        "KST" => &["Asia/Seoul"],
        "SGT" => &["Asia/Singapore"],
        "HKT" => &["Asia/Hong_Kong"],
        "AEST" | "AEDT" => &["Australia/Sydney", "Australia/Melbourne"],
        "ACST" | "ACDT" => &["Australia/Adelaide"],
        "AWST" => &["Australia/Perth"],
        "NZST" | "NZDT" => &["Pacific/Auckland"],
        "BRT" => &["America/Sao_Paulo"],
        "ART" => &["America/Argentina/Buenos_Aires"],
        _ => return None,
    };
    Some(examples)
}

/// `UTC+2`, `GMT-05:00`, `+02:00`: offsets, which people type for zones.
fn is_offset(word: &str) -> bool {
    let upper = word.to_ascii_uppercase();
    let rest = upper
        .strip_prefix("UTC")
        .or_else(|| upper.strip_prefix("GMT"))
        .unwrap_or(&upper);
    rest.starts_with(['+', '-'])
        && rest.len() > 1
        && rest[1..].bytes().all(|b| b.is_ascii_digit() || b == b':')
}

/// Reads an IANA zone name, case-insensitively. Abbreviations and offsets are refused even
/// where the zone database has them (`EST`, `CET`), because people who type them mean a
/// place whose clocks change, and the fixed zone would be an hour off half the year.
pub fn parse_zone(word: &str) -> Result<Tz, ZoneError> {
    let word = word.trim();
    if let Some(examples) = abbreviation_examples(word) {
        return Err(ZoneError::Abbreviated {
            got: shown(word),
            examples,
        });
    }
    if let Some(tz) = TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().eq_ignore_ascii_case(word))
    {
        return Ok(*tz);
    }
    if is_offset(word) {
        return Err(ZoneError::Offset { got: shown(word) });
    }
    Err(ZoneError::Unknown {
        got: shown(word),
        suggestions: suggest_zones(word),
    })
}

/// Up to three IANA names closest to `word` by edit distance, comparing case-insensitively
/// with the whole name and with its last segment (so `berlin` finds Europe/Berlin).
pub fn suggest_zones(word: &str) -> Vec<&'static str> {
    let lower = word.to_lowercase();
    let length = lower.chars().count();
    if length == 0 || length > 40 {
        return Vec::new();
    }
    let limit = (length / 3).clamp(1, 3);
    let mut scored: Vec<(usize, bool, usize, &'static str)> = TZ_VARIANTS
        .iter()
        .filter_map(|tz| {
            let name = tz.name();
            let name_lower = name.to_ascii_lowercase();
            let segment = name_lower.rsplit('/').next().unwrap_or(&name_lower);
            let distance = [name_lower.as_str(), segment]
                .into_iter()
                .filter(|candidate| candidate.len().abs_diff(length) <= limit)
                .map(|candidate| edit_distance(&lower, candidate))
                .min()?;
            // Prefer region/city names over legacy aliases like `US/Eastern` or `Etc/…`.
            let legacy = !name.contains('/') || name.starts_with("US/") || name.starts_with("Etc/");
            (distance <= limit).then_some((distance, legacy, name.len(), name))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(.., name)| name).collect()
}

/// The regions whose `Region/City` zones a picker offers; legacy aliases (`US/Eastern`,
/// `Etc/GMT+5`, `EST5EDT`) are left out, as a person looking for their city means these.
const PICKER_REGIONS: [&str; 9] = [
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
];

/// Every zone a picker offers: `UTC`, then the region/city zones, alphabetically.
pub(crate) fn pickable_zones() -> &'static [&'static str] {
    static ZONES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        let mut names: Vec<&'static str> = TZ_VARIANTS
            .iter()
            .map(|tz| tz.name())
            .filter(|name| {
                name.split_once('/')
                    .is_some_and(|(region, _)| PICKER_REGIONS.contains(&region))
            })
            .collect();
        names.sort_unstable();
        names.insert(0, "UTC");
        names
    });
    &ZONES
}

/// The zones a searchable picker shows for what was `typed`: names containing it (in any
/// case, `_` read as a space), those where a part of the name starts with it first, and
/// `own` (the member's zone) before all when it matches or nothing was typed. At most
/// `limit` names.
pub(crate) fn zone_suggestions(typed: &str, own: Tz, limit: usize) -> Vec<&'static str> {
    let query = typed.trim().to_lowercase().replace('_', " ");
    let readable = |name: &str| name.to_lowercase().replace('_', " ");
    let matches = |name: &str| query.is_empty() || readable(name).contains(&query);
    let part_starts = |name: &str| {
        readable(name)
            .split(['/', ' ', '-'])
            .any(|part| part.starts_with(&query))
    };
    let mut found: Vec<&'static str> = Vec::with_capacity(limit);
    if matches(own.name()) {
        found.push(own.name());
    }
    let mut rest: Vec<&'static str> = pickable_zones()
        .iter()
        .copied()
        .filter(|name| *name != own.name() && matches(name))
        .collect();
    // A stable sort keeps the alphabetical order within each kind of match.
    rest.sort_by_key(|name| !part_starts(name));
    found.extend(rest);
    found.truncate(limit);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_zone_suggests_the_closest_names() {
        assert_eq!(
            suggest_zones("Europe/Berln").first(),
            Some(&"Europe/Berlin")
        );
        assert_eq!(suggest_zones("berlin"), vec!["Europe/Berlin"]);
        assert_eq!(suggest_zones("new_york").first(), Some(&"America/New_York"));
        assert_eq!(suggest_zones("Tokio").first(), Some(&"Asia/Tokyo"));
        assert!(suggest_zones("xqzzyqqq").is_empty());
        assert!(suggest_zones(&"x".repeat(500)).is_empty());
        assert!(suggest_zones("London").len() <= 3);
        let err = parse_zone("Europe/Berln").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`Europe/Berln` is not an IANA time zone I know. Did you mean Europe/Berlin?"
        );
    }

    #[test]
    fn zone_names_are_read_case_insensitively_but_abbreviations_are_refused() {
        assert_eq!(parse_zone("europe/berlin"), Ok(chrono_tz::Europe::Berlin));
        assert_eq!(
            parse_zone("America/Port-au-Prince"),
            Ok("America/Port-au-Prince".parse::<Tz>().unwrap())
        );
        assert_eq!(parse_zone("EST5EDT"), Ok(chrono_tz::EST5EDT));
        assert_eq!(parse_zone("UTC"), Ok(Tz::UTC));
        for abbreviation in ["EST", "est", "PDT", "CET", "GMT", "IST", "AEST"] {
            assert!(
                matches!(parse_zone(abbreviation), Err(ZoneError::Abbreviated { .. })),
                "{abbreviation}"
            );
        }
        assert!(matches!(
            parse_zone("GMT-05:00"),
            Err(ZoneError::Offset { .. })
        ));
        assert!(matches!(
            parse_zone("+02:00"),
            Err(ZoneError::Offset { .. })
        ));
    }

    #[test]
    fn names_the_bot_or_slack_wrote_are_read_as_the_zone_database_has_them() {
        assert_eq!(
            zone_by_name("Europe/Berlin"),
            Some(chrono_tz::Europe::Berlin)
        );
        assert_eq!(zone_by_name("EST"), Some(chrono_tz::EST));
        assert_eq!(zone_by_name("Mars/Olympus"), None);
    }
    #[test]
    fn a_picker_offers_city_zones_filtered_by_what_was_typed_with_the_members_own_first() {
        let zones = pickable_zones();
        assert_eq!(zones.first(), Some(&"UTC"));
        assert!(zones.contains(&"Europe/Berlin") && zones.contains(&"America/Port-au-Prince"));
        assert!(!zones.contains(&"US/Eastern") && !zones.contains(&"EST"));
        assert!(
            zones.iter().all(|name| parse_zone(name).is_ok()),
            "every offer reads back"
        );

        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            zone_suggestions("", berlin, 100).first(),
            Some(&"Europe/Berlin")
        );
        assert_eq!(zone_suggestions("", berlin, 100).len(), 100);
        // Typed "new": the cities whose name starts so come before names that only hold it.
        let new = zone_suggestions("new", berlin, 100);
        assert_eq!(new.first(), Some(&"America/New_York"), "{new:?}");
        assert!(
            new.iter().all(|n| n.to_lowercase().contains("new")),
            "{new:?}"
        );
        let last_prefix = new.iter().rposition(|n| n.contains("New")).unwrap();
        assert!(
            new[..=last_prefix].iter().all(|n| n.contains("New")),
            "{new:?}"
        );
        // "los angeles" finds the name with its underscore, in any case.
        assert_eq!(
            zone_suggestions("LOS ANGELES", berlin, 100),
            ["America/Los_Angeles"]
        );
        // The member's zone leads when it matches, and is not listed twice.
        let europe = zone_suggestions("europe/", berlin, 100);
        assert_eq!(europe[0], "Europe/Berlin");
        assert_eq!(europe.iter().filter(|n| **n == "Europe/Berlin").count(), 1);
        assert!(!zone_suggestions("tokyo", berlin, 100).contains(&"Europe/Berlin"));
        // A zone from a Slack profile outside the list still leads.
        let eastern: Tz = "US/Eastern".parse().unwrap();
        assert_eq!(zone_suggestions("", eastern, 5)[0], "US/Eastern");
        assert!(zone_suggestions("xqzzy", berlin, 100).is_empty());
    }
}
