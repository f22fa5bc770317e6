//! Invocations at once, in an order the test chooses: every port call of
//! every invocation is a step that waits for its turn, and a [`Chooser`]
//! picks which waiting step goes next. The same choices give the same run,
//! so a schedule is an input: [`Exhaustive`] walks every order of a small
//! case, [`Seeded`] draws one from a seed that a failure prints.
//!
//! The invocations are futures polled by [`run`] itself, on the test's
//! runtime (tokio's clock paused): nothing here is a thread, so a run is
//! deterministic. A step is one port call of the in-memory account, which
//! makes each such call at once (a listing of several pages reads one
//! consistent zone; the tests' zones fit in one page). A call waiting out a
//! retry's backoff resumes when no call is waiting for its turn: the
//! paused clock moves only when every invocation waits on it.

use crate::gate::{Gate, Gated, Pass};
use ec2_ddns_core::error::Result;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Poll;
use tokio::sync::oneshot;

/// A call waiting for its turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Which of the invocations [`run`] was given (0, 1, …).
    pub invocation: usize,
    /// The AWS operation the port call stands for.
    pub operation: &'static str,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.invocation, self.operation)
    }
}

struct Waiting {
    step: Step,
    go: oneshot::Sender<()>,
}

/// What runs as a call gets its turn, before the call: a test names the
/// writer of the in-memory account after the invocation.
type OnTurn = Arc<dyn Fn(&Step) + Send + Sync>;

/// Gives the calls of the invocations [`run`] drives their turns. Clones
/// share the queue.
#[derive(Clone, Default)]
pub struct Scheduler {
    waiting: Arc<Mutex<Vec<Waiting>>>,
    on_turn: Option<OnTurn>,
}

/// The gate of one invocation's ports: each call waits for its turn.
#[derive(Clone)]
pub struct Turn {
    scheduler: Scheduler,
    invocation: usize,
}

/// Ports whose every call waits for its turn.
pub type Scheduled<T> = Gated<T, Turn>;

impl Gate for Turn {
    async fn before(&self, operation: &'static str) -> Result<Pass> {
        let (go, wait) = oneshot::channel();
        self.scheduler.lock().push(Waiting {
            step: Step {
                invocation: self.invocation,
                operation,
            },
            go,
        });
        // A scheduler dropped mid-run lets the call through.
        let _ = wait.await;
        // Nothing else runs until this call has: only one is let through
        // at a time, and it runs in the poll that follows.
        if let Some(on_turn) = &self.scheduler.on_turn {
            on_turn(&Step {
                invocation: self.invocation,
                operation,
            });
        }
        Ok(Pass::Go)
    }
}

impl Scheduler {
    pub fn new() -> Scheduler {
        Scheduler::default()
    }

    /// A scheduler that calls `on_turn` as each call gets its turn.
    pub fn with_on_turn(on_turn: impl Fn(&Step) + Send + Sync + 'static) -> Scheduler {
        Scheduler {
            on_turn: Some(Arc::new(on_turn)),
            ..Scheduler::default()
        }
    }

    /// `inner` as the ports of invocation `invocation`.
    pub fn ports<T>(&self, inner: T, invocation: usize) -> Scheduled<T> {
        Gated {
            inner,
            gate: self.turn(invocation),
        }
    }

