//! Server-Sent Events framing, read on both ends: the server reads the model APIs' streams with
//! it, the browser reads the Studio's caption stream. Events are separated by a blank line and
//! carry their payload on `data:` lines; their name (`event:`) is kept, comments, ids and retry
//! hints are skipped. (A crate for this would bring a parser-combinator library along for
//! thirty lines.)

/// One event: its name, if it has one, and its `data` lines joined by line breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEvent {
    pub name: Option<String>,
    pub data: String,
}

/// Bytes as they arrive, cut into events.
#[derive(Debug, Default)]
pub struct EventStreamBuffer {
    buffer: Vec<u8>,
}

impl EventStreamBuffer {
    /// Adds `bytes` and takes out every event they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<StreamEvent> {
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some((at, length)) = find_blank_line(&self.buffer) {
            let block: Vec<u8> = self.buffer.drain(..at + length).take(at).collect();
            events.extend(event_of(&String::from_utf8_lossy(&block)));
        }
        events
    }

    /// The stream ended: what is left is the last event, if it carries data.
    pub fn finish(&mut self) -> Option<StreamEvent> {
        let block = std::mem::take(&mut self.buffer);
        event_of(&String::from_utf8_lossy(&block))
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

/// An event block's name and data; `None` for a block without data.
fn event_of(block: &str) -> Option<StreamEvent> {
    let field = |line: &str, name: &str| {
        line.strip_prefix(name)
            .map(|value| value.strip_prefix(' ').unwrap_or(value).to_owned())
    };
    let data: Vec<String> = block
        .lines()
        .filter_map(|line| field(line, "data:"))
        .collect();
    (!data.is_empty()).then(|| StreamEvent {
        name: block.lines().find_map(|line| field(line, "event:")),
        data: data.join("\n"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_events_data_lines_are_joined_and_the_rest_skipped() {
        let event = event_of(": ping\nevent: done\nid: 3\ndata: {\"a\":\ndata:1}").unwrap();
        assert_eq!(event.data, "{\"a\":\n1}");
        assert_eq!(event.name.as_deref(), Some("done"));
        assert_eq!(event_of("event: ping"), None);
    }

    #[test]
    fn events_end_at_the_first_blank_line_of_either_kind() {
        assert_eq!(find_blank_line(b"data: a\r\n\r\ndata: b\n\n"), Some((7, 4)));
        assert_eq!(find_blank_line(b"data: a\n\ndata: b\r\n\r\n"), Some((7, 2)));
        assert_eq!(find_blank_line(b"data: a\n"), None);
    }

    #[test]
    fn events_split_anywhere_across_chunks_come_out_whole_and_in_order() {
        let stream = "data: one\n\n: keep-alive\n\nevent: piece\ndata: twé\r\n\r\ndata: three";
        for cut in 0..stream.len() {
            let mut buffer = EventStreamBuffer::default();
            let mut events = buffer.push(&stream.as_bytes()[..cut]);
            events.extend(buffer.push(&stream.as_bytes()[cut..]));
            events.extend(buffer.finish());
            let data: Vec<&str> = events.iter().map(|event| event.data.as_str()).collect();
            assert_eq!(data, ["one", "twé", "three"], "cut at {cut}");
        }
    }
}
