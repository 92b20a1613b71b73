//! Line-oriented bodies over a byte stream whose chunks split lines
//! anywhere: the NDJSON of a bootstrap and the `text/event-stream` of
//! events. Each parser holds at most one unfinished line, so memory stays
//! flat however long the stream.

use std::collections::VecDeque;

use futures_util::{Stream, StreamExt, stream};

use super::{BootstrapStream, PokeStream, RemoteError};
use crate::wire::sync::{BootstrapLine, Poke};

/// Splits bytes into lines (`\n`, with an optional `\r` before it).
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    /// Feeds one chunk; returns the lines it completed, without their ends.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<Vec<u8>> {
        let mut lines = Vec::new();
        let mut rest = chunk;
        while let Some(at) = rest.iter().position(|b| *b == b'\n') {
            let mut line = std::mem::take(&mut self.partial);
            line.extend_from_slice(&rest[..at]);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            lines.push(line);
            rest = &rest[at + 1..];
        }
        self.partial.extend_from_slice(rest);
        lines
    }

    /// The last line, if the stream ended without a newline after it.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        let line = std::mem::take(&mut self.partial);
        (!line.is_empty()).then_some(line)
    }
}

/// Parses `text/event-stream` into pokes: `data: {"seq": N}` (or, failing
/// that, `id: N`), one event per blank line; `:` comments (keep-alives)
/// and other fields are ignored.
#[derive(Debug, Default)]
pub struct SseParser {
    lines: LineSplitter,
    data: String,
    id: Option<u64>,
}

impl SseParser {
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<Poke> {
        let mut pokes = Vec::new();
        for line in self.lines.feed(chunk) {
            if let Some(poke) = self.line(&line) {
                pokes.push(poke);
            }
        }
        pokes
    }

    fn line(&mut self, line: &[u8]) -> Option<Poke> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(b":") {
            return None;
        }
        let line = String::from_utf8_lossy(line);
        let (field, value) = line.split_once(':').unwrap_or((&line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "data" => {
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data.push_str(value);
            }
            "id" => self.id = value.trim().parse().ok(),
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<Poke> {
        let data = std::mem::take(&mut self.data);
        let id = self.id.take();
        serde_json::from_str::<Poke>(&data)
            .ok()
            .or_else(|| id.map(|seq| Poke { seq }))
    }
}

/// Bootstrap lines from a body. A read error ends the stream with that
/// error; whether the stream was complete is the reader's check (`_meta`
/// and its `count`).
pub fn ndjson<S, B>(body: S) -> BootstrapStream
where
    S: Stream<Item = Result<B, RemoteError>> + Send + 'static,
    B: AsRef<[u8]>,
{
    let state = (
        Box::pin(body),
        LineSplitter::default(),
        VecDeque::new(),
        false,
    );
    Box::pin(stream::unfold(
        state,
        |(mut body, mut splitter, mut ready, mut ended)| async move {
            loop {
                if let Some(line) = ready.pop_front() {
                    let line: Vec<u8> = line;
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    let parsed =
                        BootstrapLine::parse(&line).map_err(|e| RemoteError::Decode(Box::new(e)));
                    return Some((parsed, (body, splitter, ready, ended)));
                }
                if ended {
                    return None;
                }
                match body.next().await {
                    Some(Ok(chunk)) => ready.extend(splitter.feed(chunk.as_ref())),
                    Some(Err(e)) => {
                        ended = true;
                        ready.clear();
                        return Some((Err(e), (body, splitter, ready, ended)));
                    }
                    None => {
                        ended = true;
                        ready.extend(splitter.finish());
                    }
                }
            }
        },
    ))
}

/// Pokes from an event-stream body; ends when the body does.
pub fn sse<S, B>(body: S) -> PokeStream
where
    S: Stream<Item = Result<B, RemoteError>> + Send + 'static,
    B: AsRef<[u8]>,
{
    let state = (Box::pin(body), SseParser::default(), VecDeque::new());
    Box::pin(stream::unfold(
        state,
        |(mut body, mut parser, mut ready)| async move {
            loop {
                if let Some(poke) = ready.pop_front() {
                    return Some((Ok(poke), (body, parser, ready)));
                }
                match body.next().await? {
                    Ok(chunk) => ready.extend(parser.feed(chunk.as_ref())),
                    Err(e) => return Some((Err(e), (body, parser, ready))),
                }
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    fn chunks(parts: &[&str]) -> impl Stream<Item = Result<Vec<u8>, RemoteError>> + Send + 'static {
        let parts: Vec<Result<Vec<u8>, RemoteError>> =
            parts.iter().map(|p| Ok(p.as_bytes().to_vec())).collect();
        stream::iter(parts)
    }

    #[test]
    fn lines_survive_any_chunking() {
        let text = "one\r\ntwo\n\nthree";
        for cut in 0..text.len() {
            let mut s = LineSplitter::default();
            let mut lines = s.feed(&text.as_bytes()[..cut]);
            lines.extend(s.feed(&text.as_bytes()[cut..]));
            lines.extend(s.finish());
            assert_eq!(
                lines,
                vec![b"one".to_vec(), b"two".to_vec(), vec![], b"three".to_vec()],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn sse_reads_data_and_ids_and_skips_comments() {
        let mut p = SseParser::default();
        let mut pokes = p.feed(b": keep-alive\n\nid: 4\ndata: {\"se");
        pokes.extend(p.feed(b"q\":4}\n\nid: 9\n\n"));
        pokes.extend(p.feed(b"event: x\r\ndata: junk\r\nid: 11\r\n\r\n"));
        assert_eq!(
            pokes,
            vec![Poke { seq: 4 }, Poke { seq: 9 }, Poke { seq: 11 }]
        );
    }

    #[test]
    fn ndjson_yields_tickets_then_meta_and_keeps_a_final_unterminated_line() {
        let meta = r#"{"_meta":{"seq":3,"epoch":"e","count":0,"users":[]}}"#;
        let mut s = ndjson(chunks(&["\n", &meta[..10], &meta[10..]]));
        let first = s.next().now_or_never().flatten();
        assert!(matches!(first, Some(Ok(BootstrapLine::Meta(m))) if m.seq == 3));
        assert!(s.next().now_or_never().flatten().is_none());
    }

    #[test]
    fn ndjson_passes_a_broken_body_on_as_an_error_and_stops() {
        let body = stream::iter(vec![
            Ok(b"{\"_me".to_vec()),
            Err(RemoteError::network("cut")),
        ]);
        let mut s = ndjson(body);
        assert!(matches!(
            s.next().now_or_never().flatten(),
            Some(Err(RemoteError::Network(_)))
        ));
        assert!(s.next().now_or_never().flatten().is_none());
    }

    #[test]
    fn sse_stream_yields_pokes() {
        let mut s = sse(chunks(&[
            "data: {\"seq\":1}\n",
            "\n:\n\ndata: {\"seq\":2}\n\n",
        ]));
        let got: Vec<u64> = std::iter::from_fn(|| s.next().now_or_never().flatten())
            .filter_map(|p| p.ok().map(|p| p.seq))
            .collect();
        assert_eq!(got, vec![1, 2]);
    }
}
