//! The registry table in memory: our items and others' (`Stored`), and
//! DynamoDB's calls on them, every write conditional on the item as read.

use super::{MemoryAccount, State};
use ec2_ddns_core::error::{Error, Failure, Result};
use ec2_ddns_core::model::{ForeignItem, InstanceState, RegistryItem, RegistryKey};
use ec2_ddns_core::ports::{Registry, Write, MAX_WRITES_AT_ONCE};
use std::collections::BTreeSet;

/// The registry table holds our items and, maybe, others'.
#[derive(Debug, Clone)]
pub(super) enum Stored {
    Ours(Box<RegistryItem>),
    Foreign(ForeignItem),
}

impl Stored {
    pub(super) fn read(&self) -> RegistryItem {
        match self {
            Stored::Ours(item) => (**item).clone(),
            Stored::Foreign(found) => RegistryItem::foreign(found.clone()),
        }
    }

    /// Whether a write that read `item` may replace or remove this.
    fn is_as_read(&self, item: &RegistryItem, version: u64) -> bool {
        match self {
            Stored::Ours(stored) => stored.version == version,
            Stored::Foreign(found) => version == 0 && item.replaces.as_ref() == Some(found),
        }
    }
}

impl Registry for MemoryAccount {
    async fn load(&self, key: &RegistryKey) -> Result<Option<RegistryItem>> {
        let after = self.enter("dynamodb:GetItem", None)?;
        let item = self.lock().registry.get(&key.stored()).map(Stored::read);
        self.leave("dynamodb:GetItem", after)?;
        Ok(item)
    }

    async fn save(&self, item: &RegistryItem) -> Result<()> {
        let operation = "dynamodb:PutItem";
        let after = self.enter(operation, None)?;
        {
            let mut state = self.lock();
            state.check(&Write::Save(item))?;
            state.write(&Write::Save(item));
        }
        self.leave(operation, after)
    }

    /// One BatchGetItem per 100 keys (DynamoDB's limit); one key is a
    /// GetItem, as the real client makes it.
    async fn load_many(&self, keys: &[RegistryKey]) -> Result<Vec<RegistryItem>> {
        if let [only] = keys {
            return Ok(self.load(only).await?.into_iter().collect());
        }
        let operation = "dynamodb:BatchGetItem";
        let mut found = Vec::new();
        for chunk in keys.chunks(ec2_ddns_aws::dynamodb::KEYS_PER_BATCH_GET) {
            let after = self.enter(operation, None)?;
            {
                let state = self.lock();
                found.extend(
                    chunk
                        .iter()
                        .filter_map(|key| state.registry.get(&key.stored()))
                        .map(Stored::read),
                );
            }
            self.leave(operation, after)?;
        }
        Ok(found)
    }

