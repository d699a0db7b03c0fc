//! One BLU settings task as a sequence of GATT operations, sans-IO.
//!
//! ```text
//! let mut op = Operation::enable_encryption(&exposed, passkey)?;
//! loop {
//!     let feedback = match op.action() {
//!         Action::Write { characteristic, value } => gatt.write(characteristic.uuid(), value).await,
//!         Action::Read { characteristic } => gatt.read(characteristic.uuid()).await,
//!         Action::Sleep { .. } | Action::Done => break,
//!     };
//!     op.advance(feedback);
//! }
//! let Outcome::Key(key) = op.finish()? else { … };
//! ```
//!
//! Everything that can be checked before touching the device is: the characteristic must be
//! exposed ([`Error::Missing`]) and allow the access ([`Error::NotReadable`],
//! [`Error::NotWritable`]), and a value must fit ([`Error::Value`]). Writes of readable settings
//! are read back, so a device that ignored one is caught ([`Error::NotApplied`]).

use alloc::vec::Vec;
use core::fmt;

use super::{Access, Characteristic, Exposed, Value, ValueError};
use crate::gatt::{Action, AttError, Feedback};

/// What an operation produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// [`Operation::read`]: each characteristic asked for, with its value or why there is none.
    Values(Vec<(Characteristic, Result<Value, Error>)>),
    /// [`Operation::write`]: the value the device holds now (read back when readable).
    Written {
        /// Which characteristic.
        characteristic: Characteristic,
        /// Its value.
        value: Value,
    },
    /// [`Operation::enable_encryption`], [`Operation::read_key`]: the 16-byte bind key.
    Key([u8; 16]),
    /// [`Operation::factory_reset`]: the command went out. `acknowledged` is false when the link
    /// dropped before the write's answer, as a device that reboots at once may do.
    Reset {
        /// Whether the device answered the write.
        acknowledged: bool,
    },
}

/// Why an operation failed (or one characteristic of [`Outcome::Values`] has no value).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The device does not expose this characteristic.
    Missing(Characteristic),
    /// This characteristic cannot be read (a write-only passkey or reset).
    NotReadable(Characteristic),
    /// This characteristic cannot be written.
    NotWritable(Characteristic),
    /// A GATT operation failed.
    Gatt {
        /// On which characteristic.
        characteristic: Characteristic,
        /// How.
        error: AttError,
    },
    /// A value to write does not fit.
    Value(ValueError),
    /// What the device answered makes no value of its characteristic (a wrong length, a value
    /// out of the documented range: another firmware).
    Unreadable {
        /// Which characteristic.
        characteristic: Characteristic,
        /// What is wrong with its bytes.
        error: ValueError,
    },
    /// The device still holds another value after a write.
    NotApplied {
        /// Which characteristic.
        characteristic: Characteristic,
        /// What was written.
        written: Value,
        /// What it reads now.
        read: Value,
    },
    /// The key reads all zeros: encryption was never turned on (write a passkey first).
    KeyNotSet,
    /// [`Operation::finish`] was called before [`Action::Done`].
    NotFinished,
}

impl Error {
    /// True when the device wants a bonded link: the person must pair it (see [`super`]).
    pub fn needs_pairing(&self) -> bool {
        matches!(
            self,
            Self::Gatt {
                error: AttError::InsufficientAuthentication,
                ..
            }
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(c) => write!(f, "the device has no {c} characteristic"),
            Self::NotReadable(c) => write!(f, "{c} cannot be read"),
            Self::NotWritable(c) => write!(f, "{c} cannot be written"),
            Self::Gatt {
                characteristic,
                error,
            } => write!(f, "{characteristic}: {error}"),
            Self::Value(e) => e.fmt(f),
            Self::Unreadable {
                characteristic,
                error,
            } => write!(
                f,
                "the device's {characteristic} answer makes no value: {error}"
            ),
            Self::NotApplied {
                characteristic,
                written,
                read,
            } => write!(
                f,
                "{characteristic}: wrote {written:?} but the device holds {read:?}"
            ),
            Self::KeyNotSet => {
                f.write_str("the device has no encryption key yet: write a passkey first")
            }
            Self::NotFinished => f.write_str("the operation is not finished"),
        }
    }
}

impl core::error::Error for Error {}

