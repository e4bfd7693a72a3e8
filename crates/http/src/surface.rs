//! What a surface provides, so that the server can assemble the app from a list of them:
//! its routes, how its operations are documented, and how it answers a refusal.

use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;

use clientele_service::Refusal;

use crate::AppState;

/// One of the APIs the server speaks: the native one, or a vendor's drop-in.
pub trait Surface: Send + Sync + 'static {
    /// Its routes, with their OpenAPI operations.
    fn router(&self) -> OpenApiRouter<AppState>;

    /// The tags its operations carry in the OpenAPI document.
    fn tags(&self) -> Vec<Tag>;

    /// Its answer to `refusal`, in its own shape. The app answers with the first surface's
    /// what no surface's route answers: an unknown route, a request over its time, a panic.
    fn render(&self, refusal: Refusal) -> Response;

    /// The path of one of its routes that `path` names, where its vendor matches paths
    /// without regard to case (ServiceStack does): the app routes the request there. `None`,
    /// the default, leaves the path as it is.
    fn route_of(&self, path: &str) -> Option<&'static str> {
        let _ = path;
        None
    }
}

/// A tag of the OpenAPI document, and how the operations under it answer a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    pub name: &'static str,
    pub description: &'static str,
    /// The content type and schema of the error body; `None` where its format is
    /// negotiated or there is none to describe.
    pub errors: Option<ErrorBody>,
    /// Whether its routes are behind the rate limits (a key's, and a client address's after
    /// failed authentications): every surface's are, the operations endpoints' are not.
    pub rate_limited: bool,
}

/// The body of a surface's refusals, for the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorBody {
    pub content_type: &'static str,
    /// The name of its schema among the document's components.
    pub schema: &'static str,
}