    /// One TransactWriteItems: every condition holds, or nothing is written.
    async fn write_all(&self, writes: &[Write<'_>]) -> Result<()> {
        let operation = "dynamodb:TransactWriteItems";
        let ids: BTreeSet<&RegistryKey> = writes.iter().map(Write::key).collect();
        if writes.len() > MAX_WRITES_AT_ONCE || ids.len() < writes.len() {
            return Err(Error::Aws {
                operation: operation.into(),
                code: Some("ValidationException".into()),
                message: format!(
                    "{} writes to {} items: at most {MAX_WRITES_AT_ONCE}, each item once",
                    writes.len(),
                    ids.len()
                ),
                kind: Failure::Final,
            });
        }
        let after = self.enter(operation, None)?;
        {
            let mut state = self.lock();
            for write in writes {
                state.check(write)?;
            }
            for write in writes {
                state.write(write);
            }
        }
        self.leave(operation, after)
    }

    /// One Scan per megabyte of items (DynamoDB's page), items measured
    /// as their JSON.
    async fn all(&self) -> Result<Vec<RegistryItem>> {
        let items: Vec<RegistryItem> = self.lock().registry.values().map(Stored::read).collect();
        let bytes: usize = items
            .iter()
            .map(|i| serde_json::to_string(i).map_or(0, |j| j.len()))
            .sum();
        self.pages("dynamodb:Scan", bytes.div_ceil(1 << 20))?;
        Ok(items)
    }

    /// One UpdateItem, as the real table's: only an item of ours that no
    /// release marked yet; an answer lost after it committed is settled by
    /// reading the item back (its mark is this call's), as the real
    /// client does.
    async fn release(
        &self,
        key: &RegistryKey,
        event_id: &str,
        state: InstanceState,
    ) -> Result<Option<RegistryItem>> {
        let operation = "dynamodb:UpdateItem";
        let instance_id = key.stored();
        let instance_id = instance_id.as_str();
        let after = self.enter(operation, None)?;
        let (mark, before) = {
            let mut now = self.lock();
            let mark = format!("{event_id}#{}", now.calls_made);
            let before = match now.registry.get(instance_id) {
                Some(Stored::Ours(item)) if !now.releasing.contains_key(instance_id) => {
                    Some((**item).clone())
                }
                _ => None,
            };
            if let Some(before) = &before {
                let after = ec2_ddns_core::ports::released(before, event_id, state);
                now.registry
                    .insert(instance_id.to_string(), Stored::Ours(Box::new(after)));
                now.releasing
                    .insert(instance_id.to_string(), (mark.clone(), before.clone()));
            }
            (mark, before)
        };
        match self.leave(operation, after) {
            Ok(()) => Ok(before),
            Err(err) => {
                let back = self.enter("dynamodb:GetItem", None);
                let ours = self
                    .lock()
                    .releasing
                    .get(instance_id)
                    .filter(|(m, _)| *m == mark)
                    .map(|(_, before)| before.clone());
                match (back, ours) {
                    (Ok(None), Some(before)) => Ok(Some(before)),
                    _ => Err(err),
                }
            }
        }
    }

    async fn remove(&self, item: &RegistryItem) -> Result<()> {
        let operation = "dynamodb:DeleteItem";
        let after = self.enter(operation, None)?;
        {
            let mut state = self.lock();
            state.check(&Write::Remove(item))?;
            state.write(&Write::Remove(item));
        }
        self.leave(operation, after)
    }
}

impl State {
    /// Whether the table lets `write` through: a save replaces the version
    /// it read (or nothing, or exactly the foreign item it read); a remove
    /// finds the item as read, or none.
    fn check(&self, write: &Write<'_>) -> Result<()> {
        let stored = self.registry.get(&write.key().stored());
        let allowed = match (write, stored) {
            (Write::Save(item), None) => item.version <= 1,
            (Write::Save(item), Some(stored)) => {
                stored.is_as_read(item, item.version.saturating_sub(1))
            }
            (Write::Remove(_), None) => true,
            (Write::Remove(item), Some(stored)) => stored.is_as_read(item, item.version),
        };
        if allowed {
            Ok(())
        } else {
            Err(Error::RegistryRace {
                instance_id: write.key().to_string(),
            })
        }
    }

    fn write(&mut self, write: &Write<'_>) {
        self.releasing.remove(&write.key().stored());
        match write {
            Write::Save(item) => {
                let mut saved = (*item).clone();
                saved.replaces = None;
                self.registry
                    .insert(item.key.stored(), Stored::Ours(Box::new(saved)));
            }
            Write::Remove(item) => {
                self.registry.remove(&item.key.stored());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::World;

    #[tokio::test]
    async fn registry_refuses_stale_versions() {
        let account = MemoryAccount::new(World::empty("us-east-1"));
        let mut item = RegistryItem {
            key: "i-1".into(),
            version: 1,
            ..RegistryItem::default()
        };
        account.save(&item).await.unwrap();
        assert!(
            matches!(account.save(&item).await, Err(Error::RegistryRace { .. })),
            "version 1 twice"
        );
        item.version = 2;
        account.save(&item).await.unwrap();
        let stale = RegistryItem {
            version: 1,
            ..item.clone()
        };
        assert!(matches!(
            account.remove(&stale).await,
            Err(Error::RegistryRace { .. })
        ));
        account.remove(&item).await.unwrap();
        assert!(account.load(&"i-1".into()).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_world_registry_becomes_the_registry_table() {
        let item = RegistryItem {
            key: "i-1".into(),
            version: 4,
            ..RegistryItem::default()
        };
        let account = MemoryAccount::new(World {
            registry: vec![item.clone()],
            ..World::empty("us-east-1")
        });
        assert_eq!(
            account.load(&"i-1".into()).await.unwrap(),
            Some(item.clone())
        );
        assert!(
            account.world().registry.is_empty(),
            "held once, in the table"
        );
        // The loaded version is the one a conditional save must follow.
        let stale = RegistryItem {
            version: 4,
            ..item.clone()
        };
        assert!(matches!(
            account.save(&stale).await,
            Err(Error::RegistryRace { .. })
        ));
        account
            .save(&RegistryItem { version: 5, ..item })
            .await
            .unwrap();
    }
}