impl From<ValueError> for Error {
    fn from(e: ValueError) -> Self {
        Self::Value(e)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// The characteristics asked for, in the caller's order.
    Read(Vec<Characteristic>),
    Write(Value),
    EnableEncryption,
    ReadKey,
    FactoryReset,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Read(Characteristic),
    Write(Characteristic, Vec<u8>),
}

/// One task in progress. See the module docs.
#[derive(Debug, Clone)]
pub struct Operation {
    kind: Kind,
    steps: Vec<Step>,
    next: usize,
    values: Vec<(Characteristic, Result<Value, Error>)>,
    result: Option<Result<Outcome, Error>>,
}

fn need(exposed: &Exposed, characteristic: Characteristic) -> Result<(), Error> {
    if exposed.has(characteristic) {
        Ok(())
    } else {
        Err(Error::Missing(characteristic))
    }
}

fn readable(exposed: &Exposed, characteristic: Characteristic) -> Result<(), Error> {
    need(exposed, characteristic)?;
    if characteristic.info().read == Access::Never {
        return Err(Error::NotReadable(characteristic));
    }
    Ok(())
}

fn writable(exposed: &Exposed, characteristic: Characteristic) -> Result<(), Error> {
    need(exposed, characteristic)?;
    if characteristic.info().write == Access::Never {
        return Err(Error::NotWritable(characteristic));
    }
    Ok(())
}

impl Operation {
    fn new(kind: Kind, steps: Vec<Step>) -> Self {
        Self {
            kind,
            steps,
            next: 0,
            values: Vec::new(),
            result: None,
        }
    }

    /// Reads each of `characteristics`. Those the device lacks or that cannot be read get their
    /// error in the outcome without a GATT operation; a failed read does not stop the others,
    /// but a dropped link does.
    pub fn read(exposed: &Exposed, characteristics: &[Characteristic]) -> Self {
        let mut op = Self::new(Kind::Read(characteristics.to_vec()), Vec::new());
        for &c in characteristics {
            match readable(exposed, c) {
                Ok(()) => op.steps.push(Step::Read(c)),
                Err(e) => op.values.push((c, Err(e))),
            }
        }
        op.finish_if_idle();
        op
    }

    /// Reads every per-model setting and the firmware revision the device exposes: the reads
    /// that need no bonded link.
    pub fn read_settings(exposed: &Exposed) -> Self {
        let list: Vec<Characteristic> = exposed
            .iter()
            .filter(|c| c.info().read == Access::Open)
            .collect();
        Self::read(exposed, &list)
    }

    /// Writes one value (after checking it), then reads it back when the characteristic is
    /// readable.
    pub fn write(
        exposed: &Exposed,
        characteristic: Characteristic,
        value: Value,
    ) -> Result<Self, Error> {
        writable(exposed, characteristic)?;
        let bytes = characteristic.encode(&value)?;
        let mut steps = alloc::vec![Step::Write(characteristic, bytes)];
        if characteristic.info().read != Access::Never {
            steps.push(Step::Read(characteristic));
        }
        Ok(Self::new(Kind::Write(value), steps))
    }

    /// Writes the passkey (which turns BTHome encryption on and makes a new key), then reads
    /// the new key.
    pub fn enable_encryption(exposed: &Exposed, passkey: super::Passkey) -> Result<Self, Error> {
        writable(exposed, Characteristic::Passkey)?;
        readable(exposed, Characteristic::EncryptionKey)?;
        Ok(Self::new(
            Kind::EnableEncryption,
            alloc::vec![
                Step::Write(Characteristic::Passkey, passkey.to_bytes().to_vec()),
                Step::Read(Characteristic::EncryptionKey),
            ],
        ))
    }

    /// Reads the current key.
    pub fn read_key(exposed: &Exposed) -> Result<Self, Error> {
        readable(exposed, Characteristic::EncryptionKey)?;
        Ok(Self::new(
            Kind::ReadKey,
            alloc::vec![Step::Read(Characteristic::EncryptionKey)],
        ))
    }

    /// Restores factory settings: encryption off (the only way back to plaintext), settings and
    /// bonds gone. Ask the person to confirm first.
    pub fn factory_reset(exposed: &Exposed) -> Result<Self, Error> {
        writable(exposed, Characteristic::FactoryReset)?;
        Ok(Self::new(
            Kind::FactoryReset,
            alloc::vec![Step::Write(Characteristic::FactoryReset, alloc::vec![0x01])],
        ))
    }

    /// The next GATT operation.
    pub fn action(&self) -> Action<'_, Characteristic> {
        if self.result.is_some() {
            return Action::Done;
        }
        match self.steps.get(self.next) {
            Some(Step::Read(c)) => Action::Read { characteristic: *c },
            Some(Step::Write(c, bytes)) => Action::Write {
                characteristic: *c,
                value: bytes,
            },
            None => Action::Done,
        }
    }

