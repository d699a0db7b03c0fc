//! Name patterns: Shelly's `?`/`*` wildcards and Python's `fnmatch` (what Home Assistant uses).
//!
//! Both compile to the same token list and run on the same matcher: a greedy scan that remembers
//! only the last `*`, so matching is `O(pattern × name)` at worst and never backtracks
//! exponentially. Matching is case-sensitive and works on Unicode scalar values (Python's `str`
//! semantics), anchored at both ends.

use alloc::string::String;
use alloc::vec::Vec;

/// One compiled pattern element.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// Exactly this character.
    Char(char),
    /// `?`: any one character.
    Any,
    /// `*`: any run of characters, possibly empty.
    Star,
    /// `[seq]` / `[!seq]`: one character inside (or, negated, outside) the inclusive ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Token {
    fn matches_one(&self, c: char) -> bool {
        match self {
            Self::Char(want) => *want == c,
            Self::Any => true,
            Self::Star => false,
            Self::Class { negated, ranges } => {
                ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
            }
        }
    }
}

/// Which wildcard dialect a [`Pattern`] was compiled with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Shelly scan filters: `?` (one character) and `*` (zero or more). Everything else is literal.
    Shelly,
    /// Python `fnmatch` as Home Assistant uses it: `*`, `?`, `[seq]`, `[!seq]` with `a-z` ranges.
    /// An unclosed `[` is a literal `[`.
    Fnmatch,
}

/// A compiled name pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    dialect: Dialect,
    tokens: Vec<Token>,
    /// The literal text before the first wildcard.
    prefix: String,
}

impl Pattern {
    /// Compiles a Shelly scan-filter name (`?` and `*`).
    pub fn shelly(text: &str) -> Self {
        let tokens = text
            .chars()
            .map(|c| match c {
                '?' => Token::Any,
                '*' => Token::Star,
                other => Token::Char(other),
            })
            .collect();
        Self::from_tokens(text, Dialect::Shelly, tokens)
    }

