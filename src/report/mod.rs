//! Every output goes through here: the terminal table, the versioned JSON and OCSF findings,
//! each written to an `impl io::Write`. Library code elsewhere does not print.
//!
//! Text that came from a cloud, a log or the allowlist is untrusted: in the terminal it passes
//! through [`inert`] so it cannot move the cursor, recolour the screen or reorder what the
//! reader sees. JSON keeps exact values (serde escapes control characters itself).

pub mod audit;
pub mod json;
pub mod ocsf;
pub mod table;

use std::borrow::Cow;

/// How the scan report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    /// Newline-delimited OCSF findings ([`ocsf`]).
    Ocsf,
}

/// Escapes C0 and C1 controls (ESC and the one-byte CSI U+009B among them), DEL, bidi
/// overrides and isolates, and zero-width characters visibly as `\u{…}`, so hostile text is
/// shown rather than obeyed, and never silently dropped.
pub fn inert(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_dangerous) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_dangerous(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn is_dangerous(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{061c}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::inert;

    #[test]
    fn escapes_terminal_control_and_bidi_but_keeps_ordinary_text() {
        assert_eq!(inert("plain-ids eni-0a1b/ü"), "plain-ids eni-0a1b/ü");
        assert_eq!(inert("a\u{1b}[31mred"), "a\\u{1b}[31mred");
        assert_eq!(inert("\u{9b}2J"), "\\u{9b}2J");
        assert_eq!(inert("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(inert("zero\u{200b}width"), "zero\\u{200b}width");
        assert_eq!(inert("line\nbreak\ttab"), "line\\u{a}break\\u{9}tab");
    }
}
