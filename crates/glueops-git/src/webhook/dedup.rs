//! Delivery ids seen recently: a bounded window, oldest forgotten first.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

/// Remembers delivery ids for a time window, at most `capacity` of them, so a replayed or
/// retried delivery is recognized. Memory stays bounded whatever arrives.
#[derive(Debug)]
pub struct DeliveryLog {
    capacity: usize,
    window: Duration,
    order: VecDeque<(Instant, String)>,
    ids: HashSet<String>,
}

impl DeliveryLog {
    /// A log of at most `capacity` ids (at least 1), each kept for `window`.
    pub fn new(capacity: usize, window: Duration) -> DeliveryLog {
        DeliveryLog {
            capacity: capacity.max(1),
            window,
            order: VecDeque::new(),
            ids: HashSet::new(),
        }
    }

    /// Records `id` at `now`; false when it was already seen within the window.
    pub fn insert(&mut self, id: &str, now: Instant) -> bool {
        while let Some((at, old)) = self.order.front() {
            if now.saturating_duration_since(*at) <= self.window {
                break;
            }
            self.ids.remove(old);
            self.order.pop_front();
        }
        if self.ids.contains(id) {
            return false;
        }
        if self.order.len() >= self.capacity
            && let Some((_, old)) = self.order.pop_front()
        {
            self.ids.remove(&old);
        }
        self.ids.insert(id.to_string());
        self.order.push_back((now, id.to_string()));
        true
    }

    /// Forgets `id` (a delivery that was refused after all, e.g. because a queue was full, so
    /// that the sender's retry is not taken for a replay).
    pub fn forget(&mut self, id: &str) {
        if self.ids.remove(id) {
            self.order.retain(|(_, seen)| seen != id);
        }
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}
