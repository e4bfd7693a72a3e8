//! One user's lots, and what posting a movement to them writes.

use std::collections::BTreeSet;

use time::OffsetDateTime;

use super::{EntryKind, Movement, PointsEntry, PointsEntryId};

/// Points that arrived together and expire together: what is left of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lot {
    /// The id of the entry that made it.
    pub id: PointsEntryId,
    pub remaining: i64,
    pub expires_at: Option<OffsetDateTime>,
}

impl Lot {
    /// Whether its points count at `at`: it has no expiry, or a later one.
    pub fn live(&self, at: OffsetDateTime) -> bool {
        self.expires_at.is_none_or(|expiry| expiry > at)
    }
}

/// Points an entry took from a lot (positive), or gave back to it (negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    pub lot: PointsEntryId,
    pub points: i64,
}

/// An entry a posting writes, with the lots it touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub id: PointsEntryId,
    pub kind: EntryKind,
    pub points: i64,
    pub balance_after: i64,
    pub expires_at: Option<OffsetDateTime>,
    pub reverses: Option<PointsEntryId>,
    pub allocations: Vec<Allocation>,
    /// The lot it made (an earn, a positive adjustment).
    pub lot: Option<Lot>,
}

/// A take that would leave the balance below zero: the balance there is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insufficient {
    pub balance: i64,
}

/// Why a posting was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Insufficient(Insufficient),
    /// The entry cannot be reversed (an expiry, a reset, a reversal).
    NotReversible,
}

/// One user's lots: those holding points, and any a reversal gives back to.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    lots: Vec<Lot>,
    touched: BTreeSet<PointsEntryId>,
}

impl Ledger {
    /// The user's lots, in any order.
    pub fn new(mut lots: Vec<Lot>) -> Ledger {
        lots.sort_by_key(|lot| (lot.expires_at.is_none(), lot.expires_at, lot.id));
        Ledger { lots, touched: BTreeSet::new() }
    }

    /// The balance at `at`: the points of the lots live then.
    pub fn balance(&self, at: OffsetDateTime) -> i64 {
        self.lots.iter().filter(|lot| lot.live(at)).map(|lot| lot.remaining).sum()
    }

    /// The points held, live or not (what the entries sum to).
    pub fn held(&self) -> i64 {
        self.lots.iter().map(|lot| lot.remaining).sum()
    }

    /// The lots that still hold points, oldest expiry first (those without one last).
    pub fn lots(&self) -> impl Iterator<Item = &Lot> {
        self.lots.iter().filter(|lot| lot.remaining > 0)
    }

    /// The lots a posting changed or made, as they stand now.
    pub fn touched(&self) -> impl Iterator<Item = &Lot> {
        self.lots.iter().filter(|lot| self.touched.contains(&lot.id))
    }

    /// When the next lot holding points expires.
    pub fn next_expiry(&self) -> Option<OffsetDateTime> {
        self.lots().filter_map(|lot| lot.expires_at).min()
    }

    /// Posts `movement` at `now`, after an expiry of the lots that have expired by then.
    /// Refused, it changes nothing.
    pub fn post(&mut self, movement: Movement, now: OffsetDateTime) -> Result<Vec<Posting>, Refused> {
        let before = self.clone();
        let mut postings: Vec<Posting> = self.expire(now).into_iter().collect();
        let posted = match movement {
            Movement::Earn { points, expires_at } => Ok(self.add(EntryKind::Earn, points, expires_at, now)),
            Movement::Adjust { points } if points > 0 => Ok(self.add(EntryKind::Adjust, points, None, now)),
            Movement::Adjust { points } => self.take(EntryKind::Adjust, -points, now),
            Movement::Spend { points } => self.take(EntryKind::Spend, points, now),
        };
        match posted {
            Ok(posting) => {
                postings.push(posting);
                Ok(postings)
            }
            Err(refused) => {
                *self = before;
                Err(Refused::Insufficient(refused))
            }
        }
    }

