//! The one item writer: every registry write of every subject goes through
//! here, written ahead before its changes are sent and finished after.
//! Up to 100 writes go in one TransactWriteItems (one alone by PutItem or
//! DeleteItem). A transaction that fails is followed by each write alone;
//! a write refused or unanswered counts as made only when the item read
//! back shows it (a write that committed before its answer was lost).

use super::book::Book;
use super::subject::Subject;
use super::Registrar;
use crate::error::{Error, Result};
use crate::model::RegistryItem;
use crate::ports::{Registry, Write, MAX_WRITES_AT_ONCE};
use std::collections::BTreeMap;
use tracing::warn;

/// Times a lost race is settled by writing on top of the newer item.
const MERGES: usize = 3;

/// The write an item needs: save the book's next item, or remove it.
pub(crate) enum ItemWrite {
    Save(RegistryItem),
    Remove(RegistryItem),
}

impl ItemWrite {
    fn item(&self) -> &RegistryItem {
        match self {
            ItemWrite::Save(item) | ItemWrite::Remove(item) => item,
        }
    }

    fn as_write(&self) -> Write<'_> {
        match self {
            ItemWrite::Save(item) => Write::Save(item),
            ItemWrite::Remove(item) => Write::Remove(item),
        }
    }

    /// The item as the table holds it once this write is made: ours,
    /// replacing nothing.
    fn stored(&self) -> Option<RegistryItem> {
        match self {
            ItemWrite::Save(item) => Some(RegistryItem {
                replaces: None,
                ..item.clone()
            }),
            ItemWrite::Remove(_) => None,
        }
    }

    /// Whether the item read back shows this write made.
    fn shown_by(&self, back: Option<&RegistryItem>) -> bool {
        back == self.stored().as_ref()
    }

    /// The book after this write is made. A merged write (another
    /// invocation's item with this one's proofs on top) also gives the book
    /// its lists, so that a later write goes on from them; the records the
    /// other listed pending are then, as those pending at the opening are,
    /// records another invocation may still be sending (a refusal of this
    /// one's equal CREATE must not unlist them).
    fn made(&self, book: &mut Book, merged: bool) {
        book.stored = self.stored();
        if merged {
            let item = self.item();
            book.owned = item.records.clone();
            book.pending = item.pending.clone();
            for p in &item.pending {
                if !book.pending_at_open.contains(p) {
                    book.pending_at_open.push(p.clone());
                }
            }
        }
    }

    /// The write that finishes a book: removed when a deregistration
    /// leaves nothing listed, saved unless the stored item already says
    /// it all, nothing otherwise.
    pub fn finishing(book: &Book, deregister: bool) -> Option<ItemWrite> {
        if deregister && book.owned.is_empty() && book.pending.is_empty() {
            return book.stored.clone().map(ItemWrite::Remove);
        }
        (!book.unchanged()).then(|| ItemWrite::Save(book.next()))
    }
}

impl<E: Sync, D: Sync, R: Registry + Sync> Registrar<E, D, R> {
    /// Makes each subject's item write (by subject index, one each), as
    /// the module docs say; the result of each, by subject index. With
    /// `ahead`, the writes list what batches about to go change
    /// ([`Registrar::save`] says why a merged one then fails).
    pub(crate) async fn write_items(
        &self,
        subjects: &mut [Subject],
        writes: BTreeMap<usize, ItemWrite>,
        ahead: bool,
    ) -> BTreeMap<usize, Result<()>> {
        let mut results = BTreeMap::new();
        let mut writes = writes.into_iter().peekable();
        while writes.peek().is_some() {
            let chunk: Vec<(usize, ItemWrite)> = writes.by_ref().take(MAX_WRITES_AT_ONCE).collect();
            if chunk.len() > 1 {
                let all: Vec<Write<'_>> = chunk.iter().map(|(_, w)| w.as_write()).collect();
                match self.registry.write_all(&all).await {
                    Ok(()) => {
                        for (i, w) in chunk {
                            w.made(&mut subjects[i].book, false);
                            results.insert(i, Ok(()));
                        }
                        continue;
                    }
                    Err(e) => {
                        warn!(error = %e, items = chunk.len(), "the registry items could not be written together; writing each alone")
                    }
                }
            }
            for (i, w) in chunk {
                let book = &mut subjects[i].book;
                let result = self.write_item(book, &w).await;
                results.insert(i, written(result, ahead, book));
            }
        }
        results
    }

