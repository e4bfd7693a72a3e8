//! Contracts, batches of users and call sequences.

use std::sync::Arc;

use clientele_domain::contract::{Contract, ContractNumber, ContractStatus, ContractTerms, TermsInput};
use clientele_domain::event::{Event, EventId};
use clientele_domain::property::CustomPropertyValue;
use clientele_domain::user::{ChangeKind, UserId};

use super::events::settled;
use super::users::{origin, user};
use super::{at, with_merchant};
use crate::{NewUserRecord, Store, StoreError, Unique};

fn terms(amount: &str) -> ContractTerms {
    let input = TermsInput {
        instalment_amount: Some(("a", amount.to_owned())),
        number_of_instalments: Some(("n", "12".to_owned())),
        instalment_start: Some(("s", "2025-01-25 08:00".to_owned())),
        tracking_code: Some(("t", "00".to_owned())),
        frequency: Some(("f", "MNTH".to_owned())),
        collection_day: Some(("d", "25".to_owned())),
    };
    ContractTerms::parse(&input, ["a", "n", "s", "t", "f", "d"]).unwrap()
}

fn contract(user: UserId, number: &str) -> Contract {
    Contract::new(user, ContractNumber::parse("n", number).unwrap(), Some(terms("123.45")), at(50))
}

pub(super) async fn round_trip(store: Arc<dyn Store>) {
    let (a, _) = with_merchant(store.as_ref(), "A").await;
    let (b, _) = with_merchant(store.as_ref(), "B").await;
    let jack = user("R1", "jack@example.com", 1);
    store.create_user(a.id, &jack, None, &origin(), &[], None).await.unwrap();
    let first = contract(jack.id, "C1603");
    store.create_contract(a.id, &first, &[]).await.unwrap();
    assert_eq!(store.contract(a.id, first.id).await.unwrap(), first);
    assert_eq!(store.contract_by_number(a.id, &first.number).await.unwrap(), first);
    assert_eq!(store.contract(a.id, first.id).await.unwrap().terms.unwrap().instalment_amount.to_string(), "123.45");
    assert!(matches!(store.contract(b.id, first.id).await, Err(StoreError::NotFound)));
    let duplicate = store.create_contract(a.id, &contract(jack.id, "C1603"), &[]).await;
    assert!(matches!(duplicate, Err(StoreError::Conflict(Unique::ContractNumber))), "{duplicate:?}");

    let mut cancelled = first.clone();
    cancelled.status = ContractStatus::Cancelled;
    cancelled.terms = Some(terms("99.99"));
    cancelled.version = 2;
    store.update_contract(a.id, &cancelled, 1, &[]).await.unwrap();
    assert!(matches!(store.update_contract(a.id, &cancelled, 1, &[]).await, Err(StoreError::VersionMismatch)));
    assert!(matches!(store.update_contract(b.id, &cancelled, 2, &[]).await, Err(StoreError::NotFound)));
    // A contract known by number only, its terms not agreed yet.
    let second = Contract::new(jack.id, ContractNumber::parse("n", "C1604").unwrap(), None, at(51));
    store.create_contract(a.id, &second, &[]).await.unwrap();
    assert_eq!(store.contract_by_number(a.id, &second.number).await.unwrap(), second);
    assert_eq!(store.contracts_of_user(a.id, jack.id).await.unwrap(), vec![cancelled, second]);

    // Erasing the user keeps its contracts.
    store.erase_user(a.id, jack.id, None, &origin(), &[], at(60)).await.unwrap();
    assert_eq!(store.contracts_of_user(a.id, jack.id).await.unwrap().len(), 2);
}

