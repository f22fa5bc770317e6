//! Scenario files: a world plus a day in the life of a fleet, written as
//! shorthand steps. Each event step changes the in-memory world as EC2
//! would and sends the matching event; the drift steps change the world
//! without one, so a user can rehearse what a lost event or a person's edit
//! does, and how `reconcile` repairs it:
//!
//! | step | what changes | event sent |
//! |------|--------------|------------|
//! | `launch NAME`, `start NAME` | the instance runs (launch time set) | state change `running` |
//! | `stop NAME` / `terminate NAME` | stopped / terminated | its state change |
//! | `tag NAME KEY=VALUE` | the tag (an empty value removes it) | tag change naming `KEY` |
//! | `run-task NAME` | the ECS task runs (`status` RUNNING, started now) | task state change `RUNNING` |
//! | `stop-task NAME` | the task stops (STOPPED) | task state change `STOPPED` |
//! | `tag-task NAME KEY=VALUE` | the task's tag (an empty value removes it) | none: ECS sends no event for a tag, the reconcile sees it |
//! | `tag-service SERVICE KEY=VALUE` | the tag of the service's tasks not started yet: ECS copies a service's tags to a task when it launches it (`propagateTags` SERVICE), so running tasks keep theirs | none |
//! | `lose STEP` | what STEP changes | none: the event is lost |
//! | `delete-record NAME TYPE [ZONE]` | a person deletes a record set | none |
//! | `set-record NAME TYPE TTL VALUE[,VALUE…] [ZONE]` | a person creates or replaces a record set | none |
//! | `reconcile` | nothing | the full reconcile runs |
//!
//! `ZONE` (a zone id, or a zone name when only one zone has it) is needed
//! when the record's name falls in several zones (split horizon). `NAME` is
//! an instance's id or `name` for instance steps, a task's id or `name` for
//! task steps (`run-task`, `stop-task`, `tag-task`).

use crate::world::{parse_json, read_file, TaskStatus, World};
use ec2_ddns_core::error::{Error, Result};
use ec2_ddns_core::event::{self, InstanceEvent, TaskEvent};
use ec2_ddns_core::model::{DnsName, InstanceState, RecordSet, RecordType, MAX_TTL};
use ec2_ddns_core::names::{self, clip};
use serde::Deserialize;
use std::path::Path;

/// A scenario as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// World file, relative to the scenario file.
    pub world: String,
    /// What the scenario shows, printed before it runs.
    #[serde(default)]
    pub description: Option<String>,
    pub steps: Vec<String>,
}

/// One parsed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// New state for the instance, then its event.
    State { who: String, state: InstanceState },
    /// Set (or, with an empty value, remove) a tag, then its tag-change event.
    Tag {
        who: String,
        key: String,
        value: String,
    },
    /// New status for an ECS task, then its task state change.
    TaskState { who: String, status: TaskStatus },
    /// Set (or, with an empty value, remove) a task's tag; ECS sends no event.
    TagTask {
        who: String,
        key: String,
        value: String,
    },
    /// Tag a service: its tasks not started yet get the tag when they
    /// launch (ECS's `propagateTags`); those running keep theirs.
    TagService {
        service: String,
        key: String,
        value: String,
    },
    /// The step's change to EC2 or ECS, without its event.
    Lose(Box<Step>),
    /// A person deletes a record set.
    DeleteRecord {
        name: DnsName,
        rtype: RecordType,
        zone: Option<String>,
    },
    /// A person creates or replaces a record set.
    SetRecord {
        record: RecordSet,
        zone: Option<String>,
    },
    /// The full reconcile.
    Reconcile,
}

const EXPECTED: &str = "expected one of: launch NAME, start NAME, stop NAME, terminate NAME, tag NAME KEY=VALUE, run-task NAME, stop-task NAME, tag-task NAME KEY=VALUE, tag-service SERVICE KEY=VALUE, lose STEP, delete-record NAME TYPE [ZONE], set-record NAME TYPE TTL VALUE[,VALUE] [ZONE], reconcile";

