//! `GET /loki/api/v1/tail`: a log query followed live over a WebSocket,
//! as Loki's querier serves it (`pkg/querier/tail`).
//!
//! Parameters are checked before the upgrade (400, plain text). Then the
//! history comes first (the last `limit` entries since `start`, oldest
//! first), then each acknowledged entry of the reader's scope that the
//! query selects, released once `delay_for` seconds old. Every message holds
//! at most 100 entries, each its own stream object, and reports the
//! entries the tail missed when it fell behind. A ping goes out every
//! second; past the longest tail, an error or the tenant's tail limit, the
//! server closes with 1011 and the reason.

use std::collections::HashSet;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use sightline_core::Direction;
use sightline_engine::{LogTail, LogqlAnswer, LogqlRequest};
use sightline_logeval::query::OutStream;
use sightline_logql::ast::{Expr, LogExpr};
use sightline_plan::ReadScope;

use super::encode::{encoding_flags, tail_entries, tail_message};
use super::params::{
    LokiError, check_entries_limit, now_ns, parse_bounds, parse_limit, parse_query, query_text,
};
use crate::params::Params;
use crate::{AppState, Scope};

/// Most entries in one message (Loki's `maxEntriesPerTailResponse`).
const MAX_ENTRIES_PER_MESSAGE: usize = 100;

/// Longest `delay_for`, in seconds.
const MAX_DELAY_FOR: i64 = 5;

/// Longest a client may leave one message unread before the tail is
/// closed (a slow reader must not hold a tail, or its memory, for ever).
const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// Most entries waiting for `delay_for`; later ones are not kept.
const MAX_PENDING: usize = 10_000;

/// How a tail is bounded.
#[derive(Debug, Clone, Copy)]
pub struct TailLimits {
    /// Open tails per workspace (Loki's `max_concurrent_tail_requests`).
    pub max_per_workspace: usize,
    /// Longest a tail stays open (Loki's `tail_max_duration`).
    pub max_duration: Duration,
}

impl Default for TailLimits {
    fn default() -> Self {
        TailLimits {
            max_per_workspace: 10,
            max_duration: Duration::from_secs(3600),
        }
    }
}

/// What a tail request asks for, checked.
struct TailRequest {
    expr: LogExpr,
    start_ns: i64,
    limit: usize,
    delay_ns: i64,
    categorized: bool,
    flags: Vec<String>,
}

fn parse(p: &Params, headers: &HeaderMap) -> Result<TailRequest, LokiError> {
    let expr = match parse_query(query_text(p))? {
        Expr::Log(l) => l,
        Expr::Metric(_) => return Err(LokiError::bad("only log selector is supported")),
    };
    let limit = parse_limit(p)?;
    check_entries_limit(limit)?;
    let (start_ns, _) = parse_bounds(p, now_ns())?;
    let delay = match p.get("delay_for").filter(|v| !v.is_empty()) {
        None => 0,
        Some(v) => v.parse::<i64>().map_err(|_| {
            LokiError::bad(format!(
                "strconv.Atoi: parsing {}: invalid syntax",
                sightline_core::gofmt::quote(v)
            ))
        })?,
    };
    if delay > MAX_DELAY_FOR {
        return Err(LokiError::bad(format!(
            "delay_for can't be greater than {MAX_DELAY_FOR}"
        )));
    }
    let flags = encoding_flags(headers);
    Ok(TailRequest {
        expr,
        start_ns,
        limit,
        delay_ns: delay.max(0) * 1_000_000_000,
        categorized: flags.iter().any(|f| f == "categorize-labels"),
        flags,
    })
}

/// `GET /loki/api/v1/tail`.
pub async fn tail(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    p: Params,
) -> Response {
    let checked = (|| {
        let read = scope.read()?;
        let req = parse(&p, &headers)?;
        Ok::<_, LokiError>((read, req))
    })();
    let (read, req) = match checked {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(e) => {
            return LokiError::bad(format!(
                "websocket: the client is not using the websocket protocol: {}",
                e.body_text()
            ))
            .into_response();
        }
    };
    ws.on_upgrade(move |socket| async move {
        serve(s, read, req, socket).await;
    })
}

/// Sends one message; false when the client is gone or has not read for
/// [`SEND_TIMEOUT`].
async fn send(socket: &mut WebSocket, msg: Message) -> bool {
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(msg)).await,
        Ok(Ok(()))
    )
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    // A close reason is at most 123 bytes on the wire.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let frame = CloseFrame {
        code,
        reason: reason[..end].into(),
    };
    send(socket, Message::Close(Some(frame))).await;
}

/// Entries on their way out, oldest first, with what identifies them.
type Outgoing = Vec<(i64, serde_json::Value)>;

