//! Scenario files: a world plus a day in the life of a fleet, written as
//! shorthand steps (`launch web-1`, `tag web-1 CNAME=api.corp.example.`,
//! `stop web-1`, `terminate web-1`). Each step changes the in-memory world
//! as EC2 would and sends the matching state-change event.

use crate::error::{Error, Result};
use crate::event::{self, StateChange};
use crate::model::InstanceState;
use crate::names::clip;
use crate::sim::world::{parse_json, read_file, World};
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
    /// Set (or, with an empty value, remove) a tag, then re-send `running`.
    Tag {
        who: String,
        key: String,
        value: String,
    },
}

/// Parses `launch|start|stop|terminate NAME` and `tag NAME KEY=VALUE`.
pub fn parse_step(file: &str, index: usize, text: &str) -> Result<Step> {
    let bad = |message: String| Error::BadFile {
        file: file.to_string(),
        path: format!("steps[{index}]"),
        message,
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    let state = match words.first().copied() {
        Some("launch") | Some("start") => Some(InstanceState::Running),
        Some("stop") => Some(InstanceState::Stopped),
        Some("terminate") => Some(InstanceState::Terminated),
        _ => None,
    };
    match (state, words.as_slice()) {
        (Some(state), [_, who]) => Ok(Step::State { who: who.to_string(), state }),
        (None, ["tag", who, assignment]) => match assignment.split_once('=') {
            Some((key, value)) if !key.is_empty() => {
                Ok(Step::Tag { who: who.to_string(), key: key.to_string(), value: value.to_string() })
            }
            _ => Err(bad(format!("'{}': expected tag NAME KEY=VALUE", clip(text)))),
        },
        _ => Err(bad(format!(
            "'{}': expected one of: launch NAME, start NAME, stop NAME, terminate NAME, tag NAME KEY=VALUE",
            clip(text)
        ))),
    }
}

impl Step {
    /// The instance the step acts on, by id or `Name`.
    pub fn who(&self) -> &str {
        match self {
            Step::State { who, .. } | Step::Tag { who, .. } => who,
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
            if world.find_instance(step.who()).is_none() {
                return Err(Error::BadFile {
                    file: path.to_string(),
                    path: format!("steps[{i}]"),
                    message: format!(
                        "no instance with id or name '{}' in {world_path}",
                        clip(step.who())
                    ),
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

/// Applies a step to the world and returns the event EC2 would send.
/// `second` numbers the events so later ones are newer.
pub fn perform(world: &mut World, step: &Step, second: u32) -> Result<StateChange> {
    let state = match step {
        Step::State { state, .. } => *state,
        Step::Tag { .. } => InstanceState::Running,
    };
    let region = world.region.clone();
    let instance = world
        .find_instance_mut(step.who())
        .ok_or_else(|| Error::BadEvent(format!("no instance '{}'", clip(step.who()))))?;
    instance.state = state;
    if let Step::Tag { key, value, .. } = step {
        if value.is_empty() {
            instance.tags.remove(key);
        } else {
            instance.tags.insert(key.clone(), value.clone());
        }
    }
    let time = chrono::DateTime::from_timestamp(SCENARIO_START + i64::from(second), 0);
    event::parse(event::state_change_json(
        &format!("scenario-{second:04}"),
        &instance.id,
        state,
        time,
        &region,
    ))
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
        for bad in ["lunch web-1", "tag web-1", "tag web-1 =x", "stop"] {
            let err = parse_step("s.json", 3, bad).unwrap_err().to_string();
            assert!(
                err.starts_with("s.json: steps[3]") && err.contains("expected"),
                "{err}"
            );
        }
    }
}