pub(super) async fn batches(store: Arc<dyn Store>) {
    let (a, _) = with_merchant(store.as_ref(), "A").await;
    store.create_user(a.id, &user("TAKEN", "t@example.com", 1), None, &origin(), &[], None).await.unwrap();
    let mut items = Vec::new();
    for n in 0..30 {
        let u = user(&format!("B{n}"), &format!("b{n}@example.com"), 10 + n);
        let number = if n == 7 { "DUP".to_owned() } else { format!("K{n}") };
        let contract = (n % 2 == 0 || n == 7).then(|| contract(u.id, &number));
        items.push(NewUserRecord { user: u, contract, events: Vec::new() });
    }
    // Item 12 takes a customer ref in use; item 21 repeats item 7's contract number.
    items[12].user.fields.customer_ref = items[0]
        .user
        .fields
        .customer_ref
        .clone()
        .map(|_| clientele_domain::user::CustomerRef::parse("r", "TAKEN").unwrap());
    items[21].contract = Some(contract(items[21].user.id, "DUP"));
    let results = store.create_users(a.id, &items, &origin()).await.unwrap();
    assert_eq!(results.len(), 30);
    for (n, result) in results.iter().enumerate() {
        match n {
            12 => assert!(matches!(result, Err(StoreError::Conflict(Unique::CustomerRef))), "{result:?}"),
            21 => assert!(matches!(result, Err(StoreError::Conflict(Unique::ContractNumber))), "{result:?}"),
            _ => assert!(result.is_ok(), "item {n}: {result:?}"),
        }
    }
    // The failed items left nothing behind, not even the user of item 21.
    for n in [12, 21] {
        assert!(matches!(store.user(a.id, items[n].user.id).await, Err(StoreError::NotFound)));
    }
    assert!(store.contracts_of_user(a.id, items[21].user.id).await.unwrap().is_empty());
    assert_eq!(store.contracts_of_user(a.id, items[7].user.id).await.unwrap().len(), 1);
    assert_eq!(store.user(a.id, items[29].user.id).await.unwrap(), items[29].user);

    // A batch where nothing fails is written whole: each user with its custom values, its
    // change record, its contract and its events, in order.
    let size = super::property("size", 1);
    store.create_property(a.id, &size).await.unwrap();
    let mut good = Vec::new();
    for n in 0..40 {
        let mut u = user(&format!("G{n}"), &format!("g{n}@example.com"), 100 + n);
        if n % 3 == 0 {
            let value = CustomPropertyValue { id: size.id, name: size.name.clone(), value: n.to_string() };
            u.fields.custom_properties = vec![value];
        }
        let contract = (n % 2 == 0).then(|| contract(u.id, &format!("G{n}")));
        let mut events = vec![Event::user_created(&u, &origin())];
        events.extend(contract.iter().map(|c| Event::contract_created(c, &origin())));
        good.push(NewUserRecord { user: u, contract, events });
    }
    let results = store.create_users(a.id, &good, &origin()).await.unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    for item in &good {
        assert_eq!(store.user(a.id, item.user.id).await.unwrap(), item.user);
        let contracts = store.contracts_of_user(a.id, item.user.id).await.unwrap();
        assert_eq!(contracts, item.contract.iter().cloned().collect::<Vec<_>>());
        let changes = store.user_changes(a.id, item.user.id).await.unwrap();
        assert_eq!(changes.iter().map(|c| (c.kind, c.version)).collect::<Vec<_>>(), [(ChangeKind::Created, 1)]);
    }
    let written: Vec<EventId> = settled(store.as_ref(), a.id, 60).await.iter().map(|e| e.event.id).collect();
    let expected: Vec<EventId> = good.iter().flat_map(|item| &item.events).map(|e| e.id).collect();
    assert_eq!(written, expected);
}

pub(super) async fn call_sequences(store: Arc<dyn Store>) {
    let (a, _) = with_merchant(store.as_ref(), "A").await;
    let (b, _) = with_merchant(store.as_ref(), "B").await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let store = Arc::clone(&store);
        tasks.spawn(async move { store.next_in_sequence(a.id, "calls").await.unwrap() });
    }
    let mut seen = Vec::new();
    while let Some(n) = tasks.join_next().await {
        seen.push(n.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=20).collect::<Vec<_>>());
    assert_eq!(store.next_in_sequence(b.id, "calls").await.unwrap(), 1);
    assert_eq!(store.next_in_sequence(a.id, "calls").await.unwrap(), 21);
    assert_eq!(store.next_in_sequence(a.id, "other").await.unwrap(), 1, "each name is a sequence of its own");

    assert!(!store.merchant(a.id).await.unwrap().strict_sa_id);
    assert!(store.set_strict_sa_id(a.id, true).await.unwrap().strict_sa_id);
    assert!(store.merchant(a.id).await.unwrap().strict_sa_id);
    assert!(!store.merchant(b.id).await.unwrap().strict_sa_id);
}
