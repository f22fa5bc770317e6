//! The organization mode in memory: a member account's EC2 and ECS are a
//! world of their own (`World::members`), read as the real client reads
//! them, through the member role: one `sts:AssumeRole` per account, its
//! credentials kept for the account's later reads (as a warm Lambda
//! process keeps them), refused with AccessDenied for an account the
//! world does not hold, or whose `role_refused` is set.

use super::{MemoryAccount, State};
use crate::world::World;
use ec2_ddns_core::error::{Error, Failure, Result};
use ec2_ddns_core::model::Place;
use std::sync::LazyLock;

/// What an account in a region the world does not describe holds: nothing.
static NOTHING: LazyLock<World> = LazyLock::new(|| World::empty("nowhere-1"));

impl State {
    /// The world whose EC2 and ECS `place` reads: the account's own
    /// (`None`), a member's, or an empty one for a region of a known
    /// account that the world does not describe.
    pub(super) fn seen_from(&self, place: Option<&Place>) -> &World {
        match place {
            None => &self.world,
            Some(p) => self.world.member(&p.account, &p.region).unwrap_or_else(|| {
                if p.account == self.world.account_id() && p.region == self.world.region {
                    &self.world
                } else {
                    &NOTHING
                }
            }),
        }
    }
}

impl MemoryAccount {
    /// This account's handle reading `place`: the member role assumed once
    /// per account (the world's own account in another region needs none).
    pub(super) fn reading(&self, place: &Place) -> Result<MemoryAccount> {
        let (own, known, refused, assumed) = {
            let state = self.lock();
            let w = &state.world;
            let of_account = || w.members.iter().filter(|m| m.account_id() == place.account);
            (
                w.account_id() == place.account,
                of_account().next().is_some(),
                of_account().any(|m| m.role_refused),
                state.assumed.contains(&place.account),
            )
        };
        if !own && !assumed {
            self.read_call("sts:AssumeRole", None)?;
            if refused || !known {
                return Err(Error::Aws {
                    operation: "sts:AssumeRole".into(),
                    code: Some("AccessDenied".into()),
                    message: format!(
                        "User: arn:aws:sts::central:assumed-role/ec2-ddns is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::{}:role/ec2-ddns-reader",
                        place.account
                    ),
                    kind: Failure::Final,
                });
            }
            self.lock().assumed.insert(place.account.clone());
        }
        let mut there = self.clone();
        there.place = Some(place.clone());
        Ok(there)
    }

    /// Forgets the member credentials kept: the next read of each member
    /// account assumes its role again (a cold start).
    pub fn forget_member_credentials(&self) {
        self.lock().assumed.clear();
    }
}
