use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::user::Surface;

fn t0() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
}

fn entry(posting: &Posting, at: OffsetDateTime) -> EntryAllocations {
    EntryAllocations {
        entry: PointsEntry {
            id: posting.id,
            user_id: crate::user::UserId::from_uuid(uuid::Uuid::nil()),
            kind: posting.kind,
            points: posting.points,
            balance_after: posting.balance_after,
            reference: None,
            description: None,
            expires_at: posting.expires_at,
            reverses: posting.reverses,
            origin: Origin::new(Surface::SYSTEM),
            created_at: at,
        },
        allocations: posting.allocations.clone(),
    }
}

#[test]
fn a_spend_takes_from_the_lot_that_expires_first_and_never_below_zero() {
    let now = t0();
    let mut ledger = Ledger::default();
    let late = ledger.post(Movement::Earn { points: 10, expires_at: Some(now + Duration::days(30)) }, now).unwrap();
    let never = ledger.post(Movement::Earn { points: 10, expires_at: None }, now).unwrap();
    let soon = ledger.post(Movement::Earn { points: 10, expires_at: Some(now + Duration::days(1)) }, now).unwrap();
    let spent = ledger.post(Movement::Spend { points: 15 }, now).unwrap();
    let taken = &spent[0].allocations;
    assert_eq!(taken, &[Allocation { lot: soon[0].id, points: 10 }, Allocation { lot: late[0].id, points: 5 }]);
    assert_eq!((spent[0].points, spent[0].balance_after), (-15, 15));
    assert_eq!(
        ledger.post(Movement::Spend { points: 16 }, now),
        Err(Refused::Insufficient(Insufficient { balance: 15 }))
    );
    assert_eq!(ledger.balance(now), 15, "a refused spend changes nothing");
    assert!(ledger.lots().any(|lot| lot.id == never[0].id && lot.remaining == 10));
}

#[test]
fn expired_lots_stop_counting_at_their_expiry_and_are_written_off_by_the_next_posting() {
    let now = t0();
    let mut ledger = Ledger::default();
    ledger.post(Movement::Earn { points: 7, expires_at: Some(now + Duration::seconds(10)) }, now).unwrap();
    ledger.post(Movement::Earn { points: 3, expires_at: None }, now).unwrap();
    assert_eq!(ledger.balance(now + Duration::seconds(9)), 10);
    assert_eq!(ledger.balance(now + Duration::seconds(10)), 3, "exact to the second");
    let later = now + Duration::minutes(1);
    let posted = ledger.post(Movement::Spend { points: 3 }, later).unwrap();
    assert_eq!(
        posted.iter().map(|p| (p.kind, p.points)).collect::<Vec<_>>(),
        [(EntryKind::Expire, -7), (EntryKind::Spend, -3)]
    );
    assert_eq!(ledger.held(), 0);
}

#[test]
fn a_reversed_spend_goes_back_to_its_lots_and_what_has_expired_since_expires() {
    let now = t0();
    let mut ledger = Ledger::default();
    let a = ledger.post(Movement::Earn { points: 5, expires_at: Some(now + Duration::hours(1)) }, now).unwrap();
    ledger.post(Movement::Earn { points: 5, expires_at: None }, now).unwrap();
    let spend = ledger.post(Movement::Spend { points: 8 }, now).unwrap();
    let later = now + Duration::hours(2);
    let spent = entry(&spend[0], now);
    let back = ledger.reverse(&spent.entry, &spent.allocations, later).unwrap();
    let kinds: Vec<_> = back.iter().map(|p| (p.kind, p.points)).collect();
    assert_eq!(kinds, [(EntryKind::Reverse, 8), (EntryKind::Expire, -5)]);
    assert_eq!(back[0].reverses, Some(spend[0].id));
    assert!(ledger.touched().any(|lot| lot.id == a[0].id && lot.remaining == 0));
    assert_eq!(ledger.balance(later), 5);
}

#[test]
fn a_reversed_earn_takes_back_only_what_is_left_of_it() {
    let now = t0();
    let mut ledger = Ledger::default();
    let earn = ledger.post(Movement::Earn { points: 10, expires_at: None }, now).unwrap();
    ledger.post(Movement::Spend { points: 4 }, now).unwrap();
    let earned = entry(&earn[0], now);
    let back = ledger.reverse(&earned.entry, &[], now).unwrap();
    assert_eq!((back[0].points, back[0].balance_after), (-6, 0));
    let mut reset = earned.entry.clone();
    reset.kind = EntryKind::Reset;
    assert_eq!(ledger.reverse(&reset, &[], now), Err(Refused::NotReversible));
}

#[test]
fn a_movement_is_parsed_with_its_rules() {
    let now = t0();
    assert_eq!(Movement::parse("earn", Some(5), None, now), Ok(Movement::Earn { points: 5, expires_at: None }));
    assert_eq!(Movement::parse("adjust", Some(-5), None, now), Ok(Movement::Adjust { points: -5 }));
    let fields = |result: Result<Movement, Vec<FieldError>>| -> Vec<String> {
        result.err().unwrap_or_default().into_iter().map(|e| e.field).collect()
    };
    assert_eq!(fields(Movement::parse("spend", Some(0), None, now)), ["points"]);
    assert_eq!(fields(Movement::parse("adjust", Some(0), None, now)), ["points"]);
    assert_eq!(fields(Movement::parse("earn", Some(MAX_POINTS + 1), None, now)), ["points"]);
    assert_eq!(fields(Movement::parse("earn", Some(1), Some(now), now)), ["expires_at"]);
    assert_eq!(fields(Movement::parse("spend", Some(1), Some(now + Duration::days(1)), now)), ["expires_at"]);
    assert_eq!(fields(Movement::parse("reset", None, None, now)), ["kind", "points"]);
}

