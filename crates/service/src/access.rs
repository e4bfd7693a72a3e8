use clientele_domain::credential::{ApiKeyId, KeyOwner, Role};
use clientele_domain::merchant::MerchantId;
use clientele_domain::user::{Origin, Surface};

use crate::Refusal;

/// Who is calling: the key behind the credential, whichever form it was presented in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub key_id: ApiKeyId,
    pub owner: KeyOwner,
}

impl Principal {
    /// The caller's merchant, when its role allows at least `needed`; else
    /// [`Refusal::Forbidden`].
    pub fn merchant(&self, needed: Role) -> Result<MerchantId, Refusal> {
        match self.owner {
            KeyOwner::Merchant { merchant, role } if role.allows(needed) => Ok(merchant),
            _ => Err(Refusal::Forbidden),
        }
    }

    /// What the caller's changes through `surface` record as their origin: the surface and
    /// the caller's key.
    pub fn origin(&self, surface: Surface) -> Origin {
        Origin::new(surface).by(self.key_id)
    }

    /// Succeeds for platform keys only.
    pub fn platform(&self) -> Result<(), Refusal> {
        match self.owner {
            KeyOwner::Platform => Ok(()),
            KeyOwner::Merchant { .. } => Err(Refusal::Forbidden),
        }
    }
}

/// Why a credential was not accepted. The messages are safe to show to the caller: none
/// says whether a key exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no credential was presented")]
    Missing,
    #[error("the credential is not valid")]
    Invalid,
    #[error("the access token has expired")]
    Expired,
}
