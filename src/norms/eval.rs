//! Measuring the urgency judgment on labelled messages: `async-norms eval-urgency FILE`.
//! A rule about people's messages is judged by how it reads real ones, so anyone can run it
//! on a file of their own workspace's messages (JSON lines with `text` and `label`,
//! `demand` or `not`) and see precision, recall and every message it misjudged.

use std::fmt::{self, Write as _};
use std::io::BufRead;

use serde::Deserialize;

use crate::norms::judge::judge;
use crate::norms::words::UrgencyLexicon;

/// Why a labelled file could not be read; each says where and what to change.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(
        "line {line}: {reason}; each line must be a JSON object with \"text\" and \"label\" (\"demand\" or \"not\")"
    )]
    BadLine { line: usize, reason: String },
    #[error(
        "line {line}: label {label:?} is neither \"demand\" nor \"not\" (\"unsure\" lines are skipped)"
    )]
    BadLabel { line: usize, label: String },
    #[error("the file could not be read: {0}")]
    Read(#[from] std::io::Error),
    #[error("the file holds no labelled messages")]
    Empty,
}

#[derive(Deserialize)]
struct Labelled {
    #[serde(default)]
    id: Option<String>,
    text: String,
    label: String,
}

/// One message the judgment read differently from its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Misjudged {
    /// The line's `id`, or its line number.
    pub(crate) id: String,
    pub(crate) text: String,
    /// `true`: labelled a demand but not flagged; `false`: flagged but labelled `not`.
    pub(crate) missed: bool,
    /// For a false flag: the phrase and the reason the judgment gave.
    pub(crate) reason: Option<String>,
}

/// Counts over a labelled file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evaluation {
    pub(crate) true_positives: usize,
    pub(crate) false_positives: usize,
    pub(crate) false_negatives: usize,
    pub(crate) true_negatives: usize,
    /// Lines labelled `unsure`, left out of the figures.
    pub(crate) unsure: usize,
    pub(crate) misjudged: Vec<Misjudged>,
}

