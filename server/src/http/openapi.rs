//! The REST API described as OpenAPI 3.1, generated from the handlers' `#[utoipa::path]`
//! annotations and the wire types (`app::types`), served at `/api/openapi.json`, and a
//! reference page rendered from the same document at `/api/docs` (plain HTML from the server:
//! no script, nothing fetched from elsewhere).

use axum::Json;
use axum::response::Html;
use utoipa::openapi::{OpenApi, PathItem};

use app::types::ApiError;

/// Every error of the REST API: `{"error": {"code", "message", …}}`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // only described, never built: errors are serialised by `HttpError`
pub struct ErrorBody {
    error: ApiError,
}

pub async fn document() -> Json<OpenApi> {
    Json(super::api::openapi())
}

pub async fn reference() -> Html<String> {
    Html(render(&super::api::openapi()))
}

fn render(doc: &OpenApi) -> String {
    let mut html = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Picscripterai REST API</title></head><body><main>",
    );
    html.push_str(&format!(
        "<h1>{} {}</h1><p>{}</p><p>The machine-readable document: <a href=\"/api/openapi.json\">/api/openapi.json</a> (OpenAPI {}).</p>",
        escape(&doc.info.title),
        escape(&doc.info.version),
        escape(doc.info.description.as_deref().unwrap_or_default()),
        escape(&as_text(&doc.openapi)),
    ));
    for (path, item) in &doc.paths.paths {
        for (method, operation) in operations(item) {
            html.push_str(&format!(
                "<section><h2><code>{method} {}</code></h2>",
                escape(path)
            ));
            if let Some(description) = operation
                .description
                .as_deref()
                .or(operation.summary.as_deref())
            {
                html.push_str(&format!("<p>{}</p>", escape(description)));
            }
            if let Some(parameters) = &operation.parameters {
                html.push_str("<h3>Parameters</h3><ul>");
                for parameter in parameters {
                    html.push_str(&format!(
                        "<li><code>{}</code> (in {}){}</li>",
                        escape(&parameter.name),
                        as_text(&parameter.parameter_in),
                        parameter
                            .description
                            .as_deref()
                            .map(|text| format!(": {}", escape(text)))
                            .unwrap_or_default()
                    ));
                }
                html.push_str("</ul>");
            }
            html.push_str("<h3>Responses</h3><ul>");
            for (status, response) in &operation.responses.responses {
                let description = match response {
                    utoipa::openapi::RefOr::T(response) => response.description.clone(),
                    utoipa::openapi::RefOr::Ref(reference) => reference.ref_location.clone(),
                };
                html.push_str(&format!(
                    "<li><code>{}</code> {}</li>",
                    escape(status),
                    escape(&description)
                ));
            }
            html.push_str("</ul></section>");
        }
    }
    html.push_str("</main></body></html>");
    html
}

fn operations(item: &PathItem) -> Vec<(&'static str, &utoipa::openapi::path::Operation)> {
    [
        ("GET", &item.get),
        ("POST", &item.post),
        ("PUT", &item.put),
        ("PATCH", &item.patch),
        ("DELETE", &item.delete),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_ref().map(|operation| (method, operation)))
    .collect()
}

/// How a value of the document reads in JSON (`3.1.0`, `path`), for the page.
fn as_text(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_and_lists_every_route() {
        let doc = super::super::api::openapi();
        let json = serde_json::to_value(&doc).unwrap();
        assert!(json["openapi"].as_str().unwrap().starts_with("3.1"));
        for path in [
            "/api/connections",
            "/api/connections/{platform}/authorize",
            "/api/connections/{id}",
            "/api/connections/{id}/options",
            "/api/connections/{id}/options/{name}/choices",
            "/api/connections/choices/{id}",
            "/api/media",
            "/api/media/{id}",
            "/api/posts",
            "/api/posts/{id}",
            "/api/posts/{id}/duplicate",
            "/api/posts/{id}/targets/{target_id}/retry",
            "/api/posts/{id}/cancel",
            "/api/studio/settings",
            "/api/studio/writer/test",
        ] {
            assert!(json["paths"].get(path).is_some(), "{path} is documented");
        }
        for schema in [
            "Post",
            "NewPost",
            "Schedule",
            "Target",
            "TargetStatus",
            "ApiError",
            "StudioSettings",
            "StudioSettingsUpdate",
            "WriterChoice",
        ] {
            assert!(
                json["components"]["schemas"].get(schema).is_some(),
                "{schema}"
            );
        }
        let page = render(&doc);
        assert!(page.contains("<code>POST /api/posts</code>"));
    }
}
