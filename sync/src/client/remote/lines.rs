//! Line-oriented bodies over a byte stream whose chunks split lines
//! anywhere: the NDJSON of a bootstrap and the `text/event-stream` of
//! events, framed by tokio-util's `LinesCodec` with a cap on a line's
//! length, so a broken or hostile server cannot make the console allocate
//! without bound. A stream ends after its first error.

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use tokio_util::{
    codec::{FramedRead, LinesCodec, LinesCodecError},
    io::StreamReader,
};

use super::{BootstrapStream, PokeStream, RemoteError};
use crate::wire::{
    mark::Cursor,
    sync::{BootstrapLine, Poke},
};

/// The longest bootstrap line: one ticket with every comment it holds (at
/// the server's default cap, 1,000 comments of 20,000 four-byte characters
/// are 80 MB).
pub const BOOTSTRAP_LINE_MAX: usize = 128 * 1024 * 1024;
/// The longest event-stream line: pokes are a few bytes.
pub const EVENT_LINE_MAX: usize = 64 * 1024;

/// The lines of `body` (`\n`, with an optional `\r` before it), each at most
/// `max` bytes; a longer one, or a broken body, is the stream's last item.
fn lines<S, B>(body: S, max: usize) -> impl Stream<Item = Result<String, RemoteError>> + Send
where
    S: Stream<Item = Result<B, RemoteError>> + Send + 'static,
    B: Into<Bytes> + 'static,
{
    let reader = StreamReader::new(body.map_ok(Into::into).map_err(std::io::Error::other));
    let framed = FramedRead::new(reader, LinesCodec::new_with_max_length(max));
    framed
        .map(move |line| line.map_err(|e| line_error(e, max)))
        .scan(false, |failed, line| {
            let item = (!*failed).then(|| {
                *failed = line.is_err();
                line
            });
            std::future::ready(item)
        })
}

fn line_error(err: LinesCodecError, max: usize) -> RemoteError {
    match err {
        LinesCodecError::MaxLineLengthExceeded => {
            RemoteError::Decode(format!("the server sent a line longer than {max} bytes").into())
        }
        // The body's own error, passed through the reader.
        LinesCodecError::Io(io) => match io.into_inner().map(|e| e.downcast::<RemoteError>()) {
            Some(Ok(remote)) => *remote,
            Some(Err(other)) => RemoteError::Network(other),
            None => RemoteError::network("the body could not be read"),
        },
    }
}

/// Parses `text/event-stream` into pokes: `data: {"seq": N}` (or, failing
/// that, `id: N`), one event per blank line; `:` comments (keep-alives)
/// and other fields are ignored.
#[derive(Debug, Default)]
pub struct SseParser {
    data: String,
    id: Option<Cursor>,
}

impl SseParser {
    /// Takes one line; a blank one completes an event.
    pub fn line(&mut self, line: &str) -> Option<Poke> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
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
        serde_json::from_str::<Poke>(&data).ok().or_else(|| {
            id.map(|at: Cursor| Poke {
                seq: at.seq,
                mark: at.mark,
            })
        })
    }
}

/// Bootstrap lines from a body. A read error ends the stream with that
/// error; whether the stream was complete is the reader's check (`_meta`
/// and its `count`).
pub fn ndjson<S, B>(body: S) -> BootstrapStream
where
    S: Stream<Item = Result<B, RemoteError>> + Send + 'static,
    B: Into<Bytes> + 'static,
{
    Box::pin(lines(body, BOOTSTRAP_LINE_MAX).filter_map(|line| {
        std::future::ready(match line {
            Ok(line) if line.trim().is_empty() => None,
            Ok(line) => Some(
                BootstrapLine::parse(line.as_bytes()).map_err(|e| RemoteError::Decode(Box::new(e))),
            ),
            Err(e) => Some(Err(e)),
        })
    }))
}

/// Pokes from an event-stream body; ends when the body does.
pub fn sse<S, B>(body: S) -> PokeStream
where
    S: Stream<Item = Result<B, RemoteError>> + Send + 'static,
    B: Into<Bytes> + 'static,
{
    let pokes = lines(body, EVENT_LINE_MAX).scan(SseParser::default(), |parser, line| {
        std::future::ready(Some(match line {
            Ok(line) => parser.line(&line).map(Ok),
            Err(e) => Some(Err(e)),
        }))
    });
    Box::pin(pokes.filter_map(std::future::ready))
}

#[cfg(test)]
mod tests {
    use futures_util::{FutureExt, stream};

    use super::*;

    fn chunks(parts: &[&str]) -> impl Stream<Item = Result<Vec<u8>, RemoteError>> + Send + 'static {
        let parts: Vec<Result<Vec<u8>, RemoteError>> =
            parts.iter().map(|p| Ok(p.as_bytes().to_vec())).collect();
        stream::iter(parts)
    }

    fn all<T>(mut s: impl Stream<Item = T> + Unpin) -> Vec<T> {
        std::iter::from_fn(|| s.next().now_or_never().flatten()).collect()
    }

    #[test]
    fn lines_survive_any_chunking() {
        let text = "one\r\ntwo\n\nthree";
        for cut in 0..text.len() {
            let got: Vec<String> = all(Box::pin(lines(chunks(&[&text[..cut], &text[cut..]]), 100)))
                .into_iter()
                .map(Result::unwrap)
                .collect();
            assert_eq!(got, vec!["one", "two", "", "three"], "cut at {cut}");
        }
    }

    #[test]
    fn sse_reads_data_and_ids_and_skips_comments() {
        use crate::wire::mark::Mark;
        let s = sse(chunks(&[
            ": keep-alive\n\nid: 4\ndata: {\"se",
            "q\":4}\n\nid: 9.00000000000000ab\n\n",
            "event: x\r\ndata: junk\r\nid: 11\r\n\r\n",
        ]));
        let pokes: Vec<Poke> = all(s).into_iter().map(Result::unwrap).collect();
        assert_eq!(
            pokes,
            vec![
                Poke { seq: 4, mark: None },
                Poke {
                    seq: 9,
                    mark: Some(Mark(0xab))
                },
                Poke {
                    seq: 11,
                    mark: None
                }
            ]
        );
    }

    #[test]
    fn a_line_past_the_cap_is_an_error_that_ends_the_stream() {
        // A server that never ends its line: the console reads no further
        // than the cap, however much it sends.
        let endless = stream::iter((0..1000).map(|_| Ok::<_, RemoteError>(vec![b'x'; 1024])));
        let got = all(sse(endless));
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            matches!(&got[0], Err(RemoteError::Decode(e)) if e.to_string().contains("longer than"))
        );
        let huge = format!("{{\"_meta\": \"{}\"}}\n", "x".repeat(100));
        let got = all(Box::pin(lines(chunks(&[&huge, "next\n"]), 64)));
        assert_eq!(got.len(), 1, "nothing after the refused line");
        assert!(got[0].is_err());
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
