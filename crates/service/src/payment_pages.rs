//! The payment page a merchant sets up for its debtors: its name, contact details and how
//! to pay, written by the merchant and shown with each payment request's public link.

use clientele_domain::merchant::{Merchant, MerchantId};
use clientele_domain::payment::{PaymentRequest, PublicAccessGuid};
use clientele_domain::payment_page::{PaymentPage, PaymentPageInput};
use clientele_store::StoreError;

use crate::{Refusal, Registry};

/// What a debtor's public link shows: the request, its merchant, and the merchant's page
/// settings when it has set them up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicLink {
    pub merchant: Merchant,
    pub request: PaymentRequest,
    pub page: Option<PaymentPage>,
}

impl Registry {
    /// The merchant's payment page settings, if it has set them up.
    pub async fn payment_page(&self, merchant: MerchantId) -> Result<Option<PaymentPage>, Refusal> {
        match self.store().payment_page(merchant).await {
            Ok(page) => Ok(Some(page)),
            Err(StoreError::NotFound) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Sets the merchant's payment page settings whole (parts not given are cleared).
    pub async fn set_payment_page(
        &self,
        merchant: MerchantId,
        input: PaymentPageInput,
    ) -> Result<PaymentPage, Refusal> {
        let now = crate::now();
        // The version is the store's to give; 0 is a placeholder it replaces.
        let page = input.parse(0, now)?;
        Ok(self.store().put_payment_page(merchant, &page, now).await?)
    }

    /// Opens a debtor's public link (recording the view of a created request) with what
    /// its page shows of the merchant.
    pub async fn open_payment_page(&self, guid: PublicAccessGuid) -> Result<PublicLink, Refusal> {
        let (merchant, request) = self.open_public_link(guid).await?;
        let page = self.payment_page(merchant.id).await?;
        Ok(PublicLink { merchant, request, page })
    }
}