/// Parses one step (see the module docs for the forms).
pub fn parse_step(file: &str, index: usize, text: &str) -> Result<Step> {
    let bad = |message: String| Error::BadFile {
        file: file.to_string(),
        path: format!("steps[{index}]"),
        message,
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    parse_words(&words).map_err(|why| bad(format!("'{}': {why}", clip(text))))
}

fn parse_words(words: &[&str]) -> std::result::Result<Step, String> {
    let state = match words.first().copied() {
        Some("launch") | Some("start") => Some(InstanceState::Running),
        Some("stop") => Some(InstanceState::Stopped),
        Some("terminate") => Some(InstanceState::Terminated),
        _ => None,
    };
    match (state, words) {
        (Some(state), [_, who]) => Ok(Step::State {
            who: who.to_string(),
            state,
        }),
        (None, ["tag", who, assignment]) => match assignment.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok(Step::Tag {
                who: who.to_string(),
                key: key.to_string(),
                value: value.to_string(),
            }),
            _ => Err("expected tag NAME KEY=VALUE".into()),
        },
        (None, ["run-task", who]) => Ok(Step::TaskState {
            who: who.to_string(),
            status: TaskStatus::Running,
        }),
        (None, ["stop-task", who]) => Ok(Step::TaskState {
            who: who.to_string(),
            status: TaskStatus::Stopped,
        }),
        (None, ["tag-task", who, assignment]) => match assignment.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok(Step::TagTask {
                who: who.to_string(),
                key: key.to_string(),
                value: value.to_string(),
            }),
            _ => Err("expected tag-task NAME KEY=VALUE".into()),
        },
        (None, ["tag-service", service, assignment]) => match assignment.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok(Step::TagService {
                service: service.to_string(),
                key: key.to_string(),
                value: value.to_string(),
            }),
            _ => Err("expected tag-service SERVICE KEY=VALUE".into()),
        },
        (None, ["lose", rest @ ..]) => match parse_words(rest)? {
            step @ (Step::State { .. } | Step::Tag { .. } | Step::TaskState { .. } | Step::TagTask { .. }) => Ok(Step::Lose(Box::new(step))),
            _ => Err("expected lose followed by a launch, start, stop, terminate, tag, run-task, stop-task or tag-task step, e.g. lose stop web-1".into()),
        },
        (None, ["reconcile"]) => Ok(Step::Reconcile),
        (None, ["delete-record", name, rtype, zone @ ..]) if zone.len() <= 1 => {
            Ok(Step::DeleteRecord {
                name: names::normalize(name),
                rtype: RecordType::from(*rtype),
                zone: zone.first().map(|z| z.to_string()),
            })
        }
        (None, ["set-record", name, rtype, ttl, values, zone @ ..]) if zone.len() <= 1 => {
            let ttl = ttl
                .parse::<u32>()
                .ok()
                .filter(|t| *t <= MAX_TTL)
                .ok_or_else(|| format!("TTL '{}': expected whole seconds from 0 to {MAX_TTL}", clip(ttl)))?;
            let values: Vec<String> = values
                .split(',')
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect();
            if values.is_empty() {
                return Err("expected at least one value, e.g. set-record api.corp.example A 60 10.1.2.9".into());
            }
            Ok(Step::SetRecord {
                record: RecordSet::new(name, RecordType::from(*rtype), ttl, values),
                zone: zone.first().map(|z| z.to_string()),
            })
        }
        _ => Err(EXPECTED.into()),
    }
}

impl Step {
    /// The instance the step acts on, by id or `Name`; `None` for steps on
    /// tasks, zones or everything.
    pub fn who(&self) -> Option<&str> {
        match self {
            Step::State { who, .. } | Step::Tag { who, .. } => Some(who),
            Step::Lose(step) => step.who(),
            _ => None,
        }
    }

