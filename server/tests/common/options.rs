//! The options a post to an account needs, as a person would fill them in from
//! `GET /api/connections/{id}/options`: the first choice of each required choice (made new when
//! the account has none), a text for each required text.

use reqwest::StatusCode;
use serde_json::{Value, json};

/// `base` is the app's address, `token` a session of the connection's owner.
pub async fn required_options(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    connection: &str,
) -> Value {
    let path = format!("{base}/api/connections/{connection}/options");
    let response = client.get(&path).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let described: Value = response.json().await.unwrap();
    let mut options = serde_json::Map::new();
    for field in described["fields"].as_array().unwrap() {
        let name = field["name"].as_str().unwrap();
        if field["required"] != true {
            continue;
        }
        let value = match field["kind"].as_str().unwrap() {
            "choice" => match field["choices"].as_array().unwrap().first() {
                Some(choice) => choice["value"].clone(),
                None => {
                    assert_eq!(field["can_add"], true, "{name} has no choices: {described}");
                    let response = client
                        .post(format!("{path}/{name}/choices"))
                        .bearer_auth(token)
                        .json(&json!({ "label": "Conformance" }))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), StatusCode::CREATED);
                    let made: Value = response.json().await.unwrap();
                    made["value"].clone()
                }
            },
            "text" => json!("Conformance"),
            other => panic!("a required {other} field: {described}"),
        };
        options.insert(name.to_owned(), value);
    }
    Value::Object(options)
}
