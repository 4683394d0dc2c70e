//! What the awsJson 1.1 services of the mock (CloudTrail, Organizations) share: the content
//! type, request ids, the `{"__type", message}` error envelope with `x-amzn-ErrorType`, the
//! SigV4 caller lookup, and the optional JSON body.

use crate::aws::{credential_scope, find_caller, Caller, CredentialScope};
use crate::wire::{guid, json_response};
use crate::MockState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// A fresh request id for every answer, stable across runs (a counter per process).
pub(crate) fn request_id(service: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    guid(&format!(
        "{service}-request/{}",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// An error answer: `body` is the service's `{"__type": code, …}` object.
pub(crate) fn error(service: &str, status: StatusCode, code: &str, body: Value) -> Response {
    json_response(
        status,
        CONTENT_TYPE,
        &[
            ("x-amzn-ErrorType", code.to_string()),
            ("x-amzn-RequestId", request_id(service)),
        ],
        body.to_string(),
    )
}

/// A 200 answer.
pub(crate) fn ok(service: &str, body: String) -> Response {
    json_response(
        StatusCode::OK,
        CONTENT_TYPE,
        &[("x-amzn-RequestId", request_id(service))],
        body,
    )
}

/// The caller of a signed request, or the awsJson answer for a missing or unknown key
/// (`bad_request` renders it in the service's own envelope).
pub(crate) fn caller<'a>(
    state: &'a MockState,
    headers: &HeaderMap,
    bad_request: impl Fn(&str, &str) -> Response,
) -> Result<(Caller<'a>, CredentialScope), Box<Response>> {
    let Some(scope) = credential_scope(headers) else {
        return Err(Box::new(bad_request(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        )));
    };
    match find_caller(state, &scope.access_key) {
        Some(caller) => Ok((caller, scope)),
        None => Err(Box::new(bad_request(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ))),
    }
}

/// The request body; an empty one is the request with every member absent.
pub(crate) fn body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> serde_json::Result<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        serde_json::from_slice(body)
    }
}
