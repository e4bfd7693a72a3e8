//! Once-off payment requests: the debtor is matched or registered, the invoice number makes
//! a repeat harmless, and the public link records when the debtor looks.

use clientele_domain::event::Event;
use clientele_domain::merchant::{Merchant, MerchantId};
use clientele_domain::payment::{PaymentRequest, PaymentRequestId, PaymentStatus, PaymentTerms, PublicAccessGuid};
use clientele_domain::property::CustomPropertyValue;
use clientele_domain::user::{Change, Origin, Surface, User, UserFields, UserId, UserPatch};
use clientele_store::{PageRequest, PaymentFilter, StoreError, Unique, UserFilter};

use crate::idempotency::{Claimed, Idempotent, Written};
use crate::{Refusal, Registry, WriteOptions};

/// The outcome of asking for a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    Created(PaymentRequest),
    /// The same request was made before under this invoice number.
    Existing(PaymentRequest),
}

/// Who owes: matched by customer reference, then by national id, else registered with
/// these fields. `properties`, and the keys of `fields.metadata`, are set on the user
/// either way.
#[derive(Debug, Clone)]
pub struct Debtor {
    pub fields: UserFields,
    pub properties: Vec<CustomPropertyValue>,
}

impl Registry {
    async fn find_debtor(&self, merchant: MerchantId, debtor: &Debtor) -> Result<Option<User>, Refusal> {
        let one = PageRequest { after: None, limit: 1 };
        if let Some(customer_ref) = &debtor.fields.customer_ref {
            let filter = UserFilter { customer_ref: Some(customer_ref.as_str().to_owned()), ..UserFilter::default() };
            if let Some(user) = self.store().list_users(merchant, &filter, one).await?.pop() {
                return Ok(Some(user));
            }
        }
        if let Some(national_id) = &debtor.fields.national_id {
            let filter = UserFilter {
                national_id: Some(national_id.as_str().to_owned()),
                country: debtor.fields.country.map(|c| c.as_str().to_owned()),
                ..UserFilter::default()
            };
            return Ok(self.store().list_users(merchant, &filter, one).await?.pop());
        }
        Ok(None)
    }

    /// Asks `debtor` for a payment. The same request under an invoice number already used
    /// answers the existing request; another request under it is refused. An idempotent
    /// request stores its answer, made from what it found or created.
    pub async fn request_payment(
        &self,
        merchant: MerchantId,
        debtor: Debtor,
        terms: PaymentTerms,
        options: WriteOptions<'_>,
        idempotent: Option<Idempotent<'_, Requested>>,
    ) -> Result<Written<Requested>, Refusal> {
        let origin = options.origin;
        self.idempotently(merchant, idempotent, |claimed| async move {
            let (requested, stored) = self.create_payment(merchant, debtor, terms, origin, claimed.as_ref()).await?;
            let request = match &requested {
                Requested::Created(request) | Requested::Existing(request) => request,
            };
            let stored = match (claimed, stored) {
                (_, Some(stored)) => Some(stored),
                // Nothing was written with the answer: it is stored alone.
                (Some(claimed), None) => {
                    let answer = claimed.of(request.user_id, &requested);
                    self.complete_claim(merchant, &answer).await?;
                    Some(answer)
                }
                (None, None) => None,
            };
            Ok((requested, stored))
        })
        .await
    }