async fn send_entries(
    socket: &mut WebSocket,
    entries: &mut Outgoing,
    dropped: Vec<sightline_ingest::DroppedEntry>,
    flags: &[String],
) -> bool {
    entries.sort_by_key(|(ts, _)| *ts);
    let mut dropped = Some(dropped).filter(|d| !d.is_empty());
    if entries.is_empty() && dropped.is_none() {
        return true;
    }
    let batches: Vec<Vec<serde_json::Value>> = if entries.is_empty() {
        vec![Vec::new()]
    } else {
        entries
            .drain(..)
            .map(|(_, v)| v)
            .collect::<Vec<_>>()
            .chunks(MAX_ENTRIES_PER_MESSAGE)
            .map(<[_]>::to_vec)
            .collect()
    };
    for batch in batches {
        let text = tail_message(batch, dropped.take().unwrap_or_default(), flags);
        if !send(socket, Message::Text(text.into())).await {
            return false;
        }
    }
    true
}

async fn history(
    s: &AppState,
    read: &ReadScope,
    req: &TailRequest,
) -> Result<Vec<OutStream>, LokiError> {
    let now = now_ns();
    let r = LogqlRequest {
        start_ns: req.start_ns.min(now),
        end_ns: now,
        step_ns: 0,
        limit: req.limit,
        direction: Direction::Backward,
        interval_ns: 0,
        now_ns: now,
    };
    match s.engine.logql(read, Expr::Log(req.expr.clone()), r).await? {
        LogqlAnswer::Streams(v) => Ok(v),
        LogqlAnswer::Value(_) => Err(LokiError::internal("a log query answered a value")),
    }
}

async fn serve(s: AppState, read: ReadScope, req: TailRequest, mut socket: WebSocket) {
    let limits = s.cfg.tail;
    // Subscribed before the history is read, so that nothing acknowledged
    // in between is missed; what both see is sent once.
    let mut tail: LogTail = match s
        .engine
        .tail_logs(&read, &req.expr, limits.max_per_workspace)
    {
        Ok(t) => t,
        Err(e) => return close(&mut socket, close_code::ERROR, &e.to_string()).await,
    };
    let hist = match history(&s, &read, &req).await {
        Ok(h) => h,
        Err(e) => return close(&mut socket, close_code::ERROR, &e.to_string()).await,
    };
    // What the history sent, by a hash of labels, time and line (not the
    // lines themselves: a history can hold thousands of long lines).
    let key = |labels: &sightline_core::Labels, ts: i64, line: &str| {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        labels.hash(&mut h);
        ts.hash(&mut h);
        line.hash(&mut h);
        h.finish()
    };
    let mut seen: HashSet<u64> = HashSet::new();
    let mut hist_max = i64::MIN;
    for st in &hist {
        for e in &st.entries {
            hist_max = hist_max.max(e.ts_ns);
            seen.insert(key(&st.labels, e.ts_ns, &e.line));
        }
    }
    let mut out: Outgoing = tail_entries(&hist, req.categorized);
    if !send_entries(&mut socket, &mut out, Vec::new(), &req.flags).await {
        return;
    }
    let fresh = |streams: Vec<OutStream>, seen: &HashSet<u64>| {
        let streams: Vec<OutStream> = streams
            .into_iter()
            .map(|mut st| {
                st.entries.retain(|e| {
                    e.ts_ns > hist_max || !seen.contains(&key(&st.labels, e.ts_ns, &e.line))
                });
                st
            })
            .collect();
        tail_entries(&streams, req.categorized)
    };
    let mut pending: Outgoing = Vec::new();
    let mut ping = tokio::time::interval(Duration::from_secs(1));
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut release = tokio::time::interval(Duration::from_millis(500));
    let deadline = tokio::time::sleep(limits.max_duration);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            got = tail.recv() => {
                let Some(first) = got else {
                    return close(&mut socket, close_code::ERROR, "the write path stopped").await;
                };
                let mut records = vec![first];
                while let Some(r) = tail.try_recv() {
                    records.push(r);
                }
                let streams = match tail.select(records, now_ns()).await {
                    Ok(v) => v,
                    Err(e) => return close(&mut socket, close_code::ERROR, &e.to_string()).await,
                };
                let mut fresh = fresh(streams, &seen);
                fresh.truncate(MAX_PENDING.saturating_sub(pending.len()));
                pending.extend(fresh);
                if req.delay_ns == 0
                    && !send_entries(&mut socket, &mut pending, tail.take_dropped(), &req.flags).await
                {
                    return;
                }
            }
            _ = release.tick() => {
                // Entries at least `delay_for` old, and what was dropped.
                let now = now_ns();
                let mut ready: Outgoing;
                (ready, pending) = std::mem::take(&mut pending)
                    .into_iter()
                    .partition(|(ts, _)| ts.saturating_add(req.delay_ns) < now);
                if !send_entries(&mut socket, &mut ready, tail.take_dropped(), &req.flags).await {
                    return;
                }
            }
            _ = ping.tick() => {
                if !send(&mut socket, Message::Ping(Vec::new().into())).await {
                    return;
                }
            }
            msg = socket.recv() => {
                match msg {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                    Some(Ok(_)) => {}
                }
            }
            _ = &mut deadline => {
                return close(&mut socket, close_code::ERROR, "reached tail max duration limit").await;
            }
        }
    }
}
