//! ECS tasks as a source of subjects: a task state change is a hint to
//! converge that task to its live state, as an instance's state change is
//! (`docs/convergence.md`). The task is described (unless the event says
//! it is stopping: a task never runs again), its intent decided by
//! `plan::task`, and the one engine converges it under the key `task#ARN`
//! with the same book, write-ahead, compare-and-swap and settling as an
//! instance's records.

use super::book::{Book, Cause};
use super::read::{Reads, Surroundings};
use super::subject::{Subject, Wants};
use super::Registrar;
use crate::error::Result;
use crate::event::TaskEvent;
use crate::model::{RegistryKey, TaskFacts};
use crate::plan::task::{default_label, task_intent};
use crate::plan::{DefaultName, Intent};
use crate::ports::{Dns, Instances, Registry, Tasks};
use crate::summary::Summary;
use tracing::info;

impl<E: Instances + Sync, D: Dns + Sync, R: Registry + Sync> Registrar<E, D, R> {
    /// Converges the task `event` names to its live state, as `tasks`
    /// describes it. `Err` only for failures; conflicts and rejections are
    /// part of a successful summary.
    pub async fn handle_task<T: Tasks + Sync>(
        &self,
        tasks: &T,
        event: &TaskEvent,
    ) -> Result<Summary> {
        let key = RegistryKey::task(&event.task_arn);
        let describe = async {
            match event.is_final() {
                true => Ok(None),
                false => tasks.task(&event.cluster_arn, &event.task_arn).await,
            }
        };
        let (item, live) = tokio::join!(self.registry.load(&key), describe);
        let (item, live) = (item?, live?);
        let mut summary = Summary::reconciled(&event.event_id, &key.to_string()).note(format!(
            "the event says {} (desired {}){}",
            event.last_status,
            event.desired_status,
            live.as_ref()
                .map(|t| format!(
                    "; ECS says {} (desired {})",
                    t.last_status, t.desired_status
                ))
                .unwrap_or_default()
        ));
        summary.dry_run = self.dry_run;
        if let Some(found) = item.as_ref().and_then(|i| i.replaces.as_ref()) {
            summary.notes.push(found.note());
        }
        let intent = match event.is_final() {
            true => Intent::Deregister(format!("the task is {}", event.last_status)),
            false => task_intent(live.as_ref()),
        };
        let cause = Cause {
            key,
            event_id: &event.event_id,
            time: event.time,
            state: None,
        };
        let (book, wants, launched) = match intent {
            Intent::Hold(why) => return Ok(summary.note(why)),
            Intent::Deregister(why) => match item {
                Some(item) => (Book::open(cause, Some(item)), Wants::Nothing, None),
                None => {
                    return Ok(summary.note(format!("{why}: no records registered for this task")))
                }
            },
            Intent::Register(facts) => {
                let label = live.as_ref().and_then(|task| self.default_label(task));
                let default_name = match &label {
                    Some(label) => DefaultName::Label(label),
                    None => DefaultName::Nothing,
                };
                let surroundings = Surroundings::read(self, &[&facts]).await;
                let targets = surroundings.targets_named(&self.config, &facts, default_name)?;
                let mut book = Book::open(cause, item);
                book.facts(&facts);
                (book, Wants::Instance(Box::new(targets)), facts.launch_time)
            }
        };
        let summary = if matches!(wants, Wants::Nothing) {
            summary.note("deleting what it owns")
        } else {
            summary
        };
        let subject = Subject::new(book, summary.clone(), wants, 0).launched(launched);
        let done = self
            .converge_subjects(vec![subject], Reads::Names, None)
            .await;
        // One subject in, one result out.
        let summary = done
            .results
            .into_iter()
            .next()
            .map_or(Ok(summary), |c| c.into_result())?;
        info!(
            task = %event.task_arn,
            outcome = summary.outcome.as_str(),
            changes = summary.changes.len(),
            conflicts = summary.conflicts.len(),
            "task event handled"
        );
        Ok(summary)
    }

    /// The task's default host label, from `DDNS_TASK_DEFAULT_NAME`.
    fn default_label(&self, task: &TaskFacts) -> Option<String> {
        let template = self.config.task_default_name.as_deref()?;
        default_label(template, task)
    }
}
