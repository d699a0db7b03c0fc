//! Name patterns: Shelly's `?`/`*` wildcards and Python's `fnmatch` (what Home Assistant uses).
//!
//! Both compile to the same token list and run on the same matcher, a bit-parallel simulation of
//! the pattern's automaton (Baeza-Yates and Gonnet's shift-and, extended with a self-loop for `*`):
//! one pass over the name, each character costing one step over ⌈tokens / 64⌉ words, so matching
//! is linear in the name and never backtracks. Compiling is linear in the pattern. Matching is
//! case-sensitive and works on Unicode scalar values (Python's `str` semantics), anchored at both
//! ends.
//!
//! Filters and matchers refuse patterns longer than [`MAX_PATTERN_CHARS`] (the longest Bluetooth
//! device name: no longer pattern could match anything a device can be called), which bounds the
//! words per step at four.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// The longest name pattern filters and matchers accept, in characters: a Bluetooth device name
/// is at most 248 octets (Core Specification v5.4, Vol 3, Part C, §12.1 "Device Name").
pub const MAX_PATTERN_CHARS: usize = 248;

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
    Class(Class),
}

/// A `[seq]` / `[!seq]` class.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Class {
    negated: bool,
    ranges: Vec<(char, char)>,
}

impl Class {
    fn accepts(&self, c: char) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != self.negated
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

/// A set of automaton states (bit `j`: the first `j` tokens are matched), one bit per token plus
/// one for "all matched".
type States = Vec<u64>;

fn set(states: &mut States, bit: usize) {
    if let Some(word) = states.get_mut(bit / 64) {
        *word |= 1 << (bit % 64);
    }
}

fn has(states: &States, bit: usize) -> bool {
    states
        .get(bit / 64)
        .is_some_and(|w| w & (1 << (bit % 64)) != 0)
}

/// The automaton of a token list: which states each character advances.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Automaton {
    /// Words per state set.
    words: usize,
    /// For each ASCII character, the states whose next token accepts it (`words` words each).
    ascii: Vec<u64>,
    /// Per literal character outside ASCII (sorted), the states whose next token is that character.
    literals: Vec<(char, States)>,
    /// States whose next token is `?`.
    any: States,
    /// States whose next token is `*` (they loop on any character and also skip ahead).
    star: States,
    /// Each distinct class, with the states whose next token is that class.
    classes: Vec<(Class, States)>,
    /// The accepting state.
    last: usize,
}

impl Automaton {
    fn new(tokens: &[Token]) -> Self {
        let words = tokens.len() / 64 + 1;
        let empty = vec![0u64; words];
        let mut literals: Vec<(char, States)> = Vec::new();
        let mut any = empty.clone();
        let mut star = empty.clone();
        let mut classes: Vec<(Class, States)> = Vec::new();
        for (j, token) in tokens.iter().enumerate() {
            match token {
                Token::Char(c) => match literals.binary_search_by_key(c, |(l, _)| *l) {
                    Ok(i) => {
                        if let Some((_, states)) = literals.get_mut(i) {
                            set(states, j);
                        }
                    }
                    Err(i) => {
                        let mut states = empty.clone();
                        set(&mut states, j);
                        literals.insert(i, (*c, states));
                    }
                },
                Token::Any => set(&mut any, j),
                Token::Star => set(&mut star, j),
                Token::Class(class) => match classes.iter_mut().find(|(c, _)| c == class) {
                    Some((_, states)) => set(states, j),
                    None => {
                        let mut states = empty.clone();
                        set(&mut states, j);
                        classes.push((class.clone(), states));
                    }
                },
            }
        }
        let mut automaton = Self {
            words,
            ascii: Vec::new(),
            literals,
            any,
            star,
            classes,
            last: tokens.len(),
        };
        let mut ascii = Vec::with_capacity(128 * words);
        let mut scratch = empty;
        for c in (0u8..128).map(char::from) {
            automaton.advancing(c, &mut scratch);
            ascii.extend_from_slice(&scratch);
        }
        automaton.ascii = ascii;
        automaton.literals.retain(|(c, _)| !c.is_ascii());
        automaton
    }

    /// Writes into `out` the states whose next token accepts `c` (computed, not looked up).
    fn advancing(&self, c: char, out: &mut States) {
        out.copy_from_slice(&self.any);
        if let Ok(i) = self.literals.binary_search_by_key(&c, |(l, _)| *l)
            && let Some((_, states)) = self.literals.get(i)
        {
            for (o, l) in out.iter_mut().zip(states) {
                *o |= l;
            }
        }
        for (class, states) in &self.classes {
            if class.accepts(c) {
                for (o, l) in out.iter_mut().zip(states) {
                    *o |= l;
                }
            }
        }
    }

