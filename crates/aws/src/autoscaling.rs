//! Auto Scaling through the SDK: CompleteLifecycleAction, the one call the
//! lifecycle hooks need (`ec2_ddns_core::lifecycle`).

use super::aws_error;
use aws_sdk_autoscaling::error::ProvideErrorMetadata;
use ec2_ddns_core::error::Result;
use ec2_ddns_core::event::LifecycleAction;
use ec2_ddns_core::lifecycle::{Completion, HookResult};
use ec2_ddns_core::ports::LifecycleHooks;

#[derive(Debug, Clone)]
pub struct AutoScaling {
    pub client: aws_sdk_autoscaling::Client,
}

impl LifecycleHooks for AutoScaling {
    /// By the action's token, and its instance id as well (Auto Scaling
    /// checks they agree). An action no longer waiting is a
    /// `ValidationError` "No active Lifecycle Action found …": a duplicate
    /// delivery, a retry after a lost answer, or a timed-out hook.
    async fn complete(&self, action: &LifecycleAction, result: HookResult) -> Result<Completion> {
        let sent = self
            .client
            .complete_lifecycle_action()
            .auto_scaling_group_name(&action.group)
            .lifecycle_hook_name(&action.hook)
            .lifecycle_action_token(action.token.secret())
            .instance_id(&action.instance_id)
            .lifecycle_action_result(result.as_str())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(Completion::Completed),
            Err(e) if not_waiting(e.code(), e.message()) => Ok(Completion::NotWaiting),
            Err(e) => Err(aws_error("autoscaling:CompleteLifecycleAction", e)),
        }
    }
}

/// Whether Auto Scaling's answer says no such action is waiting.
fn not_waiting(code: Option<&str>, message: Option<&str>) -> bool {
    code == Some("ValidationError")
        && message.is_some_and(|m| m.contains("No active Lifecycle Action found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_validation_error_about_no_active_action_means_not_waiting() {
        let table = [
            (
                Some("ValidationError"),
                Some("No active Lifecycle Action found with token t"),
                true,
            ),
            (
                Some("ValidationError"),
                Some("No Lifecycle Hook found with name h"),
                false,
            ),
            (
                Some("AccessDenied"),
                Some("No active Lifecycle Action found"),
                false,
            ),
            (None, None, false),
        ];
        for (code, message, want) in table {
            assert_eq!(not_waiting(code, message), want, "{code:?} {message:?}");
        }
    }
}
