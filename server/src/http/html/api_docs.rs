//! The API reference (`GET /api/v1/docs`): the OpenAPI document the server
//! builds from its routes' declarations, as a page people read — the
//! operations grouped by tag, each with its method, path,
//! summary, parameters, request body and answers named by schema, and the
//! error format every route shares.

use std::collections::BTreeMap;

use maud::{Markup, html};
use serde_json::Value;

use super::document;

/// Where an operation is listed: its first tag, or else the first segment
/// of its path after `/api/v1`, or `operations` outside the API.
fn group_of(path: &str, operation: &Value) -> String {
    if let Some(tag) = operation["tags"].get(0).and_then(Value::as_str) {
        return tag.to_string();
    }
    match path.strip_prefix("/api/v1/") {
        Some(rest) => rest.split('/').next().unwrap_or(rest).to_string(),
        None => "operations".to_string(),
    }
}

/// An operation as listed: its path, method and OpenAPI object.
type Listed<'a> = (&'a str, &'a str, &'a Value);

/// The operations of `doc` by group: groups in the order of the document's
/// `tags`, then any other in name order; in a group, by path, reads first.
fn grouped(doc: &Value) -> Vec<(String, Vec<Listed<'_>>)> {
    let mut groups: BTreeMap<String, Vec<Listed<'_>>> = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            groups.entry(group_of(path, operation)).or_default().push((
                path.as_str(),
                method.as_str(),
                operation,
            ));
        }
    }
    let mut ordered = Vec::new();
    for tag in doc["tags"].as_array().into_iter().flatten() {
        if let Some(name) = tag["name"].as_str()
            && let Some(operations) = groups.remove(name)
        {
            ordered.push((name.to_string(), operations));
        }
    }
    ordered.extend(groups);
    for (_, operations) in &mut ordered {
        operations.sort_by_key(|(path, method, _)| (*path, method_rank(method)));
    }
    ordered
}

/// The reference page of `doc`, an OpenAPI 3 document.
pub fn page(doc: &Value) -> Markup {
    let groups = grouped(doc);
    let title = doc["info"]["title"].as_str().unwrap_or("API");
    let main = html! {
        h1 { (title) " reference" }
        p.meta { "Version " (text(&doc["info"]["version"])) }
        @if let Some(description) = doc["info"]["description"].as_str() { p { (prose(description)) } }
        p {
            "The same description, machine-readable: "
            a href="/api/v1/openapi.json" { code { "/api/v1/openapi.json" } } "."
        }
        nav aria-label="Contents" {
            ul {
                li { a href="#errors" { "Errors" } }
                @for (group, operations) in &groups {
                    li { a href={ "#" (group) } { (group) } " (" (operations.len()) ")" }
                }
            }
        }
        (errors(doc))
        @for (group, operations) in &groups {
            h2 id=(group) { (group) }
            @for (path, method, operation) in operations { (entry(path, method, operation)) }
        }
    };
    document(&format!("{title} reference"), true, main, html! {})
}

/// The error body every route may answer, and its codes.
fn errors(doc: &Value) -> Markup {
    let schemas = &doc["components"]["schemas"];
    let codes: Vec<&str> = schemas["ErrorCode"]["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    html! {
        h2 id="errors" { "Errors" }
        p {
            "Every failure answers its HTTP status with an " code { "ErrorBody" }
            " (" code { "application/json" } ") unless an operation says otherwise:"
        }
        (properties(&schemas["ErrorBody"]))
        @if !codes.is_empty() {
            p {
                code { "error" } " is one of: "
                @for (i, code) in codes.iter().enumerate() {
                    @if i > 0 { ", " }
                    code { (code) }
                }
                "."
            }
        }
        p {
            "Signed-in operations take " code { "Authorization: Bearer <access_token>" }
            " from " code { "POST /api/v1/auth/login" } ". Each operation names the rate limit it counts against; "
            "answers carry " code { "RateLimit-Limit" } " and " code { "RateLimit-Remaining" } "."
        }
    }
}

/// An object schema's fields: name, type, whether required, description.
fn properties(schema: &Value) -> Markup {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    html! {
        div.table { table {
            thead { tr { th { "field" } th { "type" } th { "description" } } }
            tbody {
                @for (name, field) in schema["properties"].as_object().into_iter().flatten() {
                    tr {
                        td { code { (name) } @if !required.contains(&name.as_str()) { " (optional)" } }
                        td { code { (schema_name(field)) } }
                        td { (prose(text(&field["description"]))) }
                    }
                }
            }
        } }
    }
}

