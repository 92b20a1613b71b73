//! hyper's own answers, given the contract's error body.
//!
//! A request whose head hyper cannot take — a URI over its fixed 64 KiB, a
//! head over its buffer or with too many header lines, bytes that are not
//! HTTP — never reaches the router: hyper answers it itself (400, 414 or
//! 431) with an empty body, then closes the connection, and offers no hook
//! to shape that answer. So the connection's writes pass through
//! [`Bodied`], which recognises such an answer and adds the body.
//!
//! How it is told apart: a head alone, with status 400, 414 or 431 and
//! `content-length: 0`. The router never answers so — every error it sends
//! carries a JSON body — so such a head can only be hyper's.

use std::{
    io,
    pin::Pin,
    task::{Context, Poll, ready},
};

use desk_sync::wire::{ErrorBody, ErrorCode};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connection whose writes get hyper's bodiless error answers a body.
#[derive(Debug)]
pub struct Bodied<T> {
    io: T,
    /// An answer rewritten with its body, and how much of it is written.
    pending: Vec<u8>,
    sent: usize,
}

impl<T> Bodied<T> {
    pub fn new(io: T) -> Self {
        Bodied {
            io,
            pending: Vec::new(),
            sent: 0,
        }
    }
}

impl<T: AsyncWrite + Unpin> Bodied<T> {
    /// Writes what is pending, before anything else.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.pending[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.pending = Vec::new();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }

    /// Takes `head` whole if it is one of hyper's bodiless error answers.
    fn take_bodiless(
        &mut self,
        cx: &mut Context<'_>,
        head: &[u8],
    ) -> Option<Poll<io::Result<usize>>> {
        let with_body = with_body(head)?;
        self.pending = with_body;
        self.sent = 0;
        // Not written yet means written at the next write, flush or close.
        Some(match self.poll_drain(cx) {
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            _ => Poll::Ready(Ok(head.len())),
        })
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Bodied<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Bodied<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_drain(cx))?;
        if let Some(taken) = self.take_bodiless(cx, buf) {
            return taken;
        }
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_drain(cx))?;
        // hyper's error answer is a head alone: one slice.
        if let [head] = bufs
            && let Some(taken) = self.take_bodiless(cx, &head[..])
        {
            return taken;
        }
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// `head` with the contract's body, if it is one of hyper's bodiless error
/// answers.
fn with_body(head: &[u8]) -> Option<Vec<u8>> {
    let status = head.strip_prefix(b"HTTP/1.1 ")?.get(..3)?;
    let message = match status {
        b"400" => "the request is not well-formed HTTP",
        b"414" => "the request's URI is too long",
        b"431" => "the request's header fields are too large or too many",
        _ => return None,
    };
    let text = std::str::from_utf8(head).ok()?;
    let lines = text.strip_suffix("\r\n\r\n")?;
    if lines.contains("\r\n\r\n") {
        return None;
    }
    let mut lines: Vec<&str> = lines.split("\r\n").collect();
    let length = lines
        .iter()
        .position(|line| line.eq_ignore_ascii_case("content-length: 0"))?;
    let body = serde_json::to_vec(&ErrorBody {
        error: ErrorCode::BadRequest,
        message: message.to_string(),
        details: serde_json::json!({}),
    })
    .ok()?;
    let length_line = format!("content-length: {}", body.len());
    lines[length] = &length_line;
    let mut answer = lines.join("\r\n").into_bytes();
    answer.extend_from_slice(b"\r\ncontent-type: application/json\r\n\r\n");
    answer.extend_from_slice(&body);
    Some(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bodiless_400_414_or_431_head_gets_a_body() {
        let head =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let answer = String::from_utf8(with_body(head).unwrap()).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 "));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert!(head.contains("content-type: application/json"));
        let body: ErrorBody = serde_json::from_str(body).unwrap();
        assert_eq!(body.error, ErrorCode::BadRequest);
        // Not hyper's: a body follows, another status, a length.
        assert!(with_body(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}").is_none());
        assert!(with_body(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(with_body(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n").is_none());
        assert!(with_body(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n").is_none());
    }
}
