//! Bearer tokens: the admin token of the operators' routes and the dashboard, and the tokens
//! of `POST /webhooks/registry`, compared in constant time.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::Shared;

/// Whether `Authorization: Bearer <token>` names one of `tokens` (each compared in constant
/// time; an empty list names none).
pub(crate) fn bearer_is_one_of<'a>(
    headers: &HeaderMap,
    tokens: impl IntoIterator<Item = &'a str>,
) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .as_bytes();
    tokens.into_iter().fold(false, |found, token| {
        let token = token.as_bytes();
        let same = given.len() == token.len()
            && given
                .iter()
                .zip(token)
                .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                == 0;
        found | same
    })
}

/// Whether the request may see the operators' routes: always without an admin token,
/// otherwise only with `Authorization: Bearer <token>`.
pub(crate) fn authorized(s: &Shared, headers: &HeaderMap) -> bool {
    match &s.settings.admin_token {
        None => true,
        Some(token) => bearer_is_one_of(headers, [token.as_str()]),
    }
}

/// 401 asking for the admin token.
pub(crate) fn unauthorized() -> Response {
    let mut response = (
        StatusCode::UNAUTHORIZED,
        axum::Json(serde_json::json!({"outcome": "refused", "detail": "give the admin token: Authorization: Bearer <token>"})),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_configured_token_passes() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            h
        };
        let tokens = ["old-token", "new-token"];
        assert!(bearer_is_one_of(&with("Bearer new-token"), tokens));
        assert!(bearer_is_one_of(&with("Bearer old-token"), tokens));
        assert!(!bearer_is_one_of(&with("Bearer new-tokem"), tokens));
        assert!(!bearer_is_one_of(&with("new-token"), tokens));
        assert!(!bearer_is_one_of(&HeaderMap::new(), tokens));
        assert!(!bearer_is_one_of(&with("Bearer "), [] as [&str; 0]));
    }
}
