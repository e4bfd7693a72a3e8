//! `serve --demo`: a merchant to try Clientele with.

use clientele_domain::DisplayName;
use clientele_domain::credential::{KeyOwner, Role};
use clientele_domain::interaction_point::InteractionPointId;
use clientele_domain::merchant::MerchantNumber;
use clientele_service::{IssuedKey, Refusal, Registry};

/// The demo merchant's number.
pub const DEMO_NUMBER: &str = "DEMO";
/// The demo merchant's registered interaction point.
pub const DEMO_TILL: &str = "demo-till";

/// Creates the demo merchant, with an interaction point, on a database that has none; on a
/// database that already has it, issues it a new admin key (the first one's secret was
/// shown once and is gone). Returns whether the merchant was created, and the key.
pub async fn ensure_demo_merchant(registry: &Registry) -> anyhow::Result<(bool, IssuedKey)> {
    let number = MerchantNumber::parse("number", DEMO_NUMBER)?;
    match registry.merchant_by_number(&number).await {
        Ok(merchant) => {
            let owner = KeyOwner::Merchant { merchant: merchant.id, role: Role::Admin };
            let name = DisplayName::parse("name", "demo")?;
            Ok((false, registry.issue_key(owner, Some(name)).await?))
        }
        Err(Refusal::NotFound) => {
            let (merchant, key) =
                registry.create_merchant(number, DisplayName::parse("name", "Demo Merchant")?).await?;
            registry
                .create_interaction_point(
                    merchant.id,
                    InteractionPointId::parse("id", DEMO_TILL)?,
                    DisplayName::parse("name", "Demo till")?,
                )
                .await?;
            Ok((true, key))
        }
        Err(error) => Err(error.into()),
    }
}
