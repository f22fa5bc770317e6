//! The full reconcile at fleet scale, on the in-memory account (which
//! counts every call, page by page): 1,000 running instances in one VPC,
//! each with an alias, whose events were all lost. One reconcile registers
//! them all in as few change batches as Route 53's limits allow (1,000
//! values per batch), a second changes nothing, and after the fleet is
//! terminated without a single event a third deletes every record. The
//! calls of each pass are printed (`--nocapture`); the assertions are on
//! what was written and how it was batched, never on time.

use ec2_ddns::model::InstanceState;
use ec2_ddns::sim::memory::MemoryAccount;
use ec2_ddns::sim::world::World;
use ec2_ddns::Config;

const FLEET: usize = 1000;

fn world() -> World {
    ec2_ddns::sim::fleet::world(FLEET)
}

fn calls(totals: &ec2_ddns::registrar::Totals) -> String {
    format!(
        "{} {}",
        totals.aws_calls.unwrap_or_default(),
        serde_json::to_string(&totals.aws_calls_by_operation).unwrap_or_default()
    )
}

#[tokio::test]
async fn a_thousand_lost_launches_are_registered_in_three_batches() {
    let account = MemoryAccount::new(world());
    let registrar = account.registrar(Config::default());

    let first = registrar.reconcile("scale-1").await.expect("reconcile");
    println!(
        "reconcile of {FLEET} unregistered instances: {} AWS calls",
        calls(&first.totals)
    );
    assert_eq!(first.totals.errors, 0);
    assert_eq!(first.totals.changed, FLEET);
    assert_eq!(
        first.totals.records_created,
        3 * FLEET,
        "A, PTR and CNAME each"
    );
    // 2,000 values in the forward zone (two batches of 1,000), 1,000 in the
    // reverse zone (one batch).
    assert_eq!(first.totals.change_batches, 3);
    // Items written ahead and settled 100 per transaction, never one by one.
    let ops = first
        .totals
        .aws_calls_by_operation
        .clone()
        .unwrap_or_default();
    assert_eq!(ops.get("dynamodb:TransactWriteItems"), Some(&20), "{ops:?}");
    assert_eq!(ops.get("dynamodb:PutItem"), None, "{ops:?}");
    let zones = account.zone_records();
    assert_eq!(zones["ZFLEET"].len(), 2 * FLEET);
    assert_eq!(zones["ZREV40"].len(), FLEET);
    assert!(account
        .registry_items()
        .values()
        .all(|i| i.records.len() == 3 && i.pending.is_empty()));

    let second = registrar.reconcile("scale-2").await.expect("reconcile");
    println!(
        "reconcile of {FLEET} registered instances, nothing to do: {} AWS calls",
        calls(&second.totals)
    );
    assert_eq!(
        second.totals.records_created + second.totals.records_deleted,
        0
    );
    assert_eq!(second.totals.change_batches, 0);

    account.edit(|w| {
        for i in &mut w.instances {
            i.state = InstanceState::Terminated;
        }
    });
    let third = registrar.reconcile("scale-3").await.expect("reconcile");
    println!(
        "reconcile of {FLEET} terminated instances: {} AWS calls",
        calls(&third.totals)
    );
    assert_eq!(third.totals.records_deleted, 3 * FLEET);
    assert_eq!(third.totals.change_batches, 3);
    let ops = third
        .totals
        .aws_calls_by_operation
        .clone()
        .unwrap_or_default();
    assert_eq!(ops.get("dynamodb:TransactWriteItems"), Some(&20), "{ops:?}");
    assert_eq!(ops.get("dynamodb:DeleteItem"), None, "{ops:?}");
    assert!(account.zone_records().values().all(Vec::is_empty));
    assert!(account.registry_items().is_empty(), "every item removed");
}