    /// The ECS task the step acts on, by id or `name`; `None` for other steps.
    pub fn task(&self) -> Option<&str> {
        match self {
            Step::TaskState { who, .. } | Step::TagTask { who, .. } => Some(who),
            Step::Lose(step) => step.task(),
            _ => None,
        }
    }
}

/// A loaded scenario: its world and parsed steps.
pub struct Scenario {
    pub description: Option<String>,
    pub world: World,
    pub steps: Vec<(String, Step)>,
}

impl Scenario {
    pub fn load(path: &str) -> Result<Scenario> {
        let file: ScenarioFile =
            parse_json(path, "a scenario with world and steps", &read_file(path)?)?;
        let world_path = Path::new(path)
            .parent()
            .unwrap_or(Path::new("."))
            .join(&file.world);
        let world_path = world_path.to_string_lossy().to_string();
        let world = World::load(&world_path)?;
        let mut steps = Vec::new();
        for (i, text) in file.steps.iter().enumerate() {
            let step = parse_step(path, i, text)?;
            let unknown = step.who().filter(|who| world.find_instance(who).is_none());
            if let Some(who) = unknown {
                return Err(Error::BadFile {
                    file: path.to_string(),
                    path: format!("steps[{i}]"),
                    message: format!(
                        "no instance with id or name '{}' in {world_path}",
                        clip(who)
                    ),
                });
            }
            let unknown = step.task().filter(|who| world.find_task(who).is_none());
            if let Some(who) = unknown {
                return Err(Error::BadFile {
                    file: path.to_string(),
                    path: format!("steps[{i}]"),
                    message: format!("no task with id or name '{}' in {world_path}", clip(who)),
                });
            }
            steps.push((text.clone(), step));
        }
        Ok(Scenario {
            description: file.description,
            world,
            steps,
        })
    }
}

/// Scenario events are timed from 2026-01-01T00:00:00Z (Unix seconds), one
/// second apart.
const SCENARIO_START: i64 = 1_767_225_600;

/// What a step did to the world, and what the registrar is to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Performed {
    /// Handle this event.
    Event(InstanceEvent),
    /// Handle this ECS task state change (built by
    /// `event::task_state_change_json` from the task as the world now
    /// describes it, and parsed back).
    Task(TaskEvent),
    /// Nothing to handle: the world changed without an event (said here).
    Quiet(String),
    /// Run the full reconcile.
    Reconcile,
}

impl Performed {
    /// The event to handle, if the step sent one.
    pub fn event(self) -> Option<InstanceEvent> {
        match self {
            Performed::Event(e) => Some(e),
            _ => None,
        }
    }
}

