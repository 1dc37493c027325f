//! Server-Sent Events as both model APIs stream them: events separated by a blank line, each
//! carrying its payload on `data:` lines. Comments, ids and retry hints are not used by either,
//! so they are skipped. (A crate for this would bring a parser-combinator library along for
//! thirty lines.)

use std::collections::VecDeque;

use futures_util::{Stream, StreamExt};

/// The `data` of each event of `response`, in order, as the bytes arrive.
pub fn data_events(
    response: reqwest::Response,
) -> impl Stream<Item = Result<String, reqwest::Error>> + Send {
    let state = Reader {
        bytes: Box::pin(response.bytes_stream()),
        buffer: Vec::new(),
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
                    reader.buffer.extend_from_slice(&chunk);
                    reader.take_events(false);
                }
                Some(Err(error)) => {
                    reader.ended = true;
                    return Some((Err(error), reader));
                }
                None => {
                    reader.ended = true;
                    reader.take_events(true);
                }
            }
        }
    })
}

type ByteStream =
    std::pin::Pin<Box<dyn Stream<Item = Result<axum::body::Bytes, reqwest::Error>> + Send>>;

struct Reader {
    bytes: ByteStream,
    buffer: Vec<u8>,
    ready: VecDeque<String>,
    ended: bool,
}

impl Reader {
    /// Moves every complete event out of the buffer (at the end, the rest too).
    fn take_events(&mut self, at_end: bool) {
        loop {
            let boundary = find_blank_line(&self.buffer);
            let (block, consumed) = match boundary {
                Some((at, length)) => (self.buffer[..at].to_vec(), at + length),
                None if at_end && !self.buffer.is_empty() => {
                    (self.buffer.clone(), self.buffer.len())
                }
                None => return,
            };
            self.buffer.drain(..consumed);
            if let Some(data) = data_of(&String::from_utf8_lossy(&block)) {
                self.ready.push_back(data);
            }
        }
    }
}

/// Where the first blank line (`\n\n` or `\r\n\r\n`) starts, and its length.
fn find_blank_line(buffer: &[u8]) -> Option<(usize, usize)> {
    let lf = buffer
        .windows(2)
        .position(|pair| pair == b"\n\n")
        .map(|at| (at, 2));
    let crlf = buffer
        .windows(4)
        .position(|quad| quad == b"\r\n\r\n")
        .map(|at| (at, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// An event's `data` lines joined by line breaks; `None` for an event without any.
fn data_of(block: &str) -> Option<String> {
    let lines: Vec<&str> = block
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(|data| data.strip_prefix(' ').unwrap_or(data))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_events_data_lines_are_joined_and_the_rest_skipped() {
        assert_eq!(
            data_of(": ping\nid: 3\ndata: {\"a\":\ndata:1}"),
            Some("{\"a\":\n1}".into())
        );
        assert_eq!(data_of("event: ping"), None);
    }

    #[test]
    fn events_end_at_the_first_blank_line_of_either_kind() {
        assert_eq!(find_blank_line(b"data: a\r\n\r\ndata: b\n\n"), Some((7, 4)));
        assert_eq!(find_blank_line(b"data: a\n\ndata: b\r\n\r\n"), Some((7, 2)));
        assert_eq!(find_blank_line(b"data: a\n"), None);
    }
}