    /// True once [`Operation::action`] is [`Action::Done`].
    pub fn is_done(&self) -> bool {
        self.result.is_some()
    }

    /// Feeds the result of the last action. Feedback that does not answer it is ignored.
    pub fn advance(&mut self, feedback: Feedback<'_>) {
        if self.result.is_some() {
            return;
        }
        let Some(step) = self.steps.get(self.next).cloned() else {
            return;
        };
        match (step, feedback) {
            (Step::Write(c, _), Feedback::Written) => {
                self.next += 1;
                if matches!(self.kind, Kind::FactoryReset) {
                    self.result = Some(Ok(Outcome::Reset { acknowledged: true }));
                } else if let (Kind::Write(value), true) =
                    (&self.kind, self.steps.get(self.next).is_none())
                {
                    self.result = Some(Ok(Outcome::Written {
                        characteristic: c,
                        value: value.clone(),
                    }));
                }
            }
            (Step::Write(_, _), Feedback::Failed(AttError::Disconnected))
                if matches!(self.kind, Kind::FactoryReset) =>
            {
                self.result = Some(Ok(Outcome::Reset {
                    acknowledged: false,
                }));
            }
            (Step::Read(c), Feedback::Read(bytes)) => {
                self.next += 1;
                let value = c.decode(bytes).map_err(|error| Error::Unreadable {
                    characteristic: c,
                    error,
                });
                self.on_value(c, value);
            }
            (Step::Read(c) | Step::Write(c, _), Feedback::Failed(error)) => {
                self.next += 1;
                let failure = Error::Gatt {
                    characteristic: c,
                    error,
                };
                if matches!(self.kind, Kind::Read(_)) {
                    self.values.push((c, Err(failure)));
                    if error == AttError::Disconnected {
                        // Nothing more can be read: the rest fail the same way, without trying.
                        for step in self.steps.get(self.next..).unwrap_or_default() {
                            if let Step::Read(rest) = step {
                                self.values.push((
                                    *rest,
                                    Err(Error::Gatt {
                                        characteristic: *rest,
                                        error,
                                    }),
                                ));
                            }
                        }
                        self.next = self.steps.len();
                    }
                    self.finish_if_idle();
                } else {
                    self.result = Some(Err(failure));
                }
            }
            // Woke, or feedback of the wrong kind: keep waiting for the answer to this step.
            _ => {}
        }
    }

    fn on_value(&mut self, c: Characteristic, value: Result<Value, Error>) {
        match &self.kind {
            Kind::Read(_) => {
                self.values.push((c, value));
                self.finish_if_idle();
            }
            Kind::Write(written) => {
                self.result = Some(value.and_then(|read| {
                    if &read == written {
                        Ok(Outcome::Written {
                            characteristic: c,
                            value: read,
                        })
                    } else {
                        Err(Error::NotApplied {
                            characteristic: c,
                            written: written.clone(),
                            read,
                        })
                    }
                }));
            }
            Kind::EnableEncryption | Kind::ReadKey => {
                self.result = Some(match value {
                    Ok(Value::Key(Some(key))) => Ok(Outcome::Key(key)),
                    Ok(_) => Err(Error::KeyNotSet),
                    Err(e) => Err(e),
                });
            }
            Kind::FactoryReset => {}
        }
    }

    fn finish_if_idle(&mut self) {
        if let Kind::Read(order) = &self.kind
            && self.next >= self.steps.len()
        {
            // The caller's order, also for what was answered without a GATT operation.
            let mut values = core::mem::take(&mut self.values);
            values.sort_by_key(|(c, _)| order.iter().position(|o| o == c));
            self.result = Some(Ok(Outcome::Values(values)));
        }
    }

