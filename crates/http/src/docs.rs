//! `/openapi.json` and `/docs`: the document, and Swagger UI from the assets built into the
//! binary. The page and its initializer are Clientele's own, not Swagger UI's samples: the
//! title names Clientele, the document is read from this server by a relative URL (so under
//! whatever host name the server is reached), and `validatorUrl` is `null`, which is the only
//! value that keeps Swagger UI from sending the document's address to its online validator.
//! A `Content-Security-Policy` of `'self'` lets the browser load nothing from elsewhere.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use clientele_service::Refusal;

use crate::Render;

/// Where the page reads the document from: a path on this server, whatever its host name.
const DOCUMENT: &str = "/openapi.json";

const INDEX: &str = r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>Clientele API reference</title>
    <link rel="stylesheet" type="text/css" href="./swagger-ui.css">
    <link rel="stylesheet" type="text/css" href="./index.css">
    <link rel="icon" type="image/png" href="./favicon-32x32.png" sizes="32x32">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="./swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="./swagger-ui-standalone-preset.js" charset="UTF-8"></script>
    <script src="./swagger-initializer.js" charset="UTF-8"></script>
  </body>
</html>
"#;

const INITIALIZER: &str = r##"window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout"
  });
};
"##;

/// Only this server: scripts, styles, images (and the inline images Swagger UI's CSS holds)
/// and the document itself.
const POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The routes serving the document and the page.
pub(crate) fn router<S: Clone + Send + Sync + 'static>(
    openapi: &utoipa::openapi::OpenApi,
    render: Render,
) -> Router<S> {
    let document: Arc<[u8]> = serde_json::to_vec(openapi).unwrap_or_default().into();
    Router::new()
        .route(
            DOCUMENT,
            get(move || {
                let document = Arc::clone(&document);
                async move { ([(CONTENT_TYPE, "application/json")], document.to_vec()) }
            }),
        )
        .route("/docs", get(|| async { Redirect::permanent("/docs/") }))
        .route("/docs/", get(|| async { page("text/html; charset=utf-8", INDEX) }))
        .route("/docs/swagger-initializer.js", get(|| async { page("text/javascript; charset=utf-8", INITIALIZER) }))
        .route("/docs/{*file}", get(move |file: Path<String>| asset(file, render)))
}

fn page(content_type: &'static str, text: &'static str) -> Response {
    let mut response = ([(CONTENT_TYPE, content_type)], text).into_response();
    response.headers_mut().insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    response
}

/// One of Swagger UI's own files (scripts, styles, icons), as built into the binary; a file
/// that is not one is answered with `render`.
async fn asset(Path(file): Path<String>, render: Render) -> Response {
    if file == "index.html" {
        return page("text/html; charset=utf-8", INDEX);
    }
    // Its sample index and initializer are replaced above; the rest is served as it is.
    let config = Arc::new(utoipa_swagger_ui::Config::new([DOCUMENT]));
    match utoipa_swagger_ui::serve(&file, config) {
        Ok(Some(found)) => {
            let headers = [(CONTENT_TYPE, found.content_type), (CACHE_CONTROL, "public, max-age=3600".to_owned())];
            (StatusCode::OK, headers, found.bytes.into_owned()).into_response()
        }
        Ok(None) => render(Refusal::NotFound),
        Err(error) => render(Refusal::internal(error.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_initializer_turns_the_online_validator_off_and_reads_the_document_here() {
        assert!(INITIALIZER.contains("validatorUrl: null,"));
        assert!(INITIALIZER.contains(&format!("url: \"{DOCUMENT}\"")));
        assert!(!INITIALIZER.contains("http") && !INDEX.contains("http"));
    }
}