    /// Compiles a Python `fnmatch` pattern (`*`, `?`, `[seq]`, `[!seq]`).
    pub fn fnmatch(text: &str) -> Self {
        let chars: Vec<char> = text.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            i += 1;
            match c {
                '*' => tokens.push(Token::Star),
                '?' => tokens.push(Token::Any),
                '[' => match parse_class(&chars, i) {
                    Some((token, next)) => {
                        tokens.push(token);
                        i = next;
                    }
                    None => tokens.push(Token::Char('[')),
                },
                other => tokens.push(Token::Char(other)),
            }
        }
        Self::from_tokens(text, Dialect::Fnmatch, tokens)
    }

    fn from_tokens(text: &str, dialect: Dialect, mut tokens: Vec<Token>) -> Self {
        // `**` is the same as `*`; collapsing keeps the matcher's work small.
        tokens.dedup_by(|a, b| *a == Token::Star && *b == Token::Star);
        let prefix = tokens
            .iter()
            .map_while(|t| match t {
                Token::Char(c) => Some(*c),
                _ => None,
            })
            .collect();
        Self {
            text: String::from(text),
            dialect,
            tokens,
            prefix,
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The dialect it was compiled with.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The literal text before the first wildcard (the whole name when there is none).
    pub fn literal_prefix(&self) -> &str {
        &self.prefix
    }

    /// True when the pattern has no wildcard at all (it matches one name exactly).
    pub fn is_literal(&self) -> bool {
        self.tokens.iter().all(|t| matches!(t, Token::Char(_)))
    }

    /// True when the pattern is a literal followed by one final `*` (a plain prefix test).
    pub fn is_prefix_pattern(&self) -> bool {
        match self.tokens.split_last() {
            Some((Token::Star, head)) => head.iter().all(|t| matches!(t, Token::Char(_))),
            _ => false,
        }
    }

    /// Whether `name` matches the whole pattern.
    pub fn matches(&self, name: &str) -> bool {
        if !name.starts_with(self.prefix.as_str()) {
            return false;
        }
        let mut t = 0usize;
        let mut n = 0usize;
        // After a `*`: the token index after it and the name position it currently absorbs up to.
        let mut star: Option<(usize, usize)> = None;
        loop {
            let next_char = name.get(n..).and_then(|rest| rest.chars().next());
            match self.tokens.get(t) {
                Some(Token::Star) => {
                    star = Some((t + 1, n));
                    t += 1;
                    continue;
                }
                Some(token) => {
                    if let Some(c) = next_char.filter(|&c| token.matches_one(c)) {
                        t += 1;
                        n += c.len_utf8();
                        continue;
                    }
                }
                None if next_char.is_none() => return true,
                None => {}
            }
            // Mismatch: let the last `*` absorb one more character, or fail.
            let Some((after_star, absorbed)) = star else {
                return false;
            };
            let Some(c) = name.get(absorbed..).and_then(|rest| rest.chars().next()) else {
                return false;
            };
            let absorbed = absorbed + c.len_utf8();
            star = Some((after_star, absorbed));
            t = after_star;
            n = absorbed;
        }
    }
}

/// Parses the inside of a `[...]` class whose `[` was just before `start`. Returns the token and
/// the index after the closing `]`, or `None` when there is no closing `]` (then `[` is literal).
fn parse_class(chars: &[char], start: usize) -> Option<(Token, usize)> {
    let mut j = start;
    let negated = chars.get(j) == Some(&'!');
    if negated {
        j += 1;
    }
    // A `]` right after `[` or `[!` is a member, not the end (as in Python's fnmatch).
    if chars.get(j) == Some(&']') {
        j += 1;
    }
    let close = j + chars.get(j..)?.iter().position(|&c| c == ']')?;
    let body = chars.get(start + usize::from(negated)..close)?;
    let mut ranges = Vec::new();
    let mut k = 0;
    while let Some(&lo) = body.get(k) {
        match (body.get(k + 1), body.get(k + 2)) {
            (Some('-'), Some(&hi)) => {
                // Python drops empty ranges such as `z-a`.
                if lo <= hi {
                    ranges.push((lo, hi));
                }
                k += 3;
            }
            _ => {
                ranges.push((lo, lo));
                k += 1;
            }
        }
    }
    Some((Token::Class { negated, ranges }, close + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wildcard semantics from the Shelly BLE component docs: `?` one character, `*` zero or more.
    #[test]
    fn shelly_question_mark_matches_exactly_one_character() {
        let p = Pattern::shelly("SBHT-?");
        assert!(p.matches("SBHT-1"));
        assert!(!p.matches("SBHT-"));
        assert!(!p.matches("SBHT-12"));
    }

    #[test]
    fn shelly_star_matches_zero_or_more_characters() {
        let p = Pattern::shelly("SB*T");
        assert!(p.matches("SBT"));
        assert!(p.matches("SBHT"));
        assert!(p.matches("SBxxxxT"));
        assert!(!p.matches("SBxxxxTx"));
    }

    #[test]
    fn shelly_brackets_are_literal() {
        let p = Pattern::shelly("[ab]");
        assert!(p.matches("[ab]"));
        assert!(!p.matches("a"));
    }

    #[test]
    fn matching_is_case_sensitive() {
        assert!(!Pattern::shelly("shelly*").matches("Shelly BLU"));
        assert!(!Pattern::fnmatch("shelly*").matches("Shelly BLU"));
    }

    /// Python: fnmatch.fnmatchcase("b1", "[a-c][!x]") is True, ("bx", …) False.
    #[test]
    fn fnmatch_classes_ranges_and_negation() {
        let p = Pattern::fnmatch("[a-c][!x]");
        assert!(p.matches("b1"));
        assert!(!p.matches("bx"));
        assert!(!p.matches("d1"));
    }

    /// Python: fnmatch.translate("[]a]") matches "]"; "[!]]" matches "a" but not "]".
    #[test]
    fn fnmatch_close_bracket_first_is_a_member() {
        assert!(Pattern::fnmatch("[]a]").matches("]"));
        assert!(Pattern::fnmatch("[!]]").matches("a"));
        assert!(!Pattern::fnmatch("[!]]").matches("]"));
    }

    /// Python: an unclosed "[" is escaped to a literal.
    #[test]
    fn fnmatch_unclosed_bracket_is_literal() {
        let p = Pattern::fnmatch("ab[c");
        assert!(p.matches("ab[c"));
        assert!(!p.matches("abc"));
    }

    #[test]
    fn fnmatch_hyphen_at_the_edges_is_literal() {
        let p = Pattern::fnmatch("[-a]");
        assert!(p.matches("-"));
        assert!(p.matches("a"));
        assert!(!p.matches("b"));
        assert!(Pattern::fnmatch("[a-]").matches("-"));
    }

    #[test]
    fn matches_whole_name_only() {
        assert!(!Pattern::fnmatch("Prodigio_").matches("Prodigio_1"));
        assert!(Pattern::fnmatch("Prodigio_*").matches("Prodigio_1"));
        assert!(!Pattern::fnmatch("rodigio_*").matches("Prodigio_1"));
    }

    #[test]
    fn works_on_characters_not_bytes() {
        assert!(Pattern::shelly("Küche-?").matches("Küche-é"));
        assert!(Pattern::fnmatch("?").matches("é"));
    }

    #[test]
    fn reports_literal_prefix_and_shape() {
        let p = Pattern::shelly("SBHT*");
        assert_eq!(p.literal_prefix(), "SBHT");
        assert!(p.is_prefix_pattern());
        assert!(!p.is_literal());
        assert!(Pattern::shelly("SBHT").is_literal());
        assert!(!Pattern::shelly("S?HT*").is_prefix_pattern());
        assert_eq!(Pattern::shelly("S?HT*").literal_prefix(), "S");
    }

    /// Reference matcher: plain recursion over the two dialect rules, obviously correct but
    /// exponential; good for short strings.
    fn reference(pattern: &[char], name: &[char]) -> bool {
        match pattern.split_first() {
            None => name.is_empty(),
            Some(('*', rest)) => (0..=name.len()).any(|k| reference(rest, &name[k..])),
            Some(('?', rest)) => !name.is_empty() && reference(rest, &name[1..]),
            Some((c, rest)) => name.first() == Some(c) && reference(rest, &name[1..]),
        }
    }

    /// Property: the compiled matcher agrees with the reference on random patterns over a small
    /// alphabet (deterministic xorshift PRNG, 20 000 cases).
    #[test]
    fn wildcard_matcher_agrees_with_reference_on_random_cases() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = ['a', 'b', '*', '?'];
        for _ in 0..20_000 {
            let plen = (next() % 7) as usize;
            let nlen = (next() % 8) as usize;
            let pattern: String = (0..plen).map(|_| alphabet[(next() % 4) as usize]).collect();
            let name: String = (0..nlen).map(|_| alphabet[(next() % 2) as usize]).collect();
            let want = reference(
                &pattern.chars().collect::<Vec<_>>(),
                &name.chars().collect::<Vec<_>>(),
            );
            assert_eq!(
                Pattern::shelly(&pattern).matches(&name),
                want,
                "{pattern:?} vs {name:?}"
            );
            assert_eq!(
                Pattern::fnmatch(&pattern).matches(&name),
                want,
                "{pattern:?} vs {name:?}"
            );
        }
    }

    #[test]
    fn pathological_patterns_finish_quickly() {
        let name: String = core::iter::repeat_n('a', 2000).collect();
        let pattern = "*a*a*a*a*a*a*a*a*a*a*b";
        assert!(!Pattern::fnmatch(pattern).matches(&name));
    }
}