    /// The outcome, once done.
    pub fn finish(self) -> Result<Outcome, Error> {
        self.result.unwrap_or(Err(Error::NotFinished))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blu::{Passkey, Sensitivity};
    use crate::hex::fixture as hex;

    fn motion() -> Exposed {
        crate::blu::model_by_id(0x0005).unwrap().documented()
    }

    /// Drives an operation with canned answers, one per action; returns the actions seen.
    fn run(op: &mut Operation, answers: &[Feedback<'_>]) -> Vec<alloc::string::String> {
        let mut seen = Vec::new();
        for answer in answers {
            assert!(!op.is_done(), "done before {answer:?}");
            seen.push(alloc::format!("{:?}", op.action()));
            op.advance(*answer);
        }
        assert!(op.is_done(), "not done after {seen:?}");
        seen
    }

    #[test]
    fn enabling_encryption_writes_the_passkey_then_reads_the_key() {
        let mut op =
            Operation::enable_encryption(&motion(), Passkey::new(123_456).unwrap()).unwrap();
        assert_eq!(
            op.action(),
            Action::Write {
                characteristic: Characteristic::Passkey,
                value: &[0x40, 0xE2, 0x01, 0x00]
            }
        );
        let key = hex("90bffd73cb6b26ef58a7a8eba9232036");
        run(&mut op, &[Feedback::Written, Feedback::Read(&key)]);
        assert_eq!(
            op.finish(),
            Ok(Outcome::Key(key.as_slice().try_into().unwrap()))
        );
    }

    /// A key of the wrong length is the device's answer gone wrong, not a value typed.
    #[test]
    fn a_short_key_is_an_unreadable_answer() {
        let mut op = Operation::read_key(&motion()).unwrap();
        run(&mut op, &[Feedback::Read(&[0x11; 15])]);
        assert!(matches!(
            op.finish(),
            Err(Error::Unreadable {
                characteristic: Characteristic::EncryptionKey,
                error: ValueError::Length { .. }
            })
        ));
    }

    #[test]
    fn a_key_of_zeros_after_the_passkey_is_an_error() {
        let mut op = Operation::read_key(&motion()).unwrap();
        run(&mut op, &[Feedback::Read(&[0; 16])]);
        assert_eq!(op.finish(), Err(Error::KeyNotSet));
    }

    #[test]
    fn an_unbonded_write_asks_for_pairing() {
        let mut op = Operation::enable_encryption(&motion(), Passkey::new(1).unwrap()).unwrap();
        run(
            &mut op,
            &[Feedback::Failed(AttError::InsufficientAuthentication)],
        );
        let err = op.finish().unwrap_err();
        assert!(err.needs_pairing(), "{err}");
        assert_eq!(
            err.to_string(),
            "passkey: insufficient_authentication (ATT error 0x05)"
        );
        // Other failures are not cured by pairing.
        for other in [AttError::Disconnected, AttError::WriteNotPermitted] {
            let err = Error::Gatt {
                characteristic: Characteristic::Passkey,
                error: other,
            };
            assert!(!err.needs_pairing(), "{err}");
        }
        assert!(!Error::KeyNotSet.needs_pairing());
    }

    /// A setting's write whose link drops failed; only a factory reset takes a dropped link as
    /// the device rebooting.
    #[test]
    fn a_setting_write_on_a_dropped_link_fails() {
        let c = Characteristic::MotionLed;
        let mut op = Operation::write(&motion(), c, Value::Switch(false)).unwrap();
        run(&mut op, &[Feedback::Failed(AttError::Disconnected)]);
        assert_eq!(
            op.finish(),
            Err(Error::Gatt {
                characteristic: c,
                error: AttError::Disconnected
            })
        );
    }

    /// What the app shows for each failure.
    #[test]
    fn errors_read_as_sentences() {
        let cases = [
            (
                Error::Missing(Characteristic::BeaconMode),
                "the device has no beacon_mode characteristic",
            ),
            (
                Error::NotReadable(Characteristic::Passkey),
                "passkey cannot be read",
            ),
            (
                Error::NotWritable(Characteristic::EncryptionKey),
                "encryption_key cannot be written",
            ),
            (
                Error::Unreadable {
                    characteristic: Characteristic::EncryptionKey,
                    error: ValueError::Length {
                        characteristic: Characteristic::EncryptionKey,
                        expected: 16,
                        found: 15,
                    },
                },
                "the device's encryption_key answer makes no value: ",
            ),
            (
                Error::NotApplied {
                    characteristic: Characteristic::MotionLed,
                    written: Value::Switch(true),
                    read: Value::Switch(false),
                },
                "motion_led: wrote Switch(true) but the device holds Switch(false)",
            ),
            (
                Error::KeyNotSet,
                "the device has no encryption key yet: write a passkey first",
            ),
            (Error::NotFinished, "the operation is not finished"),
        ];
        for (error, words) in cases {
            assert!(error.to_string().starts_with(words), "{error}");
        }
    }

    /// Nothing goes to a device that lacks the characteristic or when the value does not fit.
    #[test]
    fn checks_happen_before_any_gatt_operation() {
        let ht = crate::blu::model_by_id(0x0003).unwrap().documented();
        assert_eq!(
            Operation::write(&ht, Characteristic::BeaconMode, Value::Switch(true)).err(),
            Some(Error::Missing(Characteristic::BeaconMode))
        );
        assert!(matches!(
            Operation::write(&motion(), Characteristic::MotionPulseCount, Value::Count(9)),
            Err(Error::Value(ValueError::OutOfRange { value: 9, .. }))
        ));
        assert_eq!(
            Operation::write(&motion(), Characteristic::EncryptionKey, Value::Key(None)).err(),
            Some(Error::NotWritable(Characteristic::EncryptionKey))
        );
    }

    #[test]
    fn a_write_is_read_back_and_a_different_value_is_reported() {
        let c = Characteristic::MotionSensitivity;
        let high = Value::Sensitivity(Sensitivity::High);
        let mut op = Operation::write(&motion(), c, high.clone()).unwrap();
        assert_eq!(
            op.action(),
            Action::Write {
                characteristic: c,
                value: &[2]
            }
        );
        run(&mut op, &[Feedback::Written, Feedback::Read(&[2])]);
        assert_eq!(
            op.finish(),
            Ok(Outcome::Written {
                characteristic: c,
                value: high.clone()
            })
        );

        let mut op = Operation::write(&motion(), c, high.clone()).unwrap();
        run(&mut op, &[Feedback::Written, Feedback::Read(&[0])]);
        assert_eq!(
            op.finish(),
            Err(Error::NotApplied {
                characteristic: c,
                written: high,
                read: Value::Sensitivity(Sensitivity::Low)
            })
        );
    }

    /// Reading settings lists each in table order; one bad value does not hide the others, and
    /// a dropped link ends the rest at once.
    #[test]
    fn reading_settings_keeps_going_past_bad_values_but_not_past_a_dropped_link() {
        let mut op = Operation::read_settings(&motion());
        let seen = run(
            &mut op,
            &[
                Feedback::Read(&[1]),
                Feedback::Read(&[7]),
                Feedback::Failed(AttError::Disconnected),
            ],
        );
        assert_eq!(seen.len(), 3);
        let Ok(Outcome::Values(values)) = op.finish() else {
            panic!("not values")
        };
        let names: Vec<_> = values.iter().map(|(c, _)| c.name()).collect();
        assert_eq!(
            names,
            [
                "beacon_mode",
                "motion_sensitivity",
                "motion_led",
                "motion_pulse_count",
                "motion_blind_time"
            ]
        );
        assert_eq!(values[0].1, Ok(Value::Switch(true)));
        assert!(matches!(
            values[1].1,
            Err(Error::Unreadable {
                characteristic: Characteristic::MotionSensitivity,
                error: ValueError::OutOfRange { .. }
            })
        ));
        for (_, rest) in &values[3..] {
            assert!(matches!(
                rest,
                Err(Error::Gatt {
                    error: AttError::Disconnected,
                    ..
                })
            ));
        }
    }

    #[test]
    fn reading_what_cannot_be_read_answers_without_gatt() {
        let mut op = Operation::read(
            &motion(),
            &[Characteristic::TimeSync, Characteristic::Passkey],
        );
        assert!(op.is_done());
        assert_eq!(op.action(), Action::Done);
        op.advance(Feedback::Read(&[1]));
        assert_eq!(
            op.finish(),
            Ok(Outcome::Values(alloc::vec![
                (
                    Characteristic::TimeSync,
                    Err(Error::Missing(Characteristic::TimeSync))
                ),
                (
                    Characteristic::Passkey,
                    Err(Error::NotReadable(Characteristic::Passkey))
                ),
            ]))
        );
    }

    /// A device that reboots on reset may drop the link before answering the write.
    #[test]
    fn factory_reset_accepts_a_link_that_drops_on_the_write() {
        let mut op = Operation::factory_reset(&motion()).unwrap();
        assert_eq!(
            op.action(),
            Action::Write {
                characteristic: Characteristic::FactoryReset,
                value: &[1]
            }
        );
        run(&mut op, &[Feedback::Failed(AttError::Disconnected)]);
        assert_eq!(
            op.finish(),
            Ok(Outcome::Reset {
                acknowledged: false
            })
        );
    }

    #[test]
    fn finishing_early_is_an_error() {
        let op = Operation::read_key(&motion()).unwrap();
        assert_eq!(op.finish(), Err(Error::NotFinished));
    }
}
