//! When the running task is answered, failed or out of time: points 1 to 6 of the module docs
//! of [`super`], read from what the client knows after each read, write and notification.

use super::outcome::answer;
use super::scan::listed;
use super::{Client, Error, Response, Task};
use crate::improv::rpc::Request;
use crate::improv::{Command, ErrorCode, State};

impl Client {
    /// Whether the running task is answered, failed or out of time; `None` to go on. `reading`:
    /// a read is under way (its answer is still to come).
    pub(super) fn evaluate(
        &mut self,
        now_ms: u64,
        reading: bool,
    ) -> Option<Result<Response, Error>> {
        let reads_pending = reading || !self.queue.is_empty();
        let timed_out = now_ms >= self.deadline;
        match self.task.as_mut()? {
            Task::Connect => {
                let (Some(state), Some(error)) = (self.state, self.error) else {
                    return timed_out.then_some(Err(Error::Timeout {
                        waiting_for: "state and error",
                    }));
                };
                (!reads_pending).then(|| {
                    Ok(Response::Connected {
                        capabilities: self.capabilities.unwrap_or_default(),
                        state,
                        error,
                    })
                })
            }
            Task::AwaitAuthorization => match self.state {
                Some(State::Authorized) => Some(Ok(Response::Authorized)),
                // A stopped service (sdk-cpp `STATE_STOPPED`) never authorizes: no use waiting.
                Some(s @ (State::Provisioning | State::Provisioned | State::Stopped)) => {
                    Some(Err(Error::WrongState(s)))
                }
                _ => timed_out.then_some(Err(Error::Timeout {
                    waiting_for: "authorization (a press on the device's button)",
                })),
            },
            Task::Command(p) => {
                let Some(sent_at) = p.sent_at else {
                    if p.issued {
                        // Notifications may come before the write is acknowledged.
                        return timed_out.then_some(Err(Error::Timeout {
                            waiting_for: "the command's write",
                        }));
                    }
                    // Before the write: Wi-Fi settings need the authorized state.
                    if reads_pending || !matches!(p.request, Request::WifiSettings(_)) {
                        return None;
                    }
                    return match self.state {
                        Some(State::AuthorizationRequired) => {
                            Some(Err(Error::AuthorizationRequired))
                        }
                        Some(s @ (State::Provisioning | State::Provisioned | State::Stopped)) => {
                            Some(Err(Error::WrongState(s)))
                        }
                        _ => None,
                    };
                };
                if matches!(p.request, Request::Identify) {
                    return Some(Ok(Response::Identified));
                }
                if let Some(listing) = &p.listing {
                    let quiet =
                        now_ms.saturating_sub(listing.at) >= self.options.scan_list_quiet_ms;
                    return match &listing.end {
                        Some(Err(e)) => Some(Err(Error::Rpc(e.clone()))),
                        Some(Ok(())) => Some(Ok(listed(listing))),
                        None => (quiet || timed_out).then(|| Ok(listed(listing))),
                    };
                }
                let fresh = p.result_notified || self.result != p.baseline_result;
                let awaited = match p.request {
                    Request::WifiSettings(_) => p
                        .provisioned_at
                        .map(|at| (Command::WifiSettings, self.options.same_answer_ms, at)),
                    Request::ScanWifi => {
                        Some((Command::ScanWifi, self.options.scan_same_answer_ms, sent_at))
                    }
                    _ => Some((Command::DeviceInfo, self.options.same_answer_ms, sent_at)),
                };
                if let Some((command, grace, since)) = awaited {
                    let stood = now_ms.saturating_sub(since) >= grace;
                    if (fresh || stood)
                        && let Some(done) = answer(command, &self.result, fresh)
                    {
                        // "Provisioned" stands when its result cannot be read: ESPHome before
                        // 2026.6 answers a read with its first 22 bytes (esphome/esphome#16420),
                        // and a notification is cut to the link's MTU − 3 bytes.
                        return Some(match (command, done) {
                            (Command::WifiSettings, Err(Error::Rpc(e))) => {
                                Ok(Response::Provisioned {
                                    redirect: None,
                                    redirect_error: Some(e),
                                })
                            }
                            (_, done) => done,
                        });
                    }
                    if command == Command::WifiSettings {
                        // "Provisioned" settles it, whatever the error still says. Without a
                        // result of its own after the grace time: no URL.
                        return stood.then_some(Ok(Response::Provisioned {
                            redirect: None,
                            redirect_error: None,
                        }));
                    }
                }
                // A new error counts at once; the error of an earlier attempt only once the device
                // has shown progress and is no longer provisioning (some devices never clear it).
                let settled = p.progress && self.state != Some(State::Provisioning);
                if let Some(code) = self.error
                    && code != ErrorCode::NoError
                    && (Some(code) != p.baseline_error || settled)
                {
                    return Some(Err(Error::Device(code)));
                }
                if !timed_out {
                    return None;
                }
                Some(Err(match (&p.request, &p.parts_dropped) {
                    // Nothing valid came after notified parts that were none: that is why.
                    (Request::DeviceInfo | Request::ScanWifi, Some(e)) => Error::Rpc(e.clone()),
                    (Request::WifiSettings(_), _) => Error::Timeout {
                        waiting_for: "\"provisioned\" state",
                    },
                    _ => Error::Timeout {
                        waiting_for: "RPC result",
                    },
                }))
            }
        }
    }
}
