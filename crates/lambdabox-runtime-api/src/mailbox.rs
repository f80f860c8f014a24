//! The mailbox of one execution environment: the runtime's state (initializing,
//! ready, init failed) and the single invocation in flight.
//!
//! One `std::sync::Mutex` guards the state and is never held across an await.
//! Parked `GET /next` polls wait on a [`Notify`] that `enqueue` pings (all of
//! them: each re-checks under the lock); the outcome travels back to the
//! awaiting `invoke` through a oneshot channel. Every
//! invocation has a generation number, so a cancelled `invoke` removes only its
//! own invocation and a late reply for it finds nothing to complete.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::HeaderMap;
use bytes::Bytes;
use tokio::sync::{Notify, oneshot};

use crate::wire::RuntimeState;
use crate::{InitFailure, InvocationOutcome, InvokeError};

/// What `invoke` awaits: the outcome, or why there will be none.
pub(crate) type Reply = Result<InvocationOutcome, InvokeError>;

/// An invocation rendered once, ready to be served (and re-served) by `/next`.
#[derive(Debug)]
pub(crate) struct Event {
    pub(crate) request_id: Box<str>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// Why a reply for a request id was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotInFlight;

#[derive(Debug)]
enum Phase {
    /// The runtime has not called `/next` yet.
    Initializing,
    /// The runtime called `/next` at least once: INIT is over.
    Ready,
    /// The runtime posted `/init/error`.
    InitFailed(InitFailure),
}

#[derive(Debug)]
struct InFlight {
    generation: u64,
    event: Arc<Event>,
    /// Whether `/next` has handed the event to the runtime.
    delivered: bool,
    reply: oneshot::Sender<Reply>,
}

#[derive(Debug)]
struct State {
    phase: Phase,
    current: Option<InFlight>,
    last_generation: u64,
}

#[derive(Debug)]
pub(crate) struct Mailbox {
    state: Mutex<State>,
    /// Pinged (all waiters) when an invocation is queued.
    queued: Notify,
    /// Pinged (all waiters) when INIT finishes or fails.
    settled: Notify,
}

impl Mailbox {
    pub(crate) fn new() -> Self {
        Mailbox {
            state: Mutex::new(State { phase: Phase::Initializing, current: None, last_generation: 0 }),
            queued: Notify::new(),
            settled: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the state consistent (every
        // update is a single assignment), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues `event` as the invocation in flight; returns its generation and the
    /// receiver of its outcome.
    pub(crate) fn enqueue(&self, event: Event) -> Result<(u64, oneshot::Receiver<Reply>), InvokeError> {
        let (reply, outcome) = oneshot::channel();
        let generation = {
            let mut state = self.lock();
            if let Phase::InitFailed(failure) = &state.phase {
                return Err(InvokeError::InitFailed(failure.clone()));
            }
            if state.current.is_some() {
                return Err(InvokeError::Busy);
            }
            state.last_generation += 1;
            let generation = state.last_generation;
            state.current = Some(InFlight { generation, event: Arc::new(event), delivered: false, reply });
            generation
        };
        // Every parked poller looks: one left behind by a connection the
        // runtime dropped must not be the only one to see the invocation.
        self.queued.notify_waiters();
        Ok((generation, outcome))
    }

    /// Forgets the invocation of `generation` if it is still in flight (its
    /// `invoke` was cancelled).
    pub(crate) fn cancel(&self, generation: u64) {
        let mut state = self.lock();
        if state.current.as_ref().is_some_and(|current| current.generation == generation) {
            state.current = None;
        }
    }

    /// `GET /next`: waits for the invocation in flight and marks it delivered.
    /// The first call ends INIT. A runtime that asks again before replying gets
    /// the same invocation again, as from RAPID.
    pub(crate) async fn next(&self) -> Result<Arc<Event>, RuntimeState> {
        loop {
            let queued = self.queued.notified();
            tokio::pin!(queued);
            // Register before looking, so an `enqueue` in between is seen.
            queued.as_mut().enable();
            {
                let mut state = self.lock();
                match state.phase {
                    Phase::InitFailed(_) => return Err(RuntimeState::InitError),
                    Phase::Initializing => {
                        state.phase = Phase::Ready;
                        self.settled.notify_waiters();
                    }
                    Phase::Ready => {}
                }
                if let Some(current) = state.current.as_mut() {
                    current.delivered = true;
                    return Ok(Arc::clone(&current.event));
                }
            }
            queued.await;
        }
    }

    /// `/response` or `/error`: completes the delivered invocation `request_id`.
    pub(crate) fn complete(&self, request_id: &str, outcome: InvocationOutcome) -> Result<(), NotInFlight> {
        let in_flight = {
            let mut state = self.lock();
            match &state.current {
                Some(current) if current.delivered && *current.event.request_id == *request_id => state.current.take(),
                _ => None,
            }
        };
        match in_flight {
            Some(in_flight) => {
                // The send fails only when `invoke` is being dropped at this
                // very moment; the outcome is then moot.
                let _ = in_flight.reply.send(Ok(outcome));
                Ok(())
            }
            None => Err(NotInFlight),
        }
    }

    /// `/init/error`: records the failure and fails a queued invocation with it.
    pub(crate) fn init_error(&self, failure: InitFailure) -> Result<(), RuntimeState> {
        let queued = {
            let mut state = self.lock();
            match state.phase {
                Phase::Initializing => {}
                Phase::InitFailed(_) => return Err(RuntimeState::InitError),
                Phase::Ready => {
                    let delivered = state.current.as_ref().is_some_and(|c| c.delivered);
                    return Err(if delivered { RuntimeState::Running } else { RuntimeState::Ready });
                }
            }
            state.phase = Phase::InitFailed(failure.clone());
            state.current.take()
        };
        self.settled.notify_waiters();
        if let Some(queued) = queued {
            let _ = queued.reply.send(Err(InvokeError::InitFailed(failure)));
        }
        Ok(())
    }

    /// Resolves once the runtime called `/next` or posted `/init/error`.
    pub(crate) async fn wait_ready(&self) -> Result<(), InitFailure> {
        loop {
            let settled = self.settled.notified();
            tokio::pin!(settled);
            // Register before looking, so a `notify_waiters` in between is seen.
            settled.as_mut().enable();
            match &self.lock().phase {
                Phase::Ready => return Ok(()),
                Phase::InitFailed(failure) => return Err(failure.clone()),
                Phase::Initializing => {}
            }
            settled.await;
        }
    }
}

/// Removes its invocation from the mailbox when dropped before `disarm`: the
/// cancellation path of `invoke`.
pub(crate) struct CancelOnDrop<'a> {
    mailbox: &'a Mailbox,
    generation: u64,
    armed: bool,
}

impl<'a> CancelOnDrop<'a> {
    pub(crate) fn new(mailbox: &'a Mailbox, generation: u64) -> Self {
        CancelOnDrop { mailbox, generation, armed: true }
    }

    pub(crate) fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.mailbox.cancel(self.generation);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(request_id: &str) -> Event {
        Event { request_id: request_id.into(), headers: HeaderMap::new(), body: Bytes::from_static(b"{}") }
    }

    #[tokio::test]
    async fn second_enqueue_is_busy() {
        let mailbox = Mailbox::new();
        let _first = mailbox.enqueue(event("a")).unwrap();
        assert!(matches!(mailbox.enqueue(event("b")), Err(InvokeError::Busy)));
    }

    #[tokio::test]
    async fn cancel_frees_the_slot_and_rejects_late_replies() {
        let mailbox = Mailbox::new();
        let (generation, _outcome) = mailbox.enqueue(event("a")).unwrap();
        assert_eq!(&*mailbox.next().await.unwrap().request_id, "a");
        mailbox.cancel(generation);
        assert_eq!(mailbox.complete("a", InvocationOutcome::Response(Bytes::new())), Err(NotInFlight));
        assert!(mailbox.enqueue(event("b")).is_ok());
    }

    #[tokio::test]
    async fn stale_cancel_leaves_the_next_invocation_alone() {
        let mailbox = Mailbox::new();
        let (first, _outcome) = mailbox.enqueue(event("a")).unwrap();
        mailbox.next().await.unwrap();
        mailbox.complete("a", InvocationOutcome::Response(Bytes::new())).unwrap();
        let (_second, _outcome) = mailbox.enqueue(event("b")).unwrap();
        mailbox.cancel(first);
        assert_eq!(&*mailbox.next().await.unwrap().request_id, "b");
    }

    #[tokio::test]
    async fn reply_before_delivery_is_rejected() {
        let mailbox = Mailbox::new();
        let _queued = mailbox.enqueue(event("a")).unwrap();
        assert_eq!(mailbox.complete("a", InvocationOutcome::Response(Bytes::new())), Err(NotInFlight));
    }

    #[tokio::test]
    async fn init_error_fails_a_queued_invocation() {
        let mailbox = Mailbox::new();
        let (_generation, outcome) = mailbox.enqueue(event("a")).unwrap();
        let failure = InitFailure { error_type: "Runtime.InitError".into(), body: Bytes::from_static(b"{}") };
        mailbox.init_error(failure.clone()).unwrap();
        assert!(matches!(
            outcome.await.unwrap(),
            Err(InvokeError::InitFailed(f)) if f == failure
        ));
        assert_eq!(mailbox.wait_ready().await, Err(failure));
        assert_eq!(mailbox.next().await.unwrap_err(), RuntimeState::InitError);
    }
}