    /// The gate of invocation `invocation`, to combine with another (its
    /// faults: `Gated { inner, gate: (turn, plan) }`).
    pub fn turn(&self, invocation: usize) -> Turn {
        Turn {
            scheduler: self.clone(),
            invocation,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Waiting>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Picks the next step among those waiting (never empty), by index.
pub trait Chooser {
    fn choose(&mut self, waiting: &[Step]) -> usize;
}

/// An invocation [`run`] drives.
pub type Invocation<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Runs `invocations` at once, one step at a time in the order `chooser`
/// picks, until every one has finished; their outputs in order, and the
/// steps as they were taken. Their ports must come from
/// `scheduler.ports(…, i)` for invocation `i`.
pub async fn run<T>(
    scheduler: &Scheduler,
    invocations: Vec<Invocation<'_, T>>,
    chooser: &mut impl Chooser,
) -> (Vec<T>, Vec<Step>) {
    let mut running: Vec<Option<Invocation<'_, T>>> = invocations.into_iter().map(Some).collect();
    let mut outputs: Vec<Option<T>> = running.iter().map(|_| None).collect();
    let mut trace = Vec::new();
    poll_fn(|cx| loop {
        // Each runs until it waits: for its turn, or for the clock.
        for (slot, output) in running.iter_mut().zip(outputs.iter_mut()) {
            if let Some(invocation) = slot {
                if let Poll::Ready(out) = invocation.as_mut().poll(cx) {
                    *output = Some(out);
                    *slot = None;
                }
            }
        }
        if running.iter().all(Option::is_none) {
            return Poll::Ready(());
        }
        let next = {
            let mut waiting = scheduler.lock();
            if waiting.is_empty() {
                // Every one waits on the clock; it wakes this task.
                return Poll::Pending;
            }
            let steps: Vec<Step> = waiting.iter().map(|w| w.step.clone()).collect();
            let k = chooser.choose(&steps).min(steps.len() - 1);
            waiting.remove(k)
        };
        trace.push(next.step);
        let _ = next.go.send(());
    })
    .await;
    let outputs = outputs
        .into_iter()
        .map(|o| o.expect("every invocation finished"))
        .collect();
    (outputs, trace)
}

/// Every order, one run each: a depth-first walk of the choices, each run
/// replaying a prefix and taking the first step after it. After a run,
/// [`Exhaustive::advance`] says whether an order is left.
#[derive(Debug, Default)]
pub struct Exhaustive {
    prefix: Vec<usize>,
    /// (choice, options, the invocation chosen) at each step of the run
    /// under way.
    taken: Vec<(usize, usize, usize)>,
    runs: u64,
}

impl Exhaustive {
    pub fn new() -> Exhaustive {
        Exhaustive::default()
    }

    /// Moves to the next order; `false` when every one has run.
    pub fn advance(&mut self) -> bool {
        self.runs += 1;
        while let Some((choice, options, _)) = self.taken.pop() {
            if choice + 1 < options {
                self.prefix = self.taken.iter().map(|(c, _, _)| *c).collect();
                self.prefix.push(choice + 1);
                self.taken.clear();
                return true;
            }
        }
        false
    }

    /// Runs finished so far.
    pub fn runs(&self) -> u64 {
        self.runs
    }

    /// Which invocation went at each step of the run under way: with
    /// [`Replay`], the same run.
    pub fn choices(&self) -> Vec<usize> {
        self.taken.iter().map(|(_, _, who)| *who).collect()
    }
}

/// The walk chooses which invocation goes next, not which of its calls:
/// the calls one invocation makes at once (each zone's read, each zone's
/// change) go in the order it made them. Its zones are different
/// resources, so their order among themselves changes nothing another
/// invocation can see; the number of orders stays that of interleaving
/// two sequences. ([`Seeded`] chooses among every waiting call.)
impl Chooser for Exhaustive {
    fn choose(&mut self, waiting: &[Step]) -> usize {
        let mut firsts: Vec<usize> = Vec::new();
        for (k, step) in waiting.iter().enumerate() {
            if !firsts
                .iter()
                .any(|&f| waiting[f].invocation == step.invocation)
            {
                firsts.push(k);
            }
        }
        let choice = self.prefix.get(self.taken.len()).copied().unwrap_or(0);
        let choice = choice.min(firsts.len() - 1);
        self.taken
            .push((choice, firsts.len(), waiting[firsts[choice]].invocation));
        firsts[choice]
    }
}

/// A test's own rule, as a closure over the waiting steps (its state
/// captured): to force one order a bug needs.
pub struct ByRule<F>(pub F);

impl<F: FnMut(&[Step]) -> usize> Chooser for ByRule<F> {
    fn choose(&mut self, waiting: &[Step]) -> usize {
        (self.0)(waiting)
    }
}

/// The first waiting step of invocation `invocation`, if it waits: for a
/// [`ByRule`] chooser.
pub fn first_waiting(waiting: &[Step], invocation: usize) -> Option<usize> {
    waiting.iter().position(|s| s.invocation == invocation)
}

/// The steps of a run, as a line a failure message can show.
pub fn order(trace: &[Step]) -> String {
    trace
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A run again, from which invocation went at each step (its earliest
/// waiting call), as [`Exhaustive::choices`] gives them; then the first
/// waiting call each time.
#[derive(Debug, Clone, Default)]
pub struct Replay(pub std::collections::VecDeque<usize>);

impl Chooser for Replay {
    fn choose(&mut self, waiting: &[Step]) -> usize {
        let who = self.0.pop_front();
        waiting
            .iter()
            .position(|step| Some(step.invocation) == who)
            .unwrap_or(0)
    }
}

/// A schedule drawn from a seed (SplitMix64): the same seed, the same
/// choices.
#[derive(Debug, Clone)]
pub struct Seeded(u64);

impl Seeded {
    pub fn new(seed: u64) -> Seeded {
        Seeded(seed)
    }

    /// The next number of the sequence (also for a test's own draws).
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

impl Chooser for Seeded {
    fn choose(&mut self, waiting: &[Step]) -> usize {
        self.below(waiting.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryAccount;
    use crate::world::World;
    use ec2_ddns_core::model::RegistryItem;
    use ec2_ddns_core::ports::Registry;

    /// Invocation `i` saves its item, then reads the other's, `calls` times.
    async fn reader<R: Registry>(ports: R, me: &str, other: &str, calls: usize) -> Vec<bool> {
        let mut seen = Vec::new();
        ports
            .save(&RegistryItem {
                key: me.into(),
                version: 1,
                ..RegistryItem::default()
            })
            .await
            .unwrap();
        for _ in 1..calls {
            seen.push(ports.load(&other.into()).await.unwrap().is_some());
        }
        seen
    }

    fn both<'a>(
        scheduler: &Scheduler,
        account: &MemoryAccount,
        calls: usize,
    ) -> Vec<Invocation<'a, Vec<bool>>> {
        vec![
            Box::pin(reader(
                scheduler.ports(account.clone(), 0),
                "i-a",
                "i-b",
                calls,
            )),
            Box::pin(reader(
                scheduler.ports(account.clone(), 1),
                "i-b",
                "i-a",
                calls,
            )),
        ]
    }

    #[tokio::test(start_paused = true)]
    async fn every_interleaving_of_two_invocations_runs_once() {
        let mut walk = Exhaustive::new();
        let mut orders = std::collections::BTreeSet::new();
        let mut saw_other_first = 0;
        loop {
            let account = MemoryAccount::new(World::empty("us-east-1"));
            let scheduler = Scheduler::new();
            let (seen, trace) = run(&scheduler, both(&scheduler, &account, 3), &mut walk).await;
            assert_eq!(trace.len(), 6);
            let order: Vec<usize> = trace.iter().map(|s| s.invocation).collect();
            assert!(orders.insert(order.clone()), "{order:?} ran twice");
            // Each sees the other's item from the step after its save on.
            let first_read_of_0 = order.iter().enumerate().filter(|(_, w)| **w == 0).nth(1);
            let saved_1 = order.iter().position(|w| *w == 1).unwrap();
            assert_eq!(seen[0][0], saved_1 < first_read_of_0.unwrap().0);
            saw_other_first += usize::from(seen[0][0]);
            if !walk.advance() {
                break;
            }
        }
        // 6 steps, 3 each: C(6, 3) orders.
        assert_eq!(orders.len(), 20);
        assert_eq!(walk.runs(), 20);
        assert!(saw_other_first > 0 && saw_other_first < 20);
    }

    #[tokio::test(start_paused = true)]
    async fn the_same_seed_gives_the_same_run() {
        let trace = |seed: u64| async move {
            let account = MemoryAccount::new(World::empty("us-east-1"));
            let scheduler = Scheduler::new();
            run(
                &scheduler,
                both(&scheduler, &account, 4),
                &mut Seeded::new(seed),
            )
            .await
            .1
        };
        assert_eq!(trace(7).await, trace(7).await);
        let distinct: std::collections::BTreeSet<String> = {
            let mut all = std::collections::BTreeSet::new();
            for seed in 0..20 {
                let t = trace(seed).await;
                all.insert(
                    t.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" "),
                );
            }
            all
        };
        assert!(
            distinct.len() > 5,
            "seeds give different orders: {distinct:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_replay_is_the_same_run() {
        let mut walk = Exhaustive::new();
        for _ in 0..7 {
            let account = MemoryAccount::new(World::empty("us-east-1"));
            let scheduler = Scheduler::new();
            run(&scheduler, both(&scheduler, &account, 3), &mut walk).await;
            walk.advance();
        }
        let account = MemoryAccount::new(World::empty("us-east-1"));
        let scheduler = Scheduler::new();
        let (_, first) = run(&scheduler, both(&scheduler, &account, 3), &mut walk).await;
        let choices = walk.choices();
        let account = MemoryAccount::new(World::empty("us-east-1"));
        let scheduler = Scheduler::new();
        let mut replay = Replay(choices.into());
        let (_, again) = run(&scheduler, both(&scheduler, &account, 3), &mut replay).await;
        assert_eq!(first, again);
    }
}
