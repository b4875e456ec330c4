//! Starting a worker thread that has to say whether it got going (a device opened, say)
//! before the caller returns: the caller gets the worker's first answer, or its error.

use crate::error::{AudioError, Result};
use std::sync::mpsc::{Sender, channel};
use std::thread::JoinHandle;

/// Spawns `body` on a thread named `name` and waits for the first value it sends. If it
/// sends an error, or ends without sending, the thread is joined and the error returned.
pub(crate) fn spawn_ready<T: Send + 'static>(
    name: &str,
    body: impl FnOnce(Sender<Result<T>>) + Send + 'static,
) -> Result<(JoinHandle<()>, T)> {
    let (ready_tx, ready_rx) = channel();
    let thread = std::thread::Builder::new()
        .name(format!("cuecard-{name}"))
        .spawn(move || body(ready_tx))
        .map_err(|e| AudioError::Device {
            device: name.to_owned(),
            message: e.to_string(),
        })?;
    match ready_rx.recv() {
        Ok(Ok(value)) => Ok((thread, value)),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => {
            let _ = thread.join();
            Err(AudioError::Device {
                device: name.to_owned(),
                message: format!("the {name} thread ended before it started"),
            })
        }
    }
}
