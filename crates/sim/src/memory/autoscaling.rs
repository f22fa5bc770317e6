//! Auto Scaling's lifecycle hooks in memory, strict as the service is: a
//! test (as the group would) starts an action for an instance with a hook
//! and a token; CompleteLifecycleAction completes a waiting action once,
//! and answers for any other token (unknown, or completed already) that
//! no action is waiting, with Auto Scaling's code and words. A hook the
//! group does not have is refused. Every completion is kept, in order,
//! for the tests to read.

use super::MemoryAccount;
use ec2_ddns_core::error::{Error, Failure, Result};
use ec2_ddns_core::event::{LifecycleAction, LifecycleToken, Transition};
use ec2_ddns_core::lifecycle::{Completion, HookResult};
use ec2_ddns_core::ports::LifecycleHooks;
use std::collections::{BTreeMap, BTreeSet};

/// The hooks, the actions waiting on them and the completions made.
#[derive(Debug, Default)]
pub(crate) struct Hooks {
    /// (group, hook) pairs that exist.
    hooks: BTreeSet<(String, String)>,
    /// Waiting actions by token.
    waiting: BTreeMap<String, LifecycleAction>,
    completed: Vec<Completed>,
}

/// One completion Auto Scaling accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completed {
    pub group: String,
    pub hook: String,
    pub instance_id: String,
    pub transition: Transition,
    pub result: HookResult,
    /// The number of the call that completed it among all the account's
    /// calls ([`MemoryAccount::journal`]).
    pub call: usize,
}

const OPERATION: &str = "autoscaling:CompleteLifecycleAction";

impl MemoryAccount {
    /// Gives `group` a lifecycle hook named `hook`.
    pub fn put_lifecycle_hook(&self, group: &str, hook: &str) {
        self.lock()
            .hooks
            .hooks
            .insert((group.to_string(), hook.to_string()));
    }

    /// The group starts a lifecycle action on its hook for an instance (a
    /// launch or a termination): it waits until completed. The action, as
    /// its event carries it.
    pub fn start_lifecycle_action(
        &self,
        group: &str,
        hook: &str,
        instance_id: &str,
        transition: Transition,
        token: &str,
    ) -> LifecycleAction {
        let action = LifecycleAction {
            transition,
            group: group.to_string(),
            hook: hook.to_string(),
            instance_id: instance_id.to_string(),
            token: LifecycleToken::new(token),
        };
        let mut state = self.lock();
        state
            .hooks
            .hooks
            .insert((group.to_string(), hook.to_string()));
        state
            .hooks
            .waiting
            .insert(token.to_string(), action.clone());
        action
    }

    /// The completions accepted, in order.
    pub fn lifecycle_completions(&self) -> Vec<Completed> {
        self.lock().hooks.completed.clone()
    }

    /// The instances whose actions still wait.
    pub fn lifecycle_waiting(&self) -> Vec<String> {
        self.lock()
            .hooks
            .waiting
            .values()
            .map(|a| a.instance_id.clone())
            .collect()
    }
}

impl LifecycleHooks for MemoryAccount {
    async fn complete(&self, action: &LifecycleAction, result: HookResult) -> Result<Completion> {
        let after = self.enter(OPERATION, None)?;
        let answer = {
            let mut state = self.lock();
            let call = state.journal.len().saturating_sub(1);
            let hooks = &mut state.hooks;
            if !hooks
                .hooks
                .contains(&(action.group.clone(), action.hook.clone()))
            {
                return Err(Error::Aws {
                    operation: OPERATION.into(),
                    code: Some("ValidationError".into()),
                    message: format!(
                        "No Lifecycle Hook found with name {} for group {}",
                        action.hook, action.group
                    ),
                    kind: Failure::Final,
                });
            }
            match hooks.waiting.get(action.token.secret()) {
                Some(waiting)
                    if waiting.group == action.group
                        && waiting.hook == action.hook
                        && waiting.instance_id == action.instance_id =>
                {
                    let waiting = hooks
                        .waiting
                        .remove(action.token.secret())
                        .expect("just found");
                    hooks.completed.push(Completed {
                        group: waiting.group,
                        hook: waiting.hook,
                        instance_id: waiting.instance_id,
                        transition: waiting.transition,
                        result,
                        call,
                    });
                    Completion::Completed
                }
                // As Auto Scaling answers it (a ValidationError), read by
                // the real adapter as "not waiting".
                _ => Completion::NotWaiting,
            }
        };
        self.leave(OPERATION, after)?;
        Ok(answer)
    }
}
