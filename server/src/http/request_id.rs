//! Request ids: every request gets one (a UUID), logged on each of its lines and echoed in
//! `x-request-id`. A caller's own id is kept for tracing across services, but only when it is
//! short and plain (at most 64 of `[A-Za-z0-9_-]`): anything else could forge log lines or
//! carry markup into a log viewer, and is replaced.

use axum::extract::Request;

use super::REQUEST_ID_HEADER;

/// The longest request id kept from a client.
pub const MAX_LEN: usize = 64;

fn is_usable(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-'))
}

/// Before the id is assigned (a `MapRequest` layer): removes a client id that is not usable,
/// so a fresh one is made.
pub fn drop_unusable_request_id(mut request: Request) -> Request {
    let unusable = request
        .headers()
        .get_all(REQUEST_ID_HEADER)
        .iter()
        .enumerate()
        .any(|(index, id)| index > 0 || !is_usable(id.as_bytes()));
    if unusable {
        request.headers_mut().remove(REQUEST_ID_HEADER);
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_short_ids_are_kept_and_others_are_not() {
        assert!(is_usable(b"trace-me_42"));
        assert!(is_usable(&[b'a'; 64]));
        assert!(!is_usable(&[b'a'; 65]));
        assert!(!is_usable(b""));
        assert!(!is_usable(b"two words"));
        assert!(!is_usable(b"id\nforged=1"));
        assert!(!is_usable("caf\u{e9}".as_bytes()));
    }

    proptest! {
        #[test]
        fn a_kept_id_is_always_safe_to_log(id in prop::collection::vec(any::<u8>(), 0..80)) {
            if is_usable(&id) {
                prop_assert!(id.len() <= MAX_LEN);
                prop_assert!(id.iter().all(|b| b.is_ascii_graphic() && *b != b'"' && *b != b'\\'));
            }
        }
    }
}