    /// Reverses `entry` (with the allocations it made) at `now`: an earn or a positive
    /// adjustment takes back what is left of its lot; a spend or a negative adjustment gives
    /// its points back to the lots it took them from, and what goes back to a lot that has
    /// expired since expires at once. The ledger must hold every lot concerned.
    pub fn reverse(
        &mut self,
        entry: &PointsEntry,
        allocations: &[Allocation],
        now: OffsetDateTime,
    ) -> Result<Vec<Posting>, Refused> {
        if !entry.reversible() {
            return Err(Refused::NotReversible);
        }
        let mut postings: Vec<Posting> = self.expire(now).into_iter().collect();
        let given: Vec<Allocation> = if entry.points > 0 {
            let remaining = self.lots.iter().find(|lot| lot.id == entry.id).map_or(0, |lot| lot.remaining);
            vec![Allocation { lot: entry.id, points: remaining }]
        } else {
            allocations.iter().map(|a| Allocation { lot: a.lot, points: -a.points }).collect()
        };
        let given: Vec<Allocation> = given.into_iter().filter(|a| a.points != 0).collect();
        for allocation in &given {
            self.apply(allocation);
        }
        let points = -given.iter().map(|a| a.points).sum::<i64>();
        postings.push(self.posting(EntryKind::Reverse, points, given, now));
        if let Some(posting) = postings.last_mut() {
            posting.reverses = Some(entry.id);
        }
        postings.extend(self.expire(now));
        Ok(postings)
    }

    /// Takes every point (erasure), after an expiry of the lots that have expired.
    pub fn reset(&mut self, now: OffsetDateTime) -> Vec<Posting> {
        let mut postings: Vec<Posting> = self.expire(now).into_iter().collect();
        let taken: Vec<Allocation> =
            self.lots().map(|lot| Allocation { lot: lot.id, points: lot.remaining }).collect::<Vec<_>>();
        if !taken.is_empty() {
            for allocation in &taken {
                self.apply(allocation);
            }
            let points = -taken.iter().map(|a| a.points).sum::<i64>();
            postings.push(self.posting(EntryKind::Reset, points, taken, now));
        }
        postings
    }

    /// An expiry of every lot that has expired by `at` and holds points, if any has.
    pub fn expire(&mut self, at: OffsetDateTime) -> Option<Posting> {
        let expired: Vec<Allocation> = self
            .lots()
            .filter(|lot| !lot.live(at))
            .map(|lot| Allocation { lot: lot.id, points: lot.remaining })
            .collect();
        if expired.is_empty() {
            return None;
        }
        for allocation in &expired {
            self.apply(allocation);
        }
        let points = -expired.iter().map(|a| a.points).sum::<i64>();
        Some(self.posting(EntryKind::Expire, points, expired, at))
    }

    fn add(
        &mut self,
        kind: EntryKind,
        points: i64,
        expires_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Posting {
        let lot = Lot { id: PointsEntryId::generate(), remaining: points, expires_at };
        let at = self.lots.partition_point(|other| {
            (other.expires_at.is_none(), other.expires_at, other.id) < (lot.expires_at.is_none(), expires_at, lot.id)
        });
        self.lots.insert(at, lot);
        self.touched.insert(lot.id);
        let mut posting = self.posting(kind, points, Vec::new(), now);
        posting.id = lot.id;
        posting.expires_at = expires_at;
        posting.lot = Some(lot);
        posting
    }

    /// Takes `points` from the live lots, the one that expires first first.
    fn take(&mut self, kind: EntryKind, points: i64, now: OffsetDateTime) -> Result<Posting, Insufficient> {
        let balance = self.balance(now);
        if balance < points {
            return Err(Insufficient { balance });
        }
        let mut left = points;
        let mut taken = Vec::new();
        for lot in self.lots.iter().filter(|lot| lot.live(now) && lot.remaining > 0) {
            if left == 0 {
                break;
            }
            let part = left.min(lot.remaining);
            taken.push(Allocation { lot: lot.id, points: part });
            left -= part;
        }
        for allocation in &taken {
            self.apply(allocation);
        }
        Ok(self.posting(kind, -points, taken, now))
    }

    fn apply(&mut self, allocation: &Allocation) {
        if let Some(lot) = self.lots.iter_mut().find(|lot| lot.id == allocation.lot) {
            lot.remaining -= allocation.points;
            self.touched.insert(lot.id);
        }
    }

    fn posting(&self, kind: EntryKind, points: i64, allocations: Vec<Allocation>, at: OffsetDateTime) -> Posting {
        Posting {
            id: PointsEntryId::generate(),
            kind,
            points,
            balance_after: self.balance(at),
            expires_at: None,
            reverses: None,
            allocations,
            lot: None,
        }
    }
}