    /// One item write alone; the book follows when it is made. A lost
    /// answer is settled by reading the item back.
    /// A lost race, after this invocation's batches changed records, is
    /// settled by writing what they proved on top of the newer item
    /// ([`Book::merged_into`]; a few times at most): another invocation
    /// may have settled a pending record away while this one's change was
    /// still in flight, and a record this one wrote must stay listed.
    /// `Ok(true)` when the write made was such a merge.
    async fn write_item(&self, book: &mut Book, w: &ItemWrite) -> Result<bool> {
        let mut merged: Option<ItemWrite> = None;
        for _ in 0..MERGES + 1 {
            let w = merged.as_ref().unwrap_or(w);
            let result = match w {
                ItemWrite::Save(item) => self.registry.save(item).await,
                ItemWrite::Remove(item) => self.registry.remove(item).await,
            };
            let err = match result {
                Ok(()) => {
                    w.made(book, merged.is_some());
                    return Ok(merged.is_some());
                }
                Err(err @ (Error::RegistryRace { .. } | Error::Aws { .. })) => err,
                Err(other) => return Err(other),
            };
            let back = match self.registry.load(&w.item().key).await {
                Ok(back) => back,
                Err(_) => return Err(err),
            };
            if w.shown_by(back.as_ref()) {
                w.made(book, merged.is_some());
                return Ok(merged.is_some());
            }
            let raced = matches!(err, Error::RegistryRace { .. });
            match book.merged_into(back.as_ref()).filter(|_| raced) {
                Some(item) => {
                    warn!(subject = %book.meta.key, "another invocation wrote the item meanwhile; writing what this one proved on top of it");
                    merged = Some(ItemWrite::Save(item));
                }
                None => return Err(err),
            }
        }
        Err(Error::RegistryRace {
            instance_id: book.meta.key.to_string(),
        })
    }

    /// Writes the book's item ahead of its changes. A write merged into
    /// another invocation's item saved what this one proved, but not what
    /// its next batches change (a record they delete is still listed as
    /// owned there): they must not go, so that is a lost race, retryable.
    pub(crate) async fn save(&self, book: &mut Book) -> Result<()> {
        let result = self.write_item(book, &ItemWrite::Save(book.next())).await;
        written(result, true, book)
    }

    /// Saves the item, or removes it when a deregistration leaves nothing
    /// listed; nothing when the stored item already says it all.
    pub(crate) async fn finish(&self, book: &mut Book, deregister: bool) -> Result<()> {
        match ItemWrite::finishing(book, deregister) {
            Some(w) => self.write_item(book, &w).await.map(|_| ()),
            None => Ok(()),
        }
    }
}

/// A write's result for its caller: a merged write ahead is a lost race.
fn written(result: Result<bool>, ahead: bool, book: &Book) -> Result<()> {
    match result {
        Ok(true) if ahead => Err(Error::RegistryRace {
            instance_id: book.meta.key.to_string(),
        }),
        other => other.map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OwnedRecord, RecordSet, RecordType};
    use crate::plan::{Change, ChangeAction, ZoneChanges};
    use crate::registrar::book::Cause;

    fn cname(target: &str) -> OwnedRecord {
        OwnedRecord {
            zone_id: "Z1".into(),
            zone_name: "corp.example.".into(),
            record: RecordSet::new(
                "api.corp.example.",
                RecordType::Cname,
                60,
                vec![target.into()],
            ),
        }
    }

    /// Bug 5 (the concurrent property test, seed 0x1 with 20,000
    /// sequences): this invocation's write lost the item's race and was
    /// merged into the other's item, which listed the other's CNAME as
    /// pending; this invocation then sent the same CNAME and was refused
    /// (the other's had landed). The refusal unlisted the CNAME, as if
    /// only this invocation had ever listed it, and the other died before
    /// it saved. A merged item's pending records now count as another's.
    #[test]
    fn a_refused_create_keeps_what_a_merged_item_listed_pending() {
        let theirs = cname("ip-10-1-2-4.ec2.internal.");
        let cause = Cause {
            key: "i-1".into(),
            event_id: "e",
            time: None,
            state: None,
        };
        let mut book = Book::open(cause, None);
        let newer = RegistryItem {
            key: "i-1".into(),
            pending: vec![theirs.clone()],
            version: 2,
            ..RegistryItem::default()
        };
        ItemWrite::Save(newer).made(&mut book, true);
        let same = ZoneChanges {
            zone_id: theirs.zone_id.clone(),
            zone_name: theirs.zone_name.clone(),
            changes: vec![Change {
                action: ChangeAction::Create,
                record: theirs.record.clone(),
            }],
        };
        book.not_applied(&same);
        assert_eq!(book.pending, [theirs]);
    }
}
