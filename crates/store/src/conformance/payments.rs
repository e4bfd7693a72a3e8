//! Payment requests and their public links.

use std::collections::BTreeMap;
use std::sync::Arc;

use clientele_domain::money::Money;
use clientele_domain::payment::{
    Channel, Currency, InvoiceNumber, PaymentRequest, PaymentRequestId, PaymentStatus, PaymentTerms, PublicAccessGuid,
    Segment,
};

use super::users::{origin, user};
use super::{at, with_merchant};
use crate::{PaymentFilter, Store, StoreError, Unique};

pub(super) fn terms(invoice: &str) -> PaymentTerms {
    PaymentTerms {
        invoice_number: InvoiceNumber::parse("i", invoice).unwrap(),
        segment: Segment::parse("s", "Retail").unwrap(),
        amount_outstanding: Money::parse("a", "1520.75").unwrap(),
        currency: Currency::Zar,
        channel: Channel::Email,
        debt_date: None,
        url_to_document: None,
        debt_meta: BTreeMap::from([("Branch".to_owned(), "Cape Town".to_owned())]),
    }
}

fn filter() -> PaymentFilter {
    PaymentFilter { limit: 100, ..PaymentFilter::default() }
}

pub(super) async fn round_trip(store: Arc<dyn Store>) {
    let (a, _) = with_merchant(store.as_ref(), "A").await;
    let (b, _) = with_merchant(store.as_ref(), "B").await;
    let existing = user("R1", "one@example.com", 1);
    store.create_user(a.id, &existing, None, &origin(), &[], None).await.unwrap();
    let first = PaymentRequest::new(existing.id, terms("INV-1"), at(10));
    store.create_payment_request(a.id, &first, None, &origin(), &[], None).await.unwrap();
    assert_eq!(store.payment_request(a.id, first.id).await.unwrap(), first);
    assert_eq!(store.payment_request_by_invoice(a.id, "INV-1").await.unwrap(), first);
    assert_eq!(store.resolve_public_link(first.public_access_guid).await.unwrap(), (a.id, first.id));
    assert!(matches!(store.resolve_public_link(PublicAccessGuid::generate()).await, Err(StoreError::NotFound)));
    assert!(matches!(store.payment_request(b.id, first.id).await, Err(StoreError::NotFound)));
    // A refused request leaves no public link behind.
    let again = PaymentRequest::new(existing.id, terms("INV-1"), at(10));
    let refused = store.create_payment_request(a.id, &again, None, &origin(), &[], None).await;
    assert!(matches!(refused, Err(StoreError::Conflict(Unique::InvoiceNumber))), "{refused:?}");
    assert!(matches!(store.resolve_public_link(again.public_access_guid).await, Err(StoreError::NotFound)));

    // With a new user, in one transaction: a clash on either writes neither.
    let newcomer = user("R2", "two@example.com", 2);
    let clash = PaymentRequest::new(newcomer.id, terms("INV-1"), at(11));
    let refused = store.create_payment_request(a.id, &clash, Some(&newcomer), &origin(), &[], None).await;
    assert!(matches!(refused, Err(StoreError::Conflict(Unique::InvoiceNumber))), "{refused:?}");
    assert!(matches!(store.user(a.id, newcomer.id).await, Err(StoreError::NotFound)));
    let second = PaymentRequest::new(newcomer.id, terms("INV-2"), at(12));
    store.create_payment_request(a.id, &second, Some(&newcomer), &origin(), &[], None).await.unwrap();
    assert_eq!(store.user(a.id, newcomer.id).await.unwrap(), newcomer);
    // Invoice numbers are per merchant.
    let other = user("R1", "one@example.com", 1);
    store.create_user(b.id, &other, None, &origin(), &[], None).await.unwrap();
    store
        .create_payment_request(
            b.id,
            &PaymentRequest::new(other.id, terms("INV-1"), at(13)),
            None,
            &origin(),
            &[],
            None,
        )
        .await
        .unwrap();

    let viewed = first.moved_to(PaymentStatus::Viewed, at(20)).unwrap();
    store.update_payment_request(a.id, &viewed, 1, &[]).await.unwrap();
    assert!(matches!(store.update_payment_request(a.id, &viewed, 1, &[]).await, Err(StoreError::VersionMismatch)));
    assert!(matches!(store.update_payment_request(b.id, &viewed, 2, &[]).await, Err(StoreError::NotFound)));
    assert_eq!(store.payment_request(a.id, first.id).await.unwrap(), viewed);

    let all = store.list_payment_requests(a.id, &filter()).await.unwrap();
    assert_eq!(all.iter().map(|r| r.id).collect::<Vec<PaymentRequestId>>(), vec![viewed.id, second.id]);
    let viewed_only = PaymentFilter { status: Some(PaymentStatus::Viewed), ..filter() };
    assert_eq!(store.list_payment_requests(a.id, &viewed_only).await.unwrap(), vec![viewed.clone()]);
    let of_user = PaymentFilter { user: Some(newcomer.id), ..filter() };
    assert_eq!(store.list_payment_requests(a.id, &of_user).await.unwrap(), vec![second.clone()]);
    let page = PaymentFilter { after: Some(viewed.id), limit: 1, ..filter() };
    assert_eq!(store.list_payment_requests(a.id, &page).await.unwrap(), vec![second.clone()]);

    // Erasing the debtor keeps the request, a financial record, without the free text the
    // merchant sent; the other requests keep theirs.
    store.erase_user(a.id, newcomer.id, None, &origin(), &[], at(30)).await.unwrap();
    let record = PaymentRequest {
        segment: Segment::from_stored(String::new()),
        url_to_document: None,
        debt_meta: BTreeMap::new(),
        ..second.clone()
    };
    assert_eq!(store.payment_request(a.id, second.id).await.unwrap(), record);
    assert_eq!(store.payment_request(a.id, viewed.id).await.unwrap(), viewed);
    assert!(store.check_invariants().await.unwrap().is_empty());
}