/// Applies a step to the world and says what follows. `second` numbers the
/// steps, so later events are newer.
pub fn perform(world: &mut World, step: &Step, second: u32) -> Result<Performed> {
    let time = chrono::DateTime::from_timestamp(SCENARIO_START + i64::from(second), 0);
    let region = world.region.clone();
    match step {
        Step::Reconcile => Ok(Performed::Reconcile),
        Step::Lose(step) => {
            let lost = perform(world, step, second)?;
            if let Performed::Quiet(_) = lost {
                // Nothing was sent (a task's tag): nothing to lose.
                return Ok(lost);
            }
            let what = match lost {
                Performed::Event(e) if e.is_tag_change() => {
                    format!("tag change on {}", e.instance_id)
                }
                Performed::Event(e) => format!(
                    "{} now {}",
                    e.instance_id,
                    e.state().map(|s| s.as_str()).unwrap_or_default()
                ),
                Performed::Task(e) => format!("task {} now {}", e.task_arn, e.last_status),
                Performed::Quiet(what) => what,
                Performed::Reconcile => String::new(),
            };
            Ok(Performed::Quiet(format!("{what}; its event is lost")))
        }
        Step::DeleteRecord { name, rtype, zone } => {
            let z = zone_of(world, name, zone.as_deref())?;
            let records = &mut world.zones[z].records;
            let before = records.len();
            records.retain(|r| !(r.name == *name && r.rtype == *rtype));
            if records.len() == before {
                return Err(Error::BadEvent(format!(
                    "delete-record: zone {} holds no {rtype} record at {name}",
                    world.zones[z].id
                )));
            }
            Ok(Performed::Quiet(format!(
                "a person deleted {name} {rtype} in {}",
                world.zones[z].id
            )))
        }
        Step::SetRecord { record, zone } => {
            let z = zone_of(world, &record.name, zone.as_deref())?;
            let before = world.zones[z].records.clone();
            world.zones[z].records.retain(|r| !r.same_slot(record));
            world.zones[z].records.push(record.clone());
            if let Err(e) = world.check("set-record") {
                world.zones[z].records = before;
                return Err(Error::BadEvent(format!("Route 53 would refuse it: {e}")));
            }
            Ok(Performed::Quiet(format!(
                "a person set {record} in {}",
                world.zones[z].id
            )))
        }
        Step::State { who, state } => {
            let instance = world
                .find_instance_mut(who)
                .ok_or_else(|| Error::BadEvent(format!("no instance '{}'", clip(who))))?;
            if *state == InstanceState::Running && instance.state != InstanceState::Running {
                instance.launch_time = time;
            }
            instance.state = *state;
            let id = instance.id.clone();
            event::parse_instance(event::state_change_json(
                &format!("scenario-{second:04}"),
                &id,
                *state,
                time,
                &region,
            ))
            .map(Performed::Event)
        }
        Step::TaskState { who, status } => {
            let task = world
                .find_task_mut(who)
                .ok_or_else(|| Error::BadEvent(format!("no task '{}'", clip(who))))?;
            if *status == TaskStatus::Running && task.status != TaskStatus::Running {
                task.started_at = time;
            }
            task.status = *status;
            let task = task.clone();
            let facts = world.task_facts(&task);
            event::task::parse_task_event(event::task_state_change_json(
                &format!("scenario-{second:04}"),
                &facts,
                time,
                &region,
            ))
            .map(Performed::Task)
        }
        Step::TagService {
            service,
            key,
            value,
        } => {
            let mut waiting = 0;
            let mut running = 0;
            for task in world
                .tasks
                .iter_mut()
                .filter(|t| t.service.as_deref() == Some(service.as_str()))
            {
                if task.status.is_starting() {
                    if value.is_empty() {
                        task.tags.remove(key);
                    } else {
                        task.tags.insert(key.clone(), value.clone());
                    }
                    waiting += 1;
                } else {
                    running += 1;
                }
            }
            if waiting + running == 0 {
                return Err(Error::BadEvent(format!(
                    "no task of a service '{}' in the world",
                    clip(service)
                )));
            }
            Ok(Performed::Quiet(format!(
                "tag {key} on service {service}: {waiting} task(s) not started yet carry it when they launch (ECS copies a service's tags then, with propagateTags SERVICE); {running} started keep theirs"
            )))
        }
        Step::TagTask { who, key, value } => {
            let task = world
                .find_task_mut(who)
                .ok_or_else(|| Error::BadEvent(format!("no task '{}'", clip(who))))?;
            if value.is_empty() {
                task.tags.remove(key);
            } else {
                task.tags.insert(key.clone(), value.clone());
            }
            let task = task.clone();
            Ok(Performed::Quiet(format!(
                "tag {key} on task {}; ECS sends no event for a tag change, the reconcile sees it",
                world.task_arn(&task)
            )))
        }
        Step::Tag { who, key, value } => {
            let instance = world
                .find_instance_mut(who)
                .ok_or_else(|| Error::BadEvent(format!("no instance '{}'", clip(who))))?;
            if value.is_empty() {
                instance.tags.remove(key);
            } else {
                instance.tags.insert(key.clone(), value.clone());
            }
            let id = instance.id.clone();
            let tags = instance.tags.clone();
            event::parse_instance(event::tag_change_json(
                &format!("scenario-{second:04}"),
                &id,
                &[key.as_str()],
                &tags,
                time,
                &region,
            ))
            .map(Performed::Event)
        }
    }
}