    /// Adds the states reachable without reading: past a `*` (stars never follow each other).
    fn close(&self, states: &mut States) {
        let mut carry = 0;
        for (word, star) in states.iter_mut().zip(&self.star) {
            let skipped = *word & star;
            *word |= (skipped << 1) | carry;
            carry = skipped >> 63;
        }
    }

    /// Whether `name` takes the start state to the accepting one. `steps` counts the words
    /// touched, so tests can check the work is linear in the name.
    fn run(&self, name: &str, steps: &mut usize) -> bool {
        let mut states = vec![0u64; self.words];
        set(&mut states, 0);
        self.close(&mut states);
        let mut scratch = vec![0u64; self.words];
        for c in name.chars() {
            let at = c as usize * self.words;
            let advance: &[u64] = match self.ascii.get(at..at + self.words) {
                Some(row) if c.is_ascii() => row,
                _ => {
                    self.advancing(c, &mut scratch);
                    &scratch
                }
            };
            // A token that accepts `c` moves its state one to the right; a `*` keeps its own.
            let mut carry = 0;
            let mut alive = 0;
            for ((word, a), star) in states.iter_mut().zip(advance).zip(&self.star) {
                let moved = *word & a;
                *word = (moved << 1) | carry | (*word & star);
                carry = moved >> 63;
                alive |= *word;
            }
            *steps += states.len();
            if alive == 0 {
                return false;
            }
            self.close(&mut states);
        }
        has(&states, self.last)
    }
}

/// A compiled name pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    dialect: Dialect,
    tokens: Vec<Token>,
    automaton: Automaton,
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
        // For each index, where the next `]` at or after it is: every `[` looks its end up here
        // instead of scanning, so a pattern of many unclosed `[` compiles in linear time.
        let mut next_close = vec![None; chars.len() + 1];
        for i in (0..chars.len()).rev() {
            let after = next_close.get(i + 1).copied().flatten();
            if let Some(slot) = next_close.get_mut(i) {
                *slot = if chars.get(i) == Some(&']') {
                    Some(i)
                } else {
                    after
                };
            }
        }
        let mut tokens = Vec::new();
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            i += 1;
            match c {
                '*' => tokens.push(Token::Star),
                '?' => tokens.push(Token::Any),
                '[' => match parse_class(&chars, &next_close, i) {
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
        // `**` is the same as `*`; collapsing keeps the automaton small (and `close` relies on it).
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
            automaton: Automaton::new(&tokens),
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
        let mut steps = 0;
        self.matches_counting(name, &mut steps)
    }

    fn matches_counting(&self, name: &str, steps: &mut usize) -> bool {
        if !name.starts_with(self.prefix.as_str()) {
            return false;
        }
        if self.is_literal() {
            return name.len() == self.prefix.len();
        }
        if self.is_prefix_pattern() {
            return true;
        }
        self.automaton.run(name, steps)
    }
}