pub(super) async fn pages(store: Arc<dyn Store>) {
    use clientele_domain::payment_page::PaymentPageInput;
    let (a, _) = with_merchant(store.as_ref(), "A").await;
    let (b, _) = with_merchant(store.as_ref(), "B").await;
    assert!(matches!(store.payment_page(a.id).await, Err(StoreError::NotFound)));
    let input = PaymentPageInput {
        display_name: Some("Acme".into()),
        contact_email: Some("pay@acme.example".into()),
        contact_phone: Some("+27 21 555 0100".into()),
        bank_name: Some("FNB".into()),
        account_holder: Some("Acme Ltd".into()),
        account_number: Some("62000000001".into()),
        branch_code: Some("250655".into()),
        reference: Some("ACME {invoice_number}".into()),
        payment_url: Some("https://pay.acme.example/?i={invoice_number}".into()),
    };
    let page = input.clone().parse(0, at(1)).unwrap();
    let stored = store.put_payment_page(a.id, &page, at(1)).await.unwrap();
    assert_eq!(stored, clientele_domain::payment_page::PaymentPage { version: 1, ..page });
    assert_eq!(store.payment_page(a.id).await.unwrap(), stored);
    assert!(matches!(store.payment_page(b.id).await, Err(StoreError::NotFound)));
    // Written whole: what is not given is cleared, at the next version.
    let name_only = PaymentPageInput { display_name: Some("Acme Two".into()), ..PaymentPageInput::default() };
    let second = store.put_payment_page(a.id, &name_only.parse(0, at(2)).unwrap(), at(2)).await.unwrap();
    assert_eq!((second.version, second.bank_transfer.is_none(), second.payment_url.is_none()), (2, true, true));
    assert_eq!(store.payment_page(a.id).await.unwrap(), second);
    assert_eq!(second.updated_at, at(2));
}
