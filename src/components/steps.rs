//! The step log of a long action (connecting, setting a device up): one line that says where it
//! stands (the step running, the step that failed, or that all went through), and every step
//! behind "details".

use leptos::prelude::*;

use crate::state::shelly::{Step, StepState};

/// The summary line of a step log: the step that failed, else the one running, else how many
/// went through.
pub fn step_summary(steps: &[Step]) -> String {
    if let Some(failed) = steps.iter().rev().find(|s| s.state == StepState::Failed) {
        return format!("✗ Failed while: {}", failed.label);
    }
    if let Some(running) = steps.iter().rev().find(|s| s.state == StepState::Running) {
        return format!("… {} (step {})", running.label, steps.len());
    }
    match steps.len() {
        1 => "✓ 1 step done".to_owned(),
        n => format!("✓ {n} steps done"),
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
) -> impl IntoView {
    move || {
        steps.with(|all| {
            (!all.is_empty()).then(|| {
                let failed = all.iter().any(|s| s.state == StepState::Failed);
                let lines = all
                    .iter()
                    .map(|s| {
                        let (mark, class) = match s.state {
                            StepState::Running => ("…", "running"),
                            StepState::Done => ("✓", "done"),
                            StepState::Failed => ("✗", "failed"),
                        };
                        view! { <li class=class><span aria-hidden="true">{mark}</span>" "{s.label.clone()}</li> }
                    })
                    .collect_view();
                view! {
                    <details class="step-log">
                        <summary class:failed=failed>{step_summary(all)}</summary>
                        <ol class="steps" aria-label=label>{lines}</ol>
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
    fn the_summary_names_the_failed_step_before_anything_else() {
        let steps = [
            step("Connecting", StepState::Done),
            step("Reading the device", StepState::Failed),
            step("Retrying", StepState::Running),
        ];
        assert_eq!(step_summary(&steps), "✗ Failed while: Reading the device");
        assert_eq!(step_summary(&steps[2..]), "… Retrying (step 1)");
        assert_eq!(step_summary(&steps[..1]), "✓ 1 step done");
    }
}