/// The zone a person's record edit goes to: the one named, else the one
/// zone whose name is the longest suffix of the record's name.
fn zone_of(world: &World, name: &str, zone: Option<&str>) -> Result<usize> {
    let candidates: Vec<usize> = match zone {
        Some(z) => {
            let wanted = names::normalize(z);
            world
                .zones
                .iter()
                .enumerate()
                .filter(|(_, w)| w.info().id == z || w.info().name == wanted)
                .map(|(i, _)| i)
                .collect()
        }
        None => {
            let inside: Vec<(usize, usize)> = world
                .zones
                .iter()
                .enumerate()
                .filter(|(_, w)| names::is_within(name, &w.info().name))
                .map(|(i, w)| (i, w.info().name.len()))
                .collect();
            let longest = inside.iter().map(|(_, n)| *n).max().unwrap_or(0);
            inside
                .into_iter()
                .filter(|(_, n)| *n == longest)
                .map(|(i, _)| i)
                .collect()
        }
    };
    match candidates.as_slice() {
        [one] => Ok(*one),
        [] => Err(Error::BadEvent(format!(
            "no zone {} for {name}",
            zone.map(|z| format!("'{}'", clip(z))).unwrap_or_default()
        ))),
        several => Err(Error::BadEvent(format!(
            "{name} falls in {} zones ({}); name the zone by id as the last word",
            several.len(),
            several
                .iter()
                .map(|i| world.zones[*i].id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_parse_or_say_what_was_expected() {
        assert_eq!(
            parse_step("s", 0, "launch web-1").unwrap(),
            Step::State {
                who: "web-1".into(),
                state: InstanceState::Running
            }
        );
        assert_eq!(
            parse_step("s", 1, "tag web-1 CNAME=api.corp.example.").unwrap(),
            Step::Tag {
                who: "web-1".into(),
                key: "CNAME".into(),
                value: "api.corp.example.".into()
            }
        );
        assert_eq!(
            parse_step("s", 2, "lose stop web-1").unwrap(),
            Step::Lose(Box::new(Step::State {
                who: "web-1".into(),
                state: InstanceState::Stopped
            }))
        );
        assert_eq!(parse_step("s", 3, "reconcile").unwrap(), Step::Reconcile);
        assert_eq!(
            parse_step("s", 4, "delete-record api.corp.example CNAME Z0PRIV").unwrap(),
            Step::DeleteRecord {
                name: "api.corp.example.".into(),
                rtype: RecordType::Cname,
                zone: Some("Z0PRIV".into())
            }
        );
        assert!(matches!(
            parse_step("s", 5, "set-record api.corp.example A 300 10.9.9.9,10.9.9.8").unwrap(),
            Step::SetRecord { record, zone: None } if record.values() == ["10.9.9.8", "10.9.9.9"]
        ));
        assert_eq!(
            parse_step("s", 6, "run-task web-1").unwrap(),
            Step::TaskState {
                who: "web-1".into(),
                status: TaskStatus::Running
            }
        );
        assert_eq!(
            parse_step("s", 7, "lose stop-task web-2").unwrap(),
            Step::Lose(Box::new(Step::TaskState {
                who: "web-2".into(),
                status: TaskStatus::Stopped
            }))
        );
        let tag = parse_step("s", 8, "tag-task web-3 HOSTNAME=api").unwrap();
        assert_eq!(
            tag,
            Step::TagTask {
                who: "web-3".into(),
                key: "HOSTNAME".into(),
                value: "api".into()
            }
        );
        assert_eq!((tag.task(), tag.who()), (Some("web-3"), None));
        let err = parse_step("s.json", 3, "lunch web-1")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("run-task NAME, stop-task NAME, tag-task NAME KEY=VALUE"),
            "{err}"
        );
        for bad in [
            "run-task",
            "run-task a b",
            "tag-task web-1",
            "tag-task web-1 =x",
            "lunch web-1",
            "tag web-1",
            "tag web-1 =x",
            "stop",
            "lose reconcile",
            "lose",
            "set-record a.corp.example A sixty 10.0.0.1",
            "set-record a.corp.example A 60 ,",
            "delete-record a.corp.example",
        ] {
            let err = parse_step("s.json", 3, bad).unwrap_err().to_string();
            assert!(
                err.starts_with("s.json: steps[3]") && err.contains("expected"),
                "{err}"
            );
        }
    }

    fn fargate() -> World {
        World::load(&format!(
            "{}/../../fixtures/worlds/fargate.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("the fargate fixture")
    }

    /// `run-task` runs the task (started now) and sends its state change,
    /// built from the task as the world now describes it; `stop-task` stops
    /// it; `tag-task` changes its tag and sends nothing; `lose` keeps the
    /// change and drops the event.
    #[test]
    fn task_steps_change_the_world_and_send_task_state_changes() {
        let mut world = fargate();
        let step = |text: &str| parse_step("s", 0, text).unwrap();
        let Performed::Task(event) = perform(&mut world, &step("run-task web-4"), 5).unwrap()
        else {
            panic!("a task event")
        };
        let task = world.find_task("web-4").unwrap().clone();
        assert_eq!(task.status, TaskStatus::Running);
        assert_eq!(
            task.started_at,
            chrono::DateTime::from_timestamp(SCENARIO_START + 5, 0)
        );
        assert_eq!(event.task_arn, world.task_arn(&task));
        assert_eq!(event.cluster_arn, world.cluster_arn(&task.cluster));
        assert_eq!(
            (event.last_status.as_str(), event.desired_status.as_str()),
            ("RUNNING", "RUNNING")
        );
        assert_eq!(event.event_id, "scenario-0005");
        assert!(!event.is_final());

        let Performed::Task(event) = perform(&mut world, &step("stop-task web-4"), 6).unwrap()
        else {
            panic!("a task event")
        };
        assert_eq!(
            world.find_task("web-4").unwrap().status,
            TaskStatus::Stopped
        );
        assert!(event.is_final());

        let quiet = perform(&mut world, &step("tag-task web-1 HOSTNAME=api"), 7).unwrap();
        assert!(
            matches!(&quiet, Performed::Quiet(what) if what.contains("no event")),
            "{quiet:?}"
        );
        assert_eq!(world.find_task("web-1").unwrap().tags["HOSTNAME"], "api");
        perform(&mut world, &step("tag-task web-1 HOSTNAME="), 8).unwrap();
        assert!(!world
            .find_task("web-1")
            .unwrap()
            .tags
            .contains_key("HOSTNAME"));

        let lost = perform(&mut world, &step("lose stop-task web-2"), 9).unwrap();
        assert!(
            matches!(&lost, Performed::Quiet(what) if what.contains("STOPPED; its event is lost")),
            "{lost:?}"
        );
        assert_eq!(
            world.find_task("web-2").unwrap().status,
            TaskStatus::Stopped
        );
        assert!(perform(&mut world, &step("run-task nobody"), 10).is_err());
    }

    /// A scenario naming a task the world lacks is refused when it loads.
    #[test]
    fn a_step_on_an_unknown_task_is_refused_on_load() {
        let world = format!(
            "{}/../../fixtures/worlds/fargate.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let file = std::env::temp_dir().join(format!(
            "ec2-ddns-scenario-{}-unknown-task.json",
            std::process::id()
        ));
        std::fs::write(
            &file,
            serde_json::json!({"world": world, "steps": ["run-task web-1", "stop-task web-9"]})
                .to_string(),
        )
        .unwrap();
        let loaded = Scenario::load(file.to_str().unwrap());
        let _ = std::fs::remove_file(&file);
        let err = loaded.err().unwrap().to_string();
        assert!(
            err.contains("steps[1]: no task with id or name 'web-9'"),
            "{err}"
        );
    }
}