/// Parses the inside of a `[...]` class whose `[` was just before `start`. Returns the token and
/// the index after the closing `]`, or `None` when there is no closing `]` (then `[` is literal).
/// `next_close[i]` is the index of the first `]` at or after `i`.
fn parse_class(
    chars: &[char],
    next_close: &[Option<usize>],
    start: usize,
) -> Option<(Token, usize)> {
    let mut j = start;
    let negated = chars.get(j) == Some(&'!');
    if negated {
        j += 1;
    }
    // A `]` right after `[` or `[!` is a member, not the end (as in Python's fnmatch).
    if chars.get(j) == Some(&']') {
        j += 1;
    }
    let close = (*next_close.get(j)?)?;
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
    Some((Token::Class(Class { negated, ranges }), close + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `pattern` matches every name in `yes` and none in `no`.
    #[track_caller]
    fn check(pattern: &Pattern, yes: &[&str], no: &[&str]) {
        for name in yes {
            assert!(pattern.matches(name), "{pattern:?} should match {name:?}");
        }
        for name in no {
            assert!(
                !pattern.matches(name),
                "{pattern:?} should not match {name:?}"
            );
        }
    }

    /// Wildcard semantics from the Shelly BLE component docs: `?` one character, `*` zero or more.
    #[test]
    fn shelly_question_mark_matches_exactly_one_character() {
        check(
            &Pattern::shelly("SBHT-?"),
            &["SBHT-1"],
            &["SBHT-", "SBHT-12"],
        );
    }

    #[test]
    fn shelly_star_matches_zero_or_more_characters() {
        check(
            &Pattern::shelly("SB*T"),
            &["SBT", "SBHT", "SBxxxxT"],
            &["SBxxxxTx"],
        );
    }

    #[test]
    fn shelly_brackets_are_literal() {
        check(&Pattern::shelly("[ab]"), &["[ab]"], &["a"]);
    }

    #[test]
    fn matching_is_case_sensitive() {
        check(&Pattern::shelly("shelly*"), &[], &["Shelly BLU"]);
        check(&Pattern::fnmatch("shelly*"), &[], &["Shelly BLU"]);
    }

    /// Python: fnmatch.fnmatchcase("b1", "[a-c][!x]") is True, ("bx", …) False.
    #[test]
    fn fnmatch_classes_ranges_and_negation() {
        check(&Pattern::fnmatch("[a-c][!x]"), &["b1"], &["bx", "d1"]);
    }

    /// Python: fnmatch.translate("[]a]") matches "]"; "[!]]" matches "a" but not "]".
    #[test]
    fn fnmatch_close_bracket_first_is_a_member() {
        check(&Pattern::fnmatch("[]a]"), &["]"], &[]);
        check(&Pattern::fnmatch("[!]]"), &["a"], &["]"]);
    }

    /// Python: an unclosed "[" is escaped to a literal.
    #[test]
    fn fnmatch_unclosed_bracket_is_literal() {
        check(&Pattern::fnmatch("ab[c"), &["ab[c"], &["abc"]);
    }

    #[test]
    fn fnmatch_hyphen_at_the_edges_is_literal() {
        check(&Pattern::fnmatch("[-a]"), &["-", "a"], &["b"]);
        check(&Pattern::fnmatch("[a-]"), &["-"], &[]);
    }

    #[test]
    fn matches_whole_name_only() {
        check(&Pattern::fnmatch("Prodigio_"), &[], &["Prodigio_1"]);
        check(&Pattern::fnmatch("Prodigio_*"), &["Prodigio_1"], &[]);
        check(&Pattern::fnmatch("rodigio_*"), &[], &["Prodigio_1"]);
    }

    #[test]
    fn works_on_characters_not_bytes() {
        check(&Pattern::shelly("Küche-?"), &["Küche-é"], &[]);
        check(&Pattern::fnmatch("?"), &["é"], &[]);
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
        let mut rng = crate::test_rng::XorShift64::new(0x9E37_79B9_7F4A_7C15u64);
        let mut next = move || rng.next_u64();
        let alphabet = ['a', 'b', '*', '?'];
        for _ in 0..20_000 {
            let plen = (next() % 9) as usize;
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

    /// Patterns that make a backtracking matcher do pattern × name work (and the old
    /// remember-the-last-star matcher too): the automaton touches each of its words once per name
    /// character, so the work is counted and bounded, not timed.
    #[test]
    fn pathological_patterns_take_linear_work() {
        let name: String = core::iter::repeat_n('a', 2000).collect();
        let long_literal = format!("*{}b", "a".repeat(200));
        let cases = [
            "*a*a*a*a*a*a*a*a*a*a*b".to_owned(),
            long_literal,
            format!("*{}", "[ab]".repeat(60)) + "c",
        ];
        for pattern in cases {
            let p = Pattern::fnmatch(&pattern);
            let words = p.tokens.len() / 64 + 1;
            let mut steps = 0;
            assert!(!p.matches_counting(&name, &mut steps), "{pattern}");
            // None of these fails before the name's end, so each character was one step.
            assert_eq!(
                steps,
                name.len() * words,
                "{pattern}: {steps} steps for {} characters",
                name.len()
            );
        }
    }

    /// Compiling used to rescan the rest of the pattern for every `[` without a `]`.
    #[test]
    fn many_unclosed_brackets_compile_to_literals() {
        let text = "[".repeat(10_000);
        let p = Pattern::fnmatch(&text);
        assert!(p.is_literal());
        assert!(p.matches(&text));
    }

    #[test]
    fn long_patterns_cross_word_boundaries() {
        // 130 tokens span three 64-bit words; `?` and `*` land on both sides of each boundary.
        let pattern = format!("{}?*{}?", "a".repeat(63), "b".repeat(64));
        let p = Pattern::shelly(&pattern);
        assert!(p.matches(&format!("{}x{}y", "a".repeat(63), "b".repeat(64))));
        assert!(p.matches(&format!("{}xzzz{}y", "a".repeat(63), "b".repeat(64))));
        assert!(!p.matches(&format!("{}x{}", "a".repeat(63), "b".repeat(64))));
        assert!(!p.matches(&format!("{}{}y", "a".repeat(63), "b".repeat(64))));
        // Around the first word's last bit: a `*` as the 64th token (skipping it carries into the
        // second word), and a `*` as the 65th, alive while the 64th token's state moves into it.
        let a62 = "a".repeat(62);
        for pattern in [format!("a{a62}*b"), format!("*{a62}?*b")] {
            let p = Pattern::shelly(&pattern);
            let chars: Vec<char> = pattern.chars().collect();
            for n in 60..70 {
                for tail in ["b", "xb", "x"] {
                    let name = format!("{}{tail}", "a".repeat(n));
                    let want = reference(&chars, &name.chars().collect::<Vec<_>>());
                    assert_eq!(p.matches(&name), want, "{pattern} vs {name}");
                }
            }
        }
    }
}
