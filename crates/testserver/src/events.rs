//! Waiting on a component's event channel in a test: the first event the test is looking
//! for, passing over the others, within a deadline. A closed channel or a missed deadline
//! fails the test with what was awaited.

use std::time::Duration;

use tokio::runtime::Runtime;
use tokio::sync::mpsc::Receiver;

/// Blocks on `rt` until `pick` accepts an event from `events` (its answer is returned);
/// panics naming `what` when `within` passes or the channel closes first.
pub fn wait_for<E, T>(
    rt: &Runtime,
    events: &mut Receiver<E>,
    within: Duration,
    what: &str,
    mut pick: impl FnMut(E) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + within;
    rt.block_on(async {
        loop {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Some(event)) => {
                    if let Some(found) = pick(event) {
                        return found;
                    }
                }
                Ok(None) => panic!("the event channel closed while waiting for {what}"),
                Err(_) => panic!("no {what} within {within:?}"),
            }
        }
    })
}
