//! An ECS task as a subject of the plan: what its live state asks for,
//! and the facts the planner reads, from its elastic network interface and
//! its tags. A task is planned by the same rules as an instance
//! (`docs/records.md`); only two things differ, decided here: a task never
//! runs again once it leaves RUNNING (a service starts a new one), and a
//! task has no default host name unless `DDNS_TASK_DEFAULT_NAME` gives one.

use super::Intent;
use crate::model::{InstanceFacts, InstanceState, TaskFacts};
use crate::names;

/// The placeholders `DDNS_TASK_DEFAULT_NAME` may use.
pub const PLACEHOLDERS: [&str; 5] = [
    "{family}",
    "{service}",
    "{cluster}",
    "{task-id}",
    "{task-id-8}",
];

/// What converging a task means, by its live state (`None`: ECS no longer
/// knows it).
pub fn task_intent(live: Option<&TaskFacts>) -> Intent {
    let Some(task) = live else {
        return Intent::Deregister("the task is gone".into());
    };
    if task.is_running() {
        return match &task.eni {
            Some(eni) if eni.private_ip.is_some() || eni.ipv6.is_some() => {
                Intent::Register(task_facts(task))
            }
            Some(_) => Intent::Hold(
                "the task runs but its network interface has no address yet; its records wait for the next convergence".into(),
            ),
            None => Intent::Deregister(
                "the task has no network interface of its own (bridge or host network mode): its address is its container instance's, which has the names".into(),
            ),
        };
    }
    if task.is_starting() {
        return Intent::Hold(format!(
            "the task is {}: its records wait until it runs",
            task.last_status
        ));
    }
    Intent::Deregister(format!(
        "the task is {} (desired {})",
        task.last_status, task.desired_status
    ))
}

/// The facts the planner reads for a running task: its ENI's addresses
/// and names, its tags, its start as its launch time; its id stands where
/// an instance's does (the set identifier of its group record sets).
pub fn task_facts(task: &TaskFacts) -> InstanceFacts {
    let eni = task.eni.as_ref();
    InstanceFacts {
        instance_id: task.task_id().to_string(),
        state: if task.is_running() {
            InstanceState::Running
        } else {
            InstanceState::Stopped
        },
        vpc_id: eni.and_then(|e| e.vpc_id.clone()),
        subnet_id: eni.and_then(|e| e.subnet_id.clone()),
        private_ip: eni.and_then(|e| e.private_ip),
        public_ip: eni.and_then(|e| e.public_ip),
        ipv6: eni.and_then(|e| e.ipv6),
        private_dns_name: eni.and_then(|e| e.private_dns_name.clone()),
        public_dns_name: eni.and_then(|e| e.public_dns_name.clone()),
        tags: task.tags.clone(),
        launch_time: task.started_at,
    }
}

/// The task's default host label from the `DDNS_TASK_DEFAULT_NAME`
/// template (`{family}-{task-id-8}`): placeholders filled in, lower-cased,
/// every character a label can't hold made `-`, cut to 63 characters.
/// `None` when the result is no label (all placeholders empty).
pub fn default_label(template: &str, task: &TaskFacts) -> Option<String> {
    let service = task
        .group
        .as_deref()
        .and_then(|g| g.strip_prefix("service:"))
        .unwrap_or_default();
    let id = task.task_id();
    let filled = template
        .replace("{family}", task.family.as_deref().unwrap_or_default())
        .replace("{service}", service)
        .replace("{cluster}", task.cluster_name())
        .replace("{task-id-8}", &id.chars().take(8).collect::<String>())
        .replace("{task-id}", id);
    let mut label: String = filled
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    label.truncate(63);
    let label = label.trim_matches('-').to_string();
    (!label.is_empty() && names::check_hostname(&format!("{label}.x")).is_ok()).then_some(label)
}

