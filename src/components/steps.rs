//! The step log of a long action (connecting, setting a device up): one line that says where it
//! stands (the step running, the step that failed, or that all went through), and every step
//! behind "details".

use bluehome_core::text::printable;
use leptos::prelude::*;

use crate::state::shelly::{Step, StepState};

/// The summary line of a step log, from where it stands now (its last step): the step that
/// failed, the step running, or how many went through (a failure a retry got past stays marked
/// in the list, not here).
pub fn step_summary(steps: &[Step]) -> String {
    match steps.last() {
        Some(last) if last.state == StepState::Failed => format!("✗ Failed while: {}", last.label),
        Some(last) if last.state == StepState::Running => {
            format!("… {} (step {})", last.label, steps.len())
        }
        _ if steps.len() == 1 => "✓ 1 step done".to_owned(),
        _ => format!("✓ {} steps done", steps.len()),
    }
}

/// The collapsed step log (nothing while there are no steps).
#[component]
pub fn StepLog(
    /// The steps, oldest first.
    #[prop(into)]
    steps: Signal<Vec<Step>>,
    /// What the steps are of, for screen readers ("Connection progress").
    label: &'static str,
    /// Classes of the list beside `steps` (`setup-steps`).
    #[prop(optional)]
    class: &'static str,
) -> impl IntoView {
    move || {
        steps.with(|all| {
            (!all.is_empty()).then(|| {
                let failed = all.last().is_some_and(|s| s.state == StepState::Failed);
                let lines = all
                    .iter()
                    .map(|s| {
                        let (mark, class) = match s.state {
                            StepState::Running => ("…", "running"),
                            StepState::Done => ("✓", "done"),
                            StepState::Failed => ("✗", "failed"),
                        };
                        view! { <li class=class><span aria-hidden="true">{mark}</span>" "{printable(&s.label).into_owned()}</li> }
                    })
                    .collect_view();
                view! {
                    <details class="step-log">
                        <summary class:failed=failed>{step_summary(all)}</summary>
                        <ol class=format!("steps {class}") aria-label=label>{lines}</ol>
                    </details>
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(label: &str, state: StepState) -> Step {
        Step {
            label: label.to_owned(),
            state,
        }
    }

    #[test]
    fn the_summary_says_where_the_steps_stand_now() {
        let steps = [
            step("Connecting", StepState::Done),
            step("Reading the device", StepState::Failed),
            step("Retrying", StepState::Running),
            step("Reading the device", StepState::Done),
        ];
        assert_eq!(
            step_summary(&steps[..2]),
            "✗ Failed while: Reading the device"
        );
        assert_eq!(step_summary(&steps[..3]), "… Retrying (step 3)");
        // A retry got past the failure: all went through.
        assert_eq!(step_summary(&steps), "✓ 4 steps done");
        assert_eq!(step_summary(&steps[..1]), "✓ 1 step done");
    }
}
