//! Actions as a person follows them: what runs now, its progress steps, the failure explained,
//! and a retry that runs the failed action again; an action never runs twice at once (the set-up
//! session runs one action at a time at all, the Shelly session one of each kind). Both sessions
//! work this way: [`Actions`] is the state they share, [`RunsActions`] the behaviour, written once.

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use leptos::prelude::*;
use leptos::task::spawn_local;

/// The state of one progress step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    /// Under way.
    Running,
    /// Finished.
    Done,
    /// Failed (the failure panel explains).
    Failed,
}

/// One line of progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What is being done.
    pub label: String,
    /// How it went.
    pub state: StepState,
}

impl Step {
    /// Ends every running step of `steps` (done) and starts one labelled `label`.
    pub fn start(steps: &mut Vec<Step>, label: String) {
        Self::finish(steps);
        steps.push(Step {
            label,
            state: StepState::Running,
        });
    }

    /// Marks every running step of `steps` done.
    pub fn finish(steps: &mut [Step]) {
        for s in steps.iter_mut().filter(|s| s.state == StepState::Running) {
            s.state = StepState::Done;
        }
    }

    /// Marks the last step of `steps` failed, if it is running.
    pub fn fail_last(steps: &mut [Step]) {
        if let Some(last) = steps.last_mut().filter(|s| s.state == StepState::Running) {
            last.state = StepState::Failed;
        }
    }
}

type Task<E> = Pin<Box<dyn Future<Output = Result<(), E>>>>;

/// An action of session `S` that can fail with `E`: kept so that a retry can run it again.
pub type Action<S, E> = Rc<dyn Fn(S) -> Task<E>>;

/// An action with the words that say what it does.
type Labelled<S, E> = (String, Action<S, E>);

/// Where a running action puts what a retry of it runs instead (`RunsActions::narrow_retry`).
type Narrowed<S, E> = RefCell<Option<Action<S, E>>>;

thread_local! {
    /// The [`Narrowed`] slot of the action being polled now, if any.
    static NARROWING: RefCell<Option<Rc<dyn Any>>> = const { RefCell::new(None) };
}

/// An action's future, with its own [`Narrowed`] slot current while it is polled. Actions of one
/// session can run side by side and the page runs one task at a time, so a narrowing made
/// during a poll belongs to the action polled: another action cannot clear or take it.
struct InRun<E> {
    narrowed: Rc<dyn Any>,
    task: Task<E>,
}

impl<E> Future for InRun<E> {
    type Output = Result<(), E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let outer = NARROWING.with(|n| n.replace(Some(Rc::clone(&self.narrowed))));
        let polled = self.task.as_mut().poll(cx);
        NARROWING.with(|n| n.replace(outer));
        polled
    }
}

/// Wraps an async closure as an [`Action`].
pub fn action<S, E, F, Fut>(f: F) -> Action<S, E>
where
    F: Fn(S) -> Fut + 'static,
    Fut: Future<Output = Result<(), E>> + 'static,
{
    Rc::new(move |s| Box::pin(f(s)))
}

/// A session's action state: signals the page shows, and what a retry runs.
pub struct Actions<S: 'static, E: Send + Sync + 'static> {
    /// Progress of the current (or last) action.
    pub steps: RwSignal<Vec<Step>>,
    /// The last failure, explained.
    pub failure: RwSignal<Option<E>>,
    /// What is running now.
    pub busy: RwSignal<Option<String>>,
    /// The labels of the actions under way, oldest first (the Shelly session runs one beside
    /// another): `busy` shows the newest.
    running: StoredValue<Vec<String>>,
    retry: StoredValue<Option<Labelled<S, E>>, LocalStorage>,
}

impl<S, E: Send + Sync> Clone for Actions<S, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S, E: Send + Sync> Copy for Actions<S, E> {}

impl<S, E: Send + Sync> std::fmt::Debug for Actions<S, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Actions")
            .field("busy", &self.busy.try_get_untracked().flatten())
            .field("can_retry", &self.retry.try_with_value(Option::is_some))
            .finish_non_exhaustive()
    }
}

impl<S, E: Send + Sync> Actions<S, E> {
    /// Nothing run yet.
    pub fn new() -> Self {
        Self {
            steps: RwSignal::new(Vec::new()),
            failure: RwSignal::new(None),
            busy: RwSignal::new(None),
            running: StoredValue::new(Vec::new()),
            retry: StoredValue::new_local(None),
        }
    }
}

impl<S, E: Send + Sync> Default for Actions<S, E> {
    fn default() -> Self {
        Self::new()
    }
}