/// Checks a `DDNS_TASK_DEFAULT_NAME` template: only known placeholders,
/// and something a label can be made of. `Err` says what is expected.
pub fn check_template(template: &str) -> Result<(), String> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .ok_or_else(|| format!("'{}' has a {{ without its }}", names::clip(template)))?;
        let placeholder = &rest[open..=close];
        if !PLACEHOLDERS.contains(&placeholder) {
            return Err(format!(
                "'{}' is not a placeholder; expected {}",
                names::clip(placeholder),
                PLACEHOLDERS.join(", ")
            ));
        }
        rest = &rest[close + 1..];
    }
    if template.contains('.') {
        return Err(
            "a default name is one label (no dots): the task's home domain follows it".into(),
        );
    }
    if template.trim().is_empty() {
        return Err(
            "the template is empty; give e.g. {family}-{task-id-8}, or leave it unset".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TaskEni;
    use rstest::rstest;

    fn task(last: &str, desired: &str, eni: bool) -> TaskFacts {
        TaskFacts {
            task_arn:
                "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef"
                    .into(),
            cluster_arn: "arn:aws:ecs:us-east-1:123456789012:cluster/prod".into(),
            last_status: last.into(),
            desired_status: desired.into(),
            group: Some("service:Web_API".into()),
            family: Some("web".into()),
            launch_type: Some("FARGATE".into()),
            eni: eni.then(|| TaskEni {
                eni_id: "eni-0abc".into(),
                subnet_id: Some("subnet-1".into()),
                vpc_id: Some("vpc-1".into()),
                private_ip: "10.1.2.4".parse().ok(),
                ipv6: None,
                public_ip: "54.1.2.3".parse().ok(),
                private_dns_name: Some("ip-10-1-2-4.ec2.internal".into()),
                public_dns_name: None,
            }),
            tags: [("GROUP".to_string(), "web.corp.example".to_string())].into(),
            started_at: None,
        }
    }

    /// `R` register, `D` deregister, `H` hold.
    #[rstest]
    #[case::running("RUNNING", "RUNNING", true, 'R')]
    #[case::running_to_stop("RUNNING", "STOPPED", true, 'D')]
    #[case::provisioning("PROVISIONING", "RUNNING", true, 'H')]
    #[case::pending("PENDING", "RUNNING", true, 'H')]
    #[case::deprovisioning("DEPROVISIONING", "STOPPED", true, 'D')]
    #[case::stopped("STOPPED", "STOPPED", true, 'D')]
    #[case::bridge_mode("RUNNING", "RUNNING", false, 'D')]
    fn the_live_state_decides(
        #[case] last: &str,
        #[case] desired: &str,
        #[case] eni: bool,
        #[case] want: char,
    ) {
        let t = task(last, desired, eni);
        let got = match task_intent(Some(&t)) {
            Intent::Register(_) => 'R',
            Intent::Deregister(_) => 'D',
            Intent::Hold(_) => 'H',
        };
        assert_eq!(got, want, "{last}/{desired} eni {eni}");
        assert!(matches!(task_intent(None), Intent::Deregister(_)));
    }

    #[test]
    fn a_running_task_is_planned_from_its_eni_and_tags() {
        let f = task_facts(&task("RUNNING", "RUNNING", true));
        assert_eq!(f.instance_id, "0123456789abcdef0123456789abcdef");
        assert_eq!(f.state, InstanceState::Running);
        assert_eq!(f.vpc_id.as_deref(), Some("vpc-1"));
        assert_eq!(f.private_ip, "10.1.2.4".parse().ok());
        assert_eq!(f.public_ip, "54.1.2.3".parse().ok());
        assert_eq!(f.tags["GROUP"], "web.corp.example");
    }

    #[rstest]
    #[case("{family}-{task-id-8}", Some("web-01234567"))]
    #[case("{service}", Some("web-api"))]
    #[case("{cluster}-{family}", Some("prod-web"))]
    #[case("task-{task-id}", Some("task-0123456789abcdef0123456789abcdef"))]
    #[case(
        "{service}-{service}-{service}-{service}-{service}-{service}-{service}-{service}",
        Some("web-api-web-api-web-api-web-api-web-api-web-api-web-api-web-api")
    )]
    #[case("{family}--", Some("web"))]
    fn default_labels_fill_the_template(#[case] template: &str, #[case] want: Option<&str>) {
        assert_eq!(check_template(template), Ok(()));
        let got = default_label(template, &task("RUNNING", "RUNNING", true));
        assert_eq!(got.as_deref(), want, "{template}");
        if let Some(label) = got {
            assert!(label.len() <= 63);
        }
    }

    #[test]
    fn a_template_of_empty_placeholders_gives_no_label() {
        let mut t = task("RUNNING", "RUNNING", true);
        t.group = Some("family:web".into());
        assert_eq!(default_label("{service}", &t), None);
    }

    /// A task gets a host name of its own only from `HOSTNAME` or the
    /// template; its group record sets come either way.
    #[rstest]
    #[case::no_template(crate::plan::DefaultName::Nothing, &[], None)]
    #[case::template(crate::plan::DefaultName::Label("web-01234567"), &[], Some("web-01234567.corp.example."))]
    #[case::hostname_wins(crate::plan::DefaultName::Label("web-01234567"), &[("HOSTNAME", "api")], Some("api.corp.example."))]
    fn a_task_is_named_by_its_tags_or_the_template(
        #[case] default_name: crate::plan::DefaultName,
        #[case] tags: &[(&str, &str)],
        #[case] host: Option<&str>,
    ) {
        let mut t = task("RUNNING", "RUNNING", true);
        t.tags
            .extend(tags.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let facts = task_facts(&t);
        let zones = [crate::model::ZoneInfo {
            id: "ZPRIV".into(),
            name: "corp.example.".into(),
            private: true,
        }];
        let vpc = crate::model::VpcFacts {
            vpc_id: "vpc-1".into(),
            dhcp_domain: Some("corp.example".into()),
            dns_support: true,
            dns_hostnames: true,
        };
        let targets = crate::plan::targets(&crate::plan::PlanInput {
            config: &crate::config::Config::default(),
            instance: &facts,
            vpc: Some(&vpc),
            zones: &zones,
            default_name,
        });
        assert_eq!(targets.host.as_ref().map(|h| h.name.as_str()), host);
        assert_eq!(targets.groups.len(), 1, "{targets:?}");
        assert_eq!(targets.groups[0].set_id, "0123456789abcdef0123456789abcdef");
    }

    #[rstest]
    #[case("{family", "without its }")]
    #[case("{familly}-x", "'{familly}' is not a placeholder; expected {family}")]
    #[case("{family}.corp.example", "one label (no dots)")]
    #[case("  ", "the template is empty")]
    fn bad_templates_say_what_is_expected(#[case] template: &str, #[case] needle: &str) {
        let err = check_template(template).unwrap_err();
        assert!(err.contains(needle), "{err}");
    }
}
