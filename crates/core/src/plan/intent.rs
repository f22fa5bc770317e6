//! What an instance should have, decided by its live state alone: an event
//! only says "look at this instance now" (`docs/convergence.md`).

use crate::config::OnStop;
use crate::model::{InstanceFacts, InstanceState};

/// What converging one instance means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// Write the records these facts call for: all of them for a running
    /// instance, only the private ones for a stopped instance under
    /// `DDNS_ON_STOP=keep` (its facts come without public address or name).
    Register(InstanceFacts),
    /// Delete everything the instance owns; the reason is for the summary.
    Deregister(String),
    /// Leave its records as they are; the reason is for the summary.
    Hold(String),
}

/// The intent for an instance as EC2 describes it now (`None`: EC2 does not
/// know it, or a `terminated` event said it is gone for good).
pub fn intent(live: Option<&InstanceFacts>, on_stop: OnStop) -> Intent {
    let Some(instance) = live else {
        return Intent::Deregister("the instance is gone".into());
    };
    match (instance.state, on_stop) {
        // An IPv6-only instance has no private IPv4, and is registered.
        (InstanceState::Running, _) if instance.private_ip.is_none() && instance.ipv6.is_none() => Intent::Hold(
            "the instance is running but has no private IPv4 or IPv6 address yet; its records wait for the next convergence".into(),
        ),
        (InstanceState::Running, _) => Intent::Register(instance.clone()),
        (InstanceState::Pending, _) => {
            Intent::Hold("the instance is pending: its records wait until it runs".into())
        }
        (InstanceState::Stopping | InstanceState::Stopped, OnStop::Keep) => {
            Intent::Register(private_only(instance))
        }
        (InstanceState::Stopping | InstanceState::Stopped, OnStop::Deregister) => {
            Intent::Deregister(format!("the instance is {}", instance.state))
        }
        (InstanceState::ShuttingDown | InstanceState::Terminated, _) => {
            Intent::Deregister(format!("the instance is {}", instance.state))
        }
    }
}

/// A stopped instance's facts as the keep policy sees them: its public
/// address is released, so nothing public is wanted.
fn private_only(instance: &InstanceFacts) -> InstanceFacts {
    InstanceFacts {
        public_ip: None,
        public_dns_name: None,
        ..instance.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use std::net::Ipv4Addr;

    fn instance(state: InstanceState, private_ip: bool) -> InstanceFacts {
        let mut i = InstanceFacts::bare("i-1", state);
        i.private_ip = private_ip.then_some(Ipv4Addr::new(10, 1, 2, 4));
        i.ipv6 = None;
        i.public_ip = Some(Ipv4Addr::new(54, 1, 2, 4));
        i.public_dns_name = Some("ec2-54-1-2-4.compute-1.amazonaws.com".into());
        i
    }

    /// `R` register everything, `P` register the private records only,
    /// `D` deregister, `H` hold.
    #[rstest]
    #[case::running(Some(InstanceState::Running), true, OnStop::Deregister, 'R')]
    #[case::running_keep(Some(InstanceState::Running), true, OnStop::Keep, 'R')]
    #[case::running_without_address(Some(InstanceState::Running), false, OnStop::Deregister, 'H')]
    #[case::pending(Some(InstanceState::Pending), true, OnStop::Deregister, 'H')]
    #[case::pending_keep(Some(InstanceState::Pending), true, OnStop::Keep, 'H')]
    #[case::stopping(Some(InstanceState::Stopping), true, OnStop::Deregister, 'D')]
    #[case::stopped(Some(InstanceState::Stopped), true, OnStop::Deregister, 'D')]
    #[case::stopping_keep(Some(InstanceState::Stopping), true, OnStop::Keep, 'P')]
    #[case::stopped_keep(Some(InstanceState::Stopped), true, OnStop::Keep, 'P')]
    #[case::shutting_down_keep(Some(InstanceState::ShuttingDown), true, OnStop::Keep, 'D')]
    #[case::terminated_keep(Some(InstanceState::Terminated), true, OnStop::Keep, 'D')]
    #[case::gone(None, true, OnStop::Deregister, 'D')]
    #[case::gone_keep(None, true, OnStop::Keep, 'D')]
    fn the_live_state_decides(
        #[case] state: Option<InstanceState>,
        #[case] private_ip: bool,
        #[case] on_stop: OnStop,
        #[case] expected: char,
    ) {
        let live = state.map(|s| instance(s, private_ip));
        let got = match intent(live.as_ref(), on_stop) {
            Intent::Register(f) if f.public_ip.is_some() && f.public_dns_name.is_some() => 'R',
            Intent::Register(f) if f.public_ip.is_none() && f.public_dns_name.is_none() => 'P',
            Intent::Register(_) => '?',
            Intent::Deregister(_) => 'D',
            Intent::Hold(_) => 'H',
        };
        assert_eq!(got, expected, "{state:?} {on_stop:?}");
    }

    /// An IPv6-only instance (no private IPv4) is registered by its IPv6
    /// address; one with neither address waits.
    #[test]
    fn an_ipv6_only_instance_is_registered() {
        let mut i = instance(InstanceState::Running, false);
        i.ipv6 = Some("2001:db8::7".parse().unwrap());
        assert!(matches!(
            intent(Some(&i), OnStop::Deregister),
            Intent::Register(_)
        ));
        i.ipv6 = None;
        assert!(matches!(
            intent(Some(&i), OnStop::Deregister),
            Intent::Hold(_)
        ));
    }
}