/// A session that runs [`Actions`]: every method here is written once for both sessions.
pub trait RunsActions: Copy + 'static {
    /// How an action fails, explained.
    type Failure: Clone + Send + Sync + 'static;

    /// Whether [`Self::run`] refuses to start an action while one runs. Not for the Shelly
    /// session: its discovery goes on listening while the person adds a device it found.
    const ONE_AT_A_TIME: bool;

    /// The session's action state.
    fn actions(self) -> Actions<Self, Self::Failure>;

    /// Runs an action (unless one runs, for a session that runs one at a time): marks the
    /// session busy, clears the last failure, and on failure keeps the action for
    /// [`Self::retry`].
    fn run<F, Fut>(self, label: &str, f: F)
    where
        F: Fn(Self) -> Fut + 'static,
        Fut: Future<Output = Result<(), Self::Failure>> + 'static,
    {
        if Self::ONE_AT_A_TIME && self.actions().busy.get_untracked().is_some() {
            return;
        }
        self.run_action(label.to_owned(), action(f));
    }

    /// Runs `action` now, labelled `label`, unless an action of that label is under way: run
    /// twice at once (a button pressed twice), it would do its work twice.
    fn run_action(self, label: String, action: Action<Self, Self::Failure>) {
        let a = self.actions();
        if a.running.with_value(|running| running.contains(&label)) {
            return;
        }
        a.running
            .update_value(|running| running.push(label.clone()));
        a.failure.set(None);
        a.busy.set(Some(label.clone()));
        let narrowed: Rc<Narrowed<Self, Self::Failure>> = Rc::new(RefCell::new(None));
        let run = InRun {
            narrowed: Rc::clone(&narrowed) as Rc<dyn Any>,
            task: action(self),
        };
        spawn_local(async move {
            let outcome = run.await;
            let action = narrowed.take().unwrap_or(action);
            // The session may be gone by now (the page closed): every access is a `try_`.
            let still = a.running.try_update_value(|running| {
                running.retain(|l| *l != label);
                running.last().cloned()
            });
            a.busy.try_set(still.flatten());
            if let Err(failure) = outcome {
                a.steps.try_update(|steps| Step::fail_last(steps));
                a.failure.try_set(Some(failure));
                a.retry.try_set_value(Some((label, action)));
            }
        });
    }

    /// From here on, a retry of the running action (the one calling this) runs `action`
    /// instead: part of it need not run again (a device was chosen, a change was applied).
    fn narrow_retry(self, action: Action<Self, Self::Failure>) {
        NARROWING.with(|n| {
            let current = n.borrow();
            let slot = current
                .as_ref()
                .and_then(|slot| slot.downcast_ref::<Narrowed<Self, Self::Failure>>());
            if let Some(slot) = slot {
                slot.replace(Some(action));
            }
        });
    }

    /// Shows `failure`, found without running anything (a link dropped), with `action` as its
    /// retry.
    fn fail_with_retry(
        self,
        failure: Self::Failure,
        label: &str,
        action: Action<Self, Self::Failure>,
    ) {
        let a = self.actions();
        a.failure.try_set(Some(failure));
        a.retry.try_set_value(Some((label.to_owned(), action)));
    }

    /// Shows a failure found before anything was sent (a bad value typed), without running.
    fn refuse(self, failure: Self::Failure) {
        self.actions().failure.set(Some(failure));
    }

    /// Runs the failed action again.
    fn retry(self) {
        if let Some((label, action)) = self.actions().retry.get_value() {
            self.run_action(label, action);
        }
    }

    /// Whether there is an action to retry.
    fn can_retry(self) -> bool {
        self.actions().retry.with_value(Option::is_some)
    }

    /// Forgets the progress, the failure and the retry.
    fn clear_actions(self) {
        let a = self.actions();
        a.steps.set(Vec::new());
        a.failure.set(None);
        a.retry.set_value(None);
    }

    /// Starts a progress step.
    fn step(self, label: impl Into<String>) {
        let label = label.into();
        self.actions()
            .steps
            .update(|steps| Step::start(steps, label));
    }

    /// Marks the last step done.
    fn step_done(self) {
        self.actions().steps.update(|steps| Step::finish(steps));
    }

    /// Marks the running step failed, for an action that goes on past it.
    fn step_failed(self) {
        self.actions().steps.update(|steps| Step::fail_last(steps));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn states(steps: &[Step]) -> Vec<(&str, StepState)> {
        steps.iter().map(|s| (s.label.as_str(), s.state)).collect()
    }

    /// A step starts by ending the one under way; a failure marks only a step still under way.
    #[test]
    fn steps_run_one_at_a_time_and_only_a_running_one_fails() {
        let mut steps = Vec::new();
        Step::fail_last(&mut steps);
        Step::start(&mut steps, "Connecting".into());
        Step::start(&mut steps, "Reading".into());
        assert_eq!(
            states(&steps),
            [
                ("Connecting", StepState::Done),
                ("Reading", StepState::Running)
            ]
        );
        Step::fail_last(&mut steps);
        assert_eq!(states(&steps)[1], ("Reading", StepState::Failed));
        // A failed step stays failed when the next finishes, and a done one is not failed later.
        Step::start(&mut steps, "Retrying".into());
        Step::finish(&mut steps);
        Step::fail_last(&mut steps);
        assert_eq!(
            states(&steps),
            [
                ("Connecting", StepState::Done),
                ("Reading", StepState::Failed),
                ("Retrying", StepState::Done)
            ]
        );
    }
}