/// One operation.
fn entry(path: &str, method: &str, operation: &Value) -> Markup {
    let id = operation["operationId"].as_str().unwrap_or_default();
    let signed_in = operation["security"]
        .as_array()
        .is_some_and(|s| !s.is_empty());
    let limit = operation["x-rate-limit"].as_str().unwrap_or("api");
    let parameters = operation["parameters"].as_array().filter(|p| !p.is_empty());
    html! {
        section.op id=[(!id.is_empty()).then_some(id)] {
            h3 {
                span class={ "method method-" (method) } { (method.to_uppercase()) }
                code { (path) }
            }
            @if let Some(summary) = operation["summary"].as_str() { p { (prose(summary)) } }
            @if let Some(description) = operation["description"].as_str() { p { (prose(description)) } }
            p.facts {
                @if signed_in { "Signed in (bearer token)" } @else { "No sign-in" }
                " · rate limit " code { (limit) }
            }
            @if let Some(parameters) = parameters {
                div.table { table {
                    thead { tr { th { "parameter" } th { "in" } th { "type" } th { "description" } } }
                    tbody {
                        @for parameter in parameters {
                            tr {
                                td {
                                    code { (text(&parameter["name"])) }
                                    @if parameter["required"] != Value::Bool(true) { " (optional)" }
                                }
                                td { (text(&parameter["in"])) }
                                td { code { (schema_name(&parameter["schema"])) } }
                                td { (prose(text(&parameter["description"]))) }
                            }
                        }
                    }
                } }
            }
            @if operation["requestBody"].is_object() {
                p {
                    "Request body: " (contents(&operation["requestBody"]["content"]))
                    @if operation["requestBody"]["required"] != Value::Bool(true) { " (optional)" }
                }
            }
            div.table { table {
                thead { tr { th { "answer" } th { "body" } th { "description" } } }
                tbody {
                    @for (status, response) in operation["responses"].as_object().into_iter().flatten() {
                        tr {
                            td { code { (status) } }
                            td { (contents(&response["content"])) }
                            td { (text(&response["description"])) }
                        }
                    }
                }
            } }
        }
    }
}

/// A body's media types and the schema of each: `ErrorBody
/// (application/json)`.
fn contents(content: &Value) -> Markup {
    html! {
        @for (i, (media, body)) in content.as_object().into_iter().flatten().enumerate() {
            @if i > 0 { "; " }
            @if body["schema"].is_object() { code { (schema_name(&body["schema"])) } " " }
            "(" (media) ")"
        }
    }
}

/// A schema as a short name: a reference's target, `[Item]` for a list,
/// `A | B` for alternatives, else its type (and format).
fn schema_name(schema: &Value) -> String {
    if let Some(target) = schema["$ref"].as_str() {
        return target.rsplit('/').next().unwrap_or(target).to_string();
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(options) = schema[key].as_array() {
            let joint = if key == "allOf" { " & " } else { " | " };
            return options
                .iter()
                .map(schema_name)
                .collect::<Vec<_>>()
                .join(joint);
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let named: Vec<String> = types
        .iter()
        .map(|t| match *t {
            "array" => format!("[{}]", schema_name(&schema["items"])),
            t => match schema["format"].as_str() {
                Some(format) => format!("{t} ({format})"),
                None => t.to_string(),
            },
        })
        .collect();
    if named.is_empty() {
        "any".to_string()
    } else {
        named.join(" | ")
    }
}

/// Read operations first on a path, then writes.
fn method_rank(method: &str) -> u8 {
    match method {
        "get" => 0,
        "post" => 1,
        "put" => 2,
        "patch" => 3,
        "delete" => 4,
        _ => 5,
    }
}

/// Documentation text, its `code` spans set as code (everything escaped).
fn prose(text: &str) -> Markup {
    html! {
        @for (i, part) in text.split('`').enumerate() {
            @if i % 2 == 1 { code { (part) } } @else { (part) }
        }
    }
}

/// A JSON string as text; anything else (a missing key) as nothing.
fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schemas_read_as_short_names() {
        let cases = [
            (json!({"$ref": "#/components/schemas/Ticket"}), "Ticket"),
            (
                json!({"type": "array", "items": {"$ref": "#/components/schemas/Event"}}),
                "[Event]",
            ),
            (json!({"type": ["string", "null"]}), "string | null"),
            (json!({"type": "string", "format": "uuid"}), "string (uuid)"),
            (
                json!({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/UserRef"}]}),
                "null | UserRef",
            ),
            (json!({}), "any"),
        ];
        for (schema, name) in cases {
            assert_eq!(schema_name(&schema), name, "{schema}");
        }
    }

    #[test]
    fn operations_are_grouped_by_tag_in_the_documents_order() {
        let op = |tag: &str| json!({"tags": [tag]});
        let doc = json!({
            "tags": [{"name": "tickets"}, {"name": "embed"}],
            "paths": {
                "/t/{token}": {"get": op("embed")},
                "/api/v1/tickets/{id}": {"patch": op("tickets"), "get": op("tickets")},
                "/api/v1/tickets": {"post": op("tickets")},
                "/api/v1/users": {"get": {}},
                "/health": {"get": {}},
            },
        });
        let listed: Vec<(String, Vec<(&str, &str)>)> = grouped(&doc)
            .into_iter()
            .map(|(group, ops)| (group, ops.iter().map(|(p, m, _)| (*p, *m)).collect()))
            .collect();
        assert_eq!(
            listed,
            vec![
                (
                    "tickets".to_string(),
                    vec![
                        ("/api/v1/tickets", "post"),
                        ("/api/v1/tickets/{id}", "get"),
                        ("/api/v1/tickets/{id}", "patch"),
                    ]
                ),
                ("embed".to_string(), vec![("/t/{token}", "get")]),
                ("operations".to_string(), vec![("/health", "get")]),
                ("users".to_string(), vec![("/api/v1/users", "get")]),
            ]
        );
    }

    #[test]
    fn code_spans_are_code_and_everything_is_escaped() {
        let html = prose("With `If-Match: <v>` & <b>").into_string();
        assert_eq!(
            html,
            "With <code>If-Match: &lt;v&gt;</code> &amp; &lt;b&gt;"
        );
    }
}
