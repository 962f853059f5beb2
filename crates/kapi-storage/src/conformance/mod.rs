//! The conformance suite every [`Storage`] backend runs: one test per contract point of [`Storage`], plus a
//! property test that checks concurrent writers against a sequential model.
//!
//! A backend crate runs it from its tests with a factory that returns a fresh, empty store:
//!
//! ```no_run
//! use kapi_storage::{conformance::Fixture, memory::MemoryStorage};
//!
//! async fn fresh_store() -> Fixture {
//!     // A backend on disk also hands over what must outlive the store: `.with_guard(temp_dir)`.
//!     Fixture::new(MemoryStorage::new())
//! }
//!
//! kapi_storage::storage_conformance_tests!(crate::fresh_store);
//! # fn main() {}
//! ```
//!
//! The suite assumes it is the only writer of the store it gets, but not that the store's revisions start at 0.
//! It never sleeps to synchronise: it awaits the event it expects under a generous timeout, so it stays reliable
//! on a loaded machine.

mod basic;
mod compaction;
mod concurrency;
mod list;
mod model;
mod support;
mod watch;

use std::{any::Any, future::Future, pin::Pin, sync::Arc, time::Duration};

use crate::Storage;

/// A store under test, and whatever must outlive it (a temporary directory, a database container).
pub struct Fixture {
    // Declared first so that it is dropped before the guard.
    storage: Arc<dyn Storage>,
    guard: Option<Box<dyn Any + Send + Sync>>,
}

impl Fixture {
    /// A fixture for `storage`.
    pub fn new(storage: impl Storage) -> Self {
        Self::from_arc(Arc::new(storage))
    }

    /// A fixture for a store that is already shared.
    pub fn from_arc(storage: Arc<dyn Storage>) -> Self {
        Self { storage, guard: None }
    }

    /// Keeps `guard` alive until the fixture is dropped, after the store.
    pub fn with_guard(mut self, guard: impl Any + Send + Sync) -> Self {
        self.guard = Some(Box::new(guard));
        self
    }

    /// The store (deref it for a `&dyn Storage`; clone it to hand it to a task).
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }
}

impl std::fmt::Debug for Fixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixture")
            .field("guard", &self.guard.is_some())
            .finish_non_exhaustive()
    }
}

type BoxedFixture = Pin<Box<dyn Future<Output = Fixture>>>;

/// Hands a test case fresh stores; most cases take one, the property test one per generated case.
#[derive(Clone)]
pub struct Stores {
    factory: Arc<dyn Fn() -> BoxedFixture>,
}

impl Stores {
    /// Wraps a backend's factory.
    pub fn new<F, Fut>(factory: F) -> Self
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Fixture> + 'static,
    {
        Self {
            factory: Arc::new(move || Box::pin(factory()) as BoxedFixture),
        }
    }

    /// A fresh, empty store.
    pub async fn fresh(&self) -> Fixture {
        (self.factory)().await
    }
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores").finish_non_exhaustive()
    }
}

/// How long the suite waits for something that must happen (an event, a task ending) before failing. Generous:
/// it only matters when the backend is broken.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Runs one case on its own multi-threaded runtime with two workers (what `#[tokio::test(flavor =
/// "multi_thread", worker_threads = 2)]` builds), so that backends' background tasks run in parallel with it.
/// Used by [`storage_conformance_tests!`](crate::storage_conformance_tests).
#[doc(hidden)]
pub fn run_case<F, Fut, C, CaseFut>(factory: F, case: C)
where
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = Fixture> + 'static,
    C: FnOnce(Stores) -> CaseFut,
    CaseFut: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime for the conformance case");
    runtime.block_on(case(Stores::new(factory)));
    runtime.shutdown_timeout(PATIENCE);
}

/// The cases, by name; [`storage_conformance_tests!`](crate::storage_conformance_tests) expands to one test each.
#[doc(hidden)]
pub mod cases {
    pub use super::{basic::*, compaction::*, concurrency::*, list::*, model::*, watch::*};
}

/// Expands to a module `storage_conformance` with one test per conformance case. `$factory` names an
/// `async fn() -> Fixture` that returns a fresh, empty store; each test runs on its own multi-threaded tokio
/// runtime with two workers.
#[macro_export]
macro_rules! storage_conformance_tests {
    ($factory:path) => {
        $crate::__storage_conformance_cases! {
            $factory;
            // basic
            revisions_increase_with_every_write_and_only_then,
            create_and_modification_revisions_follow_the_key,
            create_refuses_an_existing_key,
            get_of_a_missing_key_is_none,
            values_round_trip_byte_for_byte,
            update_compares_and_swaps_on_the_modification_revision,
            delete_checks_the_expected_revision_and_returns_the_last_value,
            count_respects_prefix_boundaries,
            // list
            list_returns_the_keys_under_the_prefix_in_order,
            list_pages_cover_the_snapshot_exactly_once,
            list_pages_keep_reading_their_snapshot_during_concurrent_writes,
            list_at_an_exact_revision_shows_the_state_then,
            list_revision_bounds_are_checked,
            continue_tokens_of_other_lists_or_garbage_are_invalid,
            continue_tokens_expire_with_compaction,
            // watch
            watch_reports_each_kind_of_write_with_values_before_and_after,
            watch_sees_only_keys_under_its_prefix,
            watch_from_a_retained_revision_replays_history_then_follows,
            watch_from_a_future_revision_waits_for_it,
            watch_from_a_compacted_revision_expires,
            watch_keeps_order_for_a_reader_that_falls_behind,
            watch_progress_arrives_when_idle,
            watch_progress_arrives_on_a_quiet_prefix_of_a_busy_store,
            dropping_watch_streams_ends_their_tasks,
            // compaction
            compaction_keeps_current_values,
            compaction_expires_older_reads_and_watches,
            compaction_to_the_past_is_a_no_op_and_to_the_future_fails,
            live_watches_survive_compaction,
            a_watcher_behind_a_compaction_gets_every_event_or_expires,
            // concurrency
            racing_compare_and_swap_has_one_winner_per_revision,
            racing_creates_have_one_winner,
            concurrent_writers_form_one_sequential_history,
            guaranteed_update_from_many_tasks_loses_no_increment,
            delete_with_preconditions_checks_uid_and_revision,
            // model
            concurrent_histories_match_what_watchers_and_lists_see,
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __storage_conformance_cases {
    ($factory:path; $($case:ident,)*) => {
        /// The shared storage conformance suite (`kapi_storage::conformance`).
        mod storage_conformance {
            #[allow(unused_imports)]
            use super::*;

            $(
                #[test]
                fn $case() {
                    $crate::conformance::run_case($factory, $crate::conformance::cases::$case);
                }
            )*
        }
    };
}