impl Evaluation {
    /// Of the messages flagged, the share labelled `demand` (1 when none were flagged).
    pub(crate) fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    /// Of the messages labelled `demand`, the share flagged (1 when there were none).
    pub(crate) fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// Whether the judgment reads `text` as a demand on others, and why: the phrase and its
/// reason, e.g. "“ASAP” asks others to hurry".
pub(crate) fn explain(lexicon: &UrgencyLexicon, text: &str) -> Option<String> {
    let scan = lexicon.scan(text);
    let judgment = judge(&scan);
    let demand = judgment.words.or(judgment.emphasis)?;
    Some(format!(
        "“{}” {}",
        demand.typed(text),
        demand.pressure.explain()
    ))
}

/// Reads labelled messages and judges each with `lexicon`.
pub fn evaluate(lexicon: &UrgencyLexicon, input: impl BufRead) -> Result<Evaluation, EvalError> {
    let mut evaluation = Evaluation::default();
    for (n, line) in input.lines().enumerate() {
        let line = line?;
        let number = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        let labelled: Labelled = serde_json::from_str(&line).map_err(|e| EvalError::BadLine {
            line: number,
            reason: e.to_string(),
        })?;
        let demand = match labelled.label.as_str() {
            "demand" => true,
            "not" => false,
            "unsure" => {
                evaluation.unsure += 1;
                continue;
            }
            other => {
                return Err(EvalError::BadLabel {
                    line: number,
                    label: other.to_string(),
                });
            }
        };
        let reason = explain(lexicon, &labelled.text);
        let id = labelled.id.unwrap_or_else(|| format!("line {number}"));
        match (demand, reason) {
            (true, Some(_)) => evaluation.true_positives += 1,
            (false, None) => evaluation.true_negatives += 1,
            (true, None) => {
                evaluation.false_negatives += 1;
                evaluation.misjudged.push(Misjudged {
                    id,
                    text: labelled.text,
                    missed: true,
                    reason: None,
                });
            }
            (false, Some(reason)) => {
                evaluation.false_positives += 1;
                evaluation.misjudged.push(Misjudged {
                    id,
                    text: labelled.text,
                    missed: false,
                    reason: Some(reason),
                });
            }
        }
    }
    if evaluation.true_positives
        + evaluation.false_positives
        + evaluation.false_negatives
        + evaluation.true_negatives
        == 0
    {
        return Err(EvalError::Empty);
    }
    Ok(evaluation)
}

impl fmt::Display for Evaluation {
    /// The report `eval-urgency` prints: the figures, then each misjudged message on one
    /// line (line breaks shown as `⏎`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let labelled =
            self.true_positives + self.false_positives + self.false_negatives + self.true_negatives;
        let demands = self.true_positives + self.false_negatives;
        writeln!(
            f,
            "messages: {labelled} ({demands} labelled demand, {} not{})",
            labelled - demands,
            if self.unsure > 0 {
                format!(", {} unsure left out", self.unsure)
            } else {
                String::new()
            }
        )?;
        writeln!(
            f,
            "flagged: {} (true {}, false {}); missed: {}",
            self.true_positives + self.false_positives,
            self.true_positives,
            self.false_positives,
            self.false_negatives
        )?;
        writeln!(f, "precision: {:.3}", self.precision())?;
        writeln!(f, "recall: {:.3}", self.recall())?;
        for (missed, title) in [
            (false, "flagged but labelled not"),
            (true, "labelled demand but not flagged"),
        ] {
            let cases: Vec<&Misjudged> = self
                .misjudged
                .iter()
                .filter(|m| m.missed == missed)
                .collect();
            if cases.is_empty() {
                continue;
            }
            writeln!(f, "\n{title} ({}):", cases.len())?;
            for case in cases {
                let mut line = String::new();
                let _ = write!(line, "  {}: {}", case.id, case.text.replace('\n', " ⏎ "));
                if let Some(reason) = &case.reason {
                    let _ = write!(line, "  [{reason}]");
                }
                writeln!(f, "{line}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexicon() -> UrgencyLexicon {
        UrgencyLexicon::with_defaults().unwrap()
    }

    #[test]
    fn precision_recall_and_misjudged_messages_are_counted() {
        let file = [
            r#"{"id": "a", "text": "please review this asap", "label": "demand"}"#,
            r#"{"id": "b", "text": "I'll fix it asap", "label": "not"}"#,
            r#"{"id": "c", "text": "can you look at it?", "label": "demand"}"#,
            r#"{"id": "d", "text": "review asap, thanks", "label": "not"}"#,
            r#"{"text": "who knows", "label": "unsure"}"#,
            "",
        ]
        .join("\n");
        let evaluation = evaluate(&lexicon(), file.as_bytes()).unwrap();
        assert_eq!(
            (
                evaluation.true_positives,
                evaluation.false_positives,
                evaluation.false_negatives,
                evaluation.true_negatives,
                evaluation.unsure
            ),
            (1, 1, 1, 1, 1)
        );
        assert_eq!(evaluation.precision(), 0.5);
        assert_eq!(evaluation.recall(), 0.5);
        let report = evaluation.to_string();
        assert!(report.contains("precision: 0.500"), "{report}");
        assert!(
            report.contains("d: review asap, thanks  [“asap” asks others to hurry]"),
            "{report}"
        );
        assert!(report.contains("c: can you look at it?"), "{report}");
    }

    #[test]
    fn bad_lines_are_named_with_their_number() {
        let bad_json = "{\"text\": \"x\", \"label\": \"not\"}\nnot json";
        let error = evaluate(&lexicon(), bad_json.as_bytes()).unwrap_err();
        assert!(error.to_string().starts_with("line 2: "), "{error}");
        let bad_label = r#"{"text": "x", "label": "maybe"}"#;
        let error = evaluate(&lexicon(), bad_label.as_bytes()).unwrap_err();
        assert!(error.to_string().contains("\"maybe\""), "{error}");
        assert!(matches!(
            evaluate(&lexicon(), "".as_bytes()),
            Err(EvalError::Empty)
        ));
    }
}