    /// The request, and the answer written with it when it was created now.
    async fn create_payment(
        &self,
        merchant: MerchantId,
        debtor: Debtor,
        terms: PaymentTerms,
        origin: &Origin,
        claimed: Option<&Claimed<'_, Requested>>,
    ) -> Result<(Requested, Option<clientele_store::IdempotentAnswer>), Refusal> {
        let found = self.find_debtor(merchant, &debtor).await?;
        let existing = self.store().payment_request_by_invoice(merchant, terms.invoice_number.as_str()).await;
        match existing {
            Ok(request) => return Ok((self.same_or_taken(request, &terms, found.as_ref().map(|u| u.id))?, None)),
            Err(StoreError::NotFound) => {}
            Err(error) => return Err(error.into()),
        }
        let now = crate::now();
        let (user_id, new_user) = match &found {
            Some(user) => (user.id, None),
            None => {
                let mut fields = debtor.fields.clone();
                fields.custom_properties.clone_from(&debtor.properties);
                self.merchant_rules(merchant, &fields).await?;
                let user = User::new(fields, now);
                (user.id, Some(user))
            }
        };
        let request = PaymentRequest::new(user_id, terms.clone(), now);
        let created = Requested::Created(request.clone());
        let answer = claimed.map(|claimed| claimed.of(user_id, &created));
        let mut events: Vec<Event> = new_user.iter().map(|user| Event::user_created(user, origin)).collect();
        events.push(Event::payment_request_created(&request, origin));
        let store = self.store();
        match store
            .create_payment_request(merchant, &request, new_user.as_ref(), origin, &events, answer.as_ref())
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(Unique::InvoiceNumber)) => {
                // Another request under this number won the race.
                let request = self.store().payment_request_by_invoice(merchant, terms.invoice_number.as_str()).await?;
                return Ok((self.same_or_taken(request, &terms, Some(user_id))?, None));
            }
            Err(error) => return Err(error.into()),
        }
        if let Some(user) = found
            && !(debtor.properties.is_empty() && debtor.fields.metadata.is_empty())
        {
            self.set_properties(merchant, &user, debtor, origin).await?;
        }
        Ok((created, answer))
    }

    fn same_or_taken(
        &self,
        request: PaymentRequest,
        terms: &PaymentTerms,
        debtor: Option<UserId>,
    ) -> Result<Requested, Refusal> {
        if request.terms() == *terms && debtor.is_none_or(|d| d == request.user_id) {
            Ok(Requested::Existing(request))
        } else {
            Err(Refusal::InvoiceTaken)
        }
    }

    /// Sets (adds or replaces) the debtor's custom property values and metadata keys on a
    /// user, keeping the others.
    async fn set_properties(
        &self,
        merchant: MerchantId,
        user: &User,
        debtor: Debtor,
        origin: &Origin,
    ) -> Result<(), Refusal> {
        let values = debtor.properties;
        let mut merged: Vec<CustomPropertyValue> =
            user.fields.custom_properties.iter().filter(|p| values.iter().all(|v| v.id != p.id)).cloned().collect();
        merged.extend(values);
        let patch = UserPatch {
            custom_properties: Change::Set(merged),
            metadata: debtor.fields.metadata.into_edits(),
            ..UserPatch::default()
        };
        self.patch_user(merchant, user.id, patch, WriteOptions::from(origin), None).await.map(drop)
    }

    pub async fn payment_request(&self, merchant: MerchantId, id: PaymentRequestId) -> Result<PaymentRequest, Refusal> {
        Ok(self.store().payment_request(merchant, id).await?)
    }

    pub async fn list_payment_requests(
        &self,
        merchant: MerchantId,
        filter: &PaymentFilter,
    ) -> Result<Vec<PaymentRequest>, Refusal> {
        if filter.invoice_number.as_deref().is_some_and(|invoice| !clientele_domain::may_be_stored(invoice)) {
            return Ok(Vec::new());
        }
        Ok(self.store().list_payment_requests(merchant, filter).await?)
    }

    /// Moves a request to `next`, when its status allows.
    pub async fn move_payment(
        &self,
        merchant: MerchantId,
        id: PaymentRequestId,
        next: PaymentStatus,
        origin: &Origin,
    ) -> Result<PaymentRequest, Refusal> {
        loop {
            let current = self.store().payment_request(merchant, id).await?;
            let Some(moved) = current.moved_to(next, crate::now()) else {
                return Err(Refusal::NotAllowed { from: current.status.name(), to: next.name() });
            };
            let events: Vec<Event> = Event::payment_request_moved(&moved, origin).into_iter().collect();
            match self.store().update_payment_request(merchant, &moved, current.version, &events).await {
                Err(StoreError::VersionMismatch) => continue,
                Err(error) => return Err(error.into()),
                Ok(()) => return Ok(moved),
            }
        }
    }

    /// What a debtor's public link shows: the request and its merchant. Opening the link
    /// of a created request records the view.
    pub async fn open_public_link(&self, guid: PublicAccessGuid) -> Result<(Merchant, PaymentRequest), Refusal> {
        let (merchant, id) = self.store().resolve_public_link(guid).await?;
        let found = self.store().merchant(merchant).await?;
        loop {
            let request = self.store().payment_request(merchant, id).await?;
            let Some(viewed) = request.moved_to(PaymentStatus::Viewed, crate::now()) else {
                return Ok((found, request));
            };
            let page = Origin::new(Surface::PUBLIC_PAGE);
            let events: Vec<Event> = Event::payment_request_moved(&viewed, &page).into_iter().collect();
            match self.store().update_payment_request(merchant, &viewed, request.version, &events).await {
                Err(StoreError::VersionMismatch) => continue,
                Err(error) => return Err(error.into()),
                Ok(()) => return Ok((found, viewed)),
            }
        }
    }
}