/// A step of a generated history.
#[derive(Debug, Clone)]
enum Step {
    Earn(i64, Option<i64>),
    Spend(i64),
    Adjust(i64),
    /// Reverses the n-th reversible entry written so far, if there is one.
    Reverse(usize),
    Reset,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (1..100i64, proptest::option::of(1..200i64)).prop_map(|(p, e)| Step::Earn(p, e)),
        4 => (1..60i64).prop_map(Step::Spend),
        2 => (-50..50i64).prop_filter("not zero", |p| *p != 0).prop_map(Step::Adjust),
        2 => (0..20usize).prop_map(Step::Reverse),
        1 => Just(Step::Reset),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Any history: the balance is the sum of the entries and never negative; a spend
    /// takes from the lots that expire first; a reversal right after is exact; and the
    /// balance at any time is the replay of the entries written by then.
    #[test]
    fn any_history_keeps_the_ledger_rules(steps in proptest::collection::vec((step(), 0..30i64), 1..40)) {
        let mut ledger = Ledger::default();
        let mut written: Vec<EntryAllocations> = Vec::new();
        // The balance at each time, as the ledger said it last at that time.
        let mut probes: std::collections::BTreeMap<OffsetDateTime, i64> = std::collections::BTreeMap::new();
        let mut now = t0();
        for (step, gap) in steps {
            // Between postings the balance is what the lots say, expiries included.
            // (A probe at the very time of the next posting would see it: none is taken there.)
            if gap > 0 {
                probes.insert(now + Duration::seconds(gap / 2), ledger.balance(now + Duration::seconds(gap / 2)));
            }
            now += Duration::seconds(gap);
            let lots_before: Vec<Lot> = ledger.lots().copied().collect();
            let posted = match step {
                Step::Earn(points, expiry) => {
                    ledger.post(Movement::Earn { points, expires_at: expiry.map(|s| now + Duration::seconds(s)) }, now)
                }
                Step::Spend(points) => ledger.post(Movement::Spend { points }, now),
                Step::Adjust(points) => ledger.post(Movement::Adjust { points }, now),
                Step::Reverse(n) => {
                    let reversed: Vec<PointsEntryId> = written.iter().filter_map(|e| e.entry.reverses).collect();
                    let candidates: Vec<&EntryAllocations> = written
                        .iter()
                        .filter(|e| e.entry.reversible() && !reversed.contains(&e.entry.id))
                        .collect();
                    match candidates.get(n) {
                        Some(target) => ledger.reverse(&target.entry.clone(), &target.allocations.clone(), now),
                        None => continue,
                    }
                }
                Step::Reset => Ok(ledger.reset(now)),
            };
            let postings = match posted {
                Ok(postings) => postings,
                Err(Refused::Insufficient(Insufficient { balance })) => {
                    prop_assert_eq!(balance, ledger.balance(now));
                    prop_assert_eq!(ledger.lots().copied().collect::<Vec<_>>(), lots_before);
                    continue;
                }
                Err(Refused::NotReversible) => continue,
            };
            for posting in &postings {
                if posting.kind == EntryKind::Spend {
                    // Every live lot that expires before one the spend took from is empty.
                    let last = posting.allocations.last().and_then(|a| lots_before.iter().find(|l| l.id == a.lot));
                    if let (Some(last), true) = (last, posting.allocations.last().is_some_and(|a| a.points > 0)) {
                        let key = |l: &Lot| (l.expires_at.is_none(), l.expires_at, l.id);
                        for lot in ledger.lots().filter(|l| l.live(now)) {
                            prop_assert!(key(lot) >= key(last), "{lot:?} expires before {last:?} yet kept points");
                        }
                    }
                }
                written.push(entry(posting, now));
            }
            let sum: i64 = written.iter().map(|e| e.entry.points).sum();
            prop_assert_eq!(sum, ledger.held());
            prop_assert_eq!(ledger.held(), ledger.balance(now), "a posting writes off what has expired");
            prop_assert!(ledger.balance(now) >= 0);
            if let Some(last) = postings.last() {
                prop_assert_eq!(last.balance_after, ledger.balance(now));
            }
            probes.insert(now, ledger.balance(now));
        }
        for (at, balance) in probes {
            prop_assert_eq!(balance_as_of(&written, at), balance, "at {}", at);
        }
    }

    /// Reversing a spend straight after it leaves every lot as it was before the spend.
    #[test]
    fn a_reversal_is_exact(earns in proptest::collection::vec((1..50i64, proptest::option::of(1..100i64)), 1..8), spend in 1..100i64) {
        let now = t0();
        let mut ledger = Ledger::default();
        for (points, expiry) in earns {
            ledger.post(Movement::Earn { points, expires_at: expiry.map(|s| now + Duration::seconds(s)) }, now).unwrap();
        }
        let before: Vec<Lot> = ledger.lots().copied().collect();
        if let Ok(spent) = ledger.post(Movement::Spend { points: spend }, now) {
            let spent = entry(&spent[0], now);
            ledger.reverse(&spent.entry, &spent.allocations, now).unwrap();
            prop_assert_eq!(ledger.lots().copied().collect::<Vec<_>>(), before);
        }
    }
}
