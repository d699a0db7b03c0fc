//! Input one line at a time, with bounded memory: a line longer than the cap is read to its end
//! but not kept (only its length is), and a line that is not UTF-8 is reported as such. Either
//! way the caller answers for that one line and goes on; nothing in the input ends the stream but
//! its end.

use std::io::{self, BufRead};

/// One line of input, without its line break (`\n` or `\r\n`).
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A line of text.
    Text(&'a str),
    /// A line longer than the cap: `bytes` long (without the line break).
    TooLong {
        /// The line's length in bytes.
        bytes: usize,
    },
    /// A line that is not UTF-8; `offset` is the first byte that is not.
    NotUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
}

/// Reads lines of at most `max` bytes from a `BufRead`.
#[derive(Debug)]
pub struct Lines<R> {
    reader: R,
    max: usize,
    buf: Vec<u8>,
    number: usize,
}

impl<R: BufRead> Lines<R> {
    /// Lines of at most `max` bytes each.
    pub fn new(reader: R, max: usize) -> Self {
        Self {
            reader,
            max,
            buf: Vec::with_capacity(max.min(4096) + 2),
            number: 0,
        }
    }

    /// The next line and its number (from 1), or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<(usize, Line<'_>)>> {
        self.buf.clear();
        let mut total = 0usize;
        let mut last = None;
        let mut any = false;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            any = true;
            // The bytes before the first newline; `done` when a newline follows them.
            let part = chunk.split(|&b| b == b'\n').next().unwrap_or_default();
            let done = part.len() < chunk.len();
            // Keep one byte past the cap (a `\r` may still be stripped), never more.
            let room = (self.max + 1).saturating_sub(self.buf.len());
            self.buf.extend(part.iter().take(room));
            total += part.len();
            if let Some(&b) = part.last() {
                last = Some(b);
            }
            let used = part.len() + usize::from(done);
            self.reader.consume(used);
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.number += 1;
        let mut len = total;
        if last == Some(b'\r') {
            len -= 1;
            if self.buf.len() == total {
                self.buf.pop();
            }
        }
        if len > self.max {
            return Ok(Some((self.number, Line::TooLong { bytes: len })));
        }
        Ok(Some((
            self.number,
            match std::str::from_utf8(&self.buf) {
                Ok(text) => Line::Text(text),
                Err(e) => Line::NotUtf8 {
                    offset: e.valid_up_to(),
                },
            },
        )))
    }
}

/// Whether an IO error means the reader of our output went away (`bluehome decode | head`): a
/// Unix tool then stops quietly with status 0.
pub fn is_closed_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], max: usize) -> Vec<(usize, String)> {
        let mut lines = Lines::new(io::BufReader::with_capacity(4, input), max);
        let mut out = Vec::new();
        while let Some((n, line)) = lines.next_line().unwrap() {
            out.push((n, format!("{line:?}")));
        }
        out
    }

    #[test]
    fn splits_lines_and_strips_crlf() {
        assert_eq!(
            all(b"ab\r\ncd\n\nlast", 10),
            [
                (1, "Text(\"ab\")".into()),
                (2, "Text(\"cd\")".into()),
                (3, "Text(\"\")".into()),
                (4, "Text(\"last\")".into())
            ]
        );
        assert!(all(b"", 10).is_empty());
    }

    #[test]
    fn long_lines_are_measured_not_kept() {
        let mut input = vec![b'x'; 100_000];
        input.extend_from_slice(b"\nok\n");
        assert_eq!(
            all(&input, 8),
            [
                (1, "TooLong { bytes: 100000 }".into()),
                (2, "Text(\"ok\")".into())
            ]
        );
        // Exactly the cap is fine, also with a \r\n ending.
        assert_eq!(all(b"12345678\r\n", 8), [(1, "Text(\"12345678\")".into())]);
        assert_eq!(
            all(b"123456789\r\n", 8),
            [(1, "TooLong { bytes: 9 }".into())]
        );
    }

    #[test]
    fn invalid_utf8_is_one_bad_line() {
        assert_eq!(
            all(b"ok\nab\xffcd\nok\n", 100),
            [
                (1, "Text(\"ok\")".into()),
                (2, "NotUtf8 { offset: 2 }".into()),
                (3, "Text(\"ok\")".into())
            ]
        );
    }
}
