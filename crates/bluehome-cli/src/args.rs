//! The command line, read with `lexopt`: each command lists its options in one `match`, and the
//! helpers here turn values into text and numbers with errors that name the option. A bad command
//! line exits with [`USAGE_ERROR`]; `-h` / `--help` prints the command's usage and exits 0.

use std::ffi::OsString;
use std::process::ExitCode;

pub use lexopt::Arg;
pub use lexopt::Parser;
use lexopt::ValueExt;

/// The exit status of a bad command line.
pub const USAGE_ERROR: u8 = 2;

/// What a command line asks for: a run with its settings, or the usage.
pub enum Parsed<T> {
    Run(T),
    Help,
}

impl<T> Parsed<T> {
    /// The run's settings turned into others; the usage stays the usage.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Parsed<U> {
        match self {
            Self::Run(settings) => Parsed::Run(f(settings)),
            Self::Help => Parsed::Help,
        }
    }
}

/// Ends a command line's reading: `serve` what `parsed` read; print the usage for `--help`
/// (exit 0); or print the error and the usage (exit [`USAGE_ERROR`]). `command` names the command
/// in the error ("bluehome sim blu").
pub fn serve_parsed<T>(
    command: &str,
    usage: &str,
    parsed: Result<Parsed<T>, String>,
    serve: impl FnOnce(T) -> ExitCode,
) -> ExitCode {
    match parsed {
        Ok(Parsed::Run(settings)) => serve(settings),
        Ok(Parsed::Help) => {
            println!("{usage}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{command}: {e}\n\n{usage}");
            ExitCode::from(USAGE_ERROR)
        }
    }
}

/// A parser over the arguments that follow a command's name.
pub fn parser(args: impl IntoIterator<Item = OsString>) -> Parser {
    Parser::from_args(args)
}

/// The next argument, with lexopt's error in words.
pub fn next(parser: &mut Parser) -> Result<Option<Arg<'_>>, String> {
    parser.next().map_err(|e| e.to_string())
}

/// The value of the option just read, as text.
pub fn text(parser: &mut Parser) -> Result<String, String> {
    parser
        .value()
        .and_then(|v| v.string())
        .map_err(|e| e.to_string())
}

/// The value of the option `name`, a non-negative integer.
pub fn number(parser: &mut Parser, name: &str) -> Result<u64, String> {
    let text = text(parser)?;
    text.parse::<u64>()
        .map_err(|_| format!("{name}: {text:?} is not a non-negative integer"))
}

/// A positional argument, as text.
pub fn positional(value: OsString) -> Result<String, String> {
    value.string().map_err(|e| e.to_string())
}

/// The name of a long option (`--name` gives `name`), or `None` for `-h` / `--help`: for commands
/// whose options are all long. Anything else is an error.
pub fn long_option(arg: Arg<'_>) -> Result<Option<String>, String> {
    match arg {
        Arg::Short('h') | Arg::Long("help") => Ok(None),
        Arg::Long(name) => Ok(Some(name.to_owned())),
        other => Err(unexpected(other)),
    }
}

/// The error for an argument the command does not take.
pub fn unexpected(arg: Arg<'_>) -> String {
    match arg {
        Arg::Long(name) => format!("unknown option \"--{name}\""),
        Arg::Short(c) => format!("unknown option \"-{c}\""),
        Arg::Value(value) => format!("unexpected argument {value:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Parser {
        parser(line.split_whitespace().map(OsString::from))
    }

    #[test]
    fn values_may_be_attached_or_follow_and_name_their_option_when_missing() {
        let mut p = args("--mtu=23 --epoch 5 --key");
        assert_eq!(next(&mut p), Ok(Some(Arg::Long("mtu"))));
        assert_eq!(number(&mut p, "--mtu"), Ok(23));
        assert_eq!(next(&mut p), Ok(Some(Arg::Long("epoch"))));
        assert_eq!(number(&mut p, "--epoch"), Ok(5));
        assert_eq!(next(&mut p), Ok(Some(Arg::Long("key"))));
        assert_eq!(
            text(&mut p),
            Err("missing argument for option '--key'".to_owned())
        );
    }

    #[test]
    fn numbers_and_unknown_arguments_are_explained() {
        let mut p = args("--mtu big -x");
        next(&mut p).unwrap();
        assert_eq!(
            number(&mut p, "--mtu"),
            Err("--mtu: \"big\" is not a non-negative integer".to_owned())
        );
        let arg = next(&mut p).unwrap().unwrap();
        assert_eq!(unexpected(arg), "unknown option \"-x\"");
        assert_eq!(
            unexpected(Arg::Value("toaster".into())),
            "unexpected argument \"toaster\""
        );
        let mut p = args("--stdio=yes");
        assert_eq!(next(&mut p), Ok(Some(Arg::Long("stdio"))));
        assert_eq!(
            next(&mut p),
            Err("unexpected argument for option '--stdio': \"yes\"".to_owned())
        );
    }
}
