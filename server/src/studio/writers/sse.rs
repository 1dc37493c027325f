//! Server-Sent Events as both model APIs stream them, framed by the app's
//! [`EventStreamBuffer`]: only the events' data is used.

use std::collections::VecDeque;

use futures_util::{Stream, StreamExt};

use app::types::EventStreamBuffer;

/// The `data` of each event of `response`, in order, as the bytes arrive.
pub fn data_events(
    response: reqwest::Response,
) -> impl Stream<Item = Result<String, reqwest::Error>> + Send {
    let state = Reader {
        bytes: Box::pin(response.bytes_stream()),
        buffer: EventStreamBuffer::default(),
        ready: VecDeque::new(),
        ended: false,
    };
    futures_util::stream::unfold(state, |mut reader| async move {
        loop {
            if let Some(event) = reader.ready.pop_front() {
                return Some((Ok(event), reader));
            }
            if reader.ended {
                return None;
            }
            match reader.bytes.next().await {
                Some(Ok(chunk)) => {
                    let events = reader.buffer.push(&chunk);
                    reader
                        .ready
                        .extend(events.into_iter().map(|event| event.data));
                }
                Some(Err(error)) => {
                    reader.ended = true;
                    return Some((Err(error), reader));
                }
                None => {
                    reader.ended = true;
                    reader
                        .ready
                        .extend(reader.buffer.finish().map(|event| event.data));
                }
            }
        }
    })
}

type ByteStream =
    std::pin::Pin<Box<dyn Stream<Item = Result<axum::body::Bytes, reqwest::Error>> + Send>>;

struct Reader {
    bytes: ByteStream,
    buffer: EventStreamBuffer,
    ready: VecDeque<String>,
    ended: bool,
}
