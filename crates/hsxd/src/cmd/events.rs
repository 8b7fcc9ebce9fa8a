//! Event streaming: `events.subscribe`, `events.ack`, `events.unsubscribe`
//! (protocol.md §2.5, §4). After subscribing, the same connection keeps serving requests;
//! replies and event lines are interleaved, each line whole.

use serde_json::{Value, json};

use crate::args::{self, Obj, display_value, field};
use crate::context::{Ctx, Outcome, PostAction};
use crate::error::ProtoError;
use crate::events::{CloseReason, EventFilter, SubscribeParams};
use crate::reply::Reply;

/// `events.subscribe` filters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubscribeArgs {
    /// Only these PIDs.
    pub pids: Option<Vec<u32>>,
    /// Only these types (or group names).
    pub categories: Option<Vec<String>>,
    /// Replay history after this seq.
    pub since_seq: Option<u64>,
}

pub(crate) fn parse_subscribe(obj: &Obj) -> Result<SubscribeArgs, ProtoError> {
    let filters = match field(obj, "filters") {
        None => return Ok(SubscribeArgs::default()),
        Some(Value::Object(f)) => f,
        // A list or a string is a client mistake; streaming everything would hide it.
        Some(_) => {
            return Err(ProtoError::msg(
                "invalid_filters:filters must be an object or null",
            ));
        }
    };
    let pids = match field(filters, "pid") {
        None => None,
        Some(v) => {
            let items: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                one => vec![one],
            };
            let mut pids = Vec::with_capacity(items.len());
            for item in items {
                pids.push(
                    args::parse_int(item)
                        .and_then(|p| u32::try_from(p).ok())
                        .ok_or_else(|| ProtoError::msg("filters.pid must contain integer PIDs"))?,
                );
            }
            Some(pids)
        }
    };
    let categories = field(filters, "categories").map(|v| match v {
        Value::Array(a) => a.iter().map(display_value).collect(),
        one => vec![display_value(one)],
    });
    let since_seq = match field(filters, "since_seq") {
        None => None,
        Some(v) => {
            let n = args::parse_int(v).ok_or_else(|| {
                ProtoError::msg("filters.since_seq must be an integer when provided")
            })?;
            if n < 0 {
                return Err(ProtoError::msg("filters.since_seq must be non-negative"));
            }
            Some(u64::try_from(n).map_err(|_| {
                ProtoError::msg("filters.since_seq must be an integer when provided")
            })?)
        }
    };
    Ok(SubscribeArgs {
        pids,
        categories,
        since_seq,
    })
}

pub(crate) fn parse_ack(obj: &Obj) -> Result<u64, ProtoError> {
    let v = field(obj, "seq").ok_or_else(|| ProtoError::msg("events.ack requires 'seq'"))?;
    let n =
        args::parse_int(v).ok_or_else(|| ProtoError::msg("events.ack seq must be an integer"))?;
    if n < 0 {
        return Err(ProtoError::msg("ack seq must be non-negative"));
    }
    Ok(u64::try_from(n).unwrap_or(u64::MAX))
}

pub(crate) fn subscribe(ctx: &Ctx<'_>, a: SubscribeArgs) -> Result<Outcome, ProtoError> {
    let sid = ctx.session.ok_or(ProtoError::SessionRequired)?;
    let max_events = ctx
        .daemon()
        .with_sessions(|t| t.get(sid).map(|s| s.max_events))
        .ok_or(ProtoError::SessionRequired)?;
    let filter = EventFilter::new(a.pids.clone(), a.categories.clone())?;
    let token = format!("{sid}:{}", crate::ids::uuid4());
    let params = SubscribeParams {
        session: sid.to_string(),
        conn: ctx.conn,
        filter,
        since_seq: a.since_seq,
        max_events: usize::try_from(max_events).unwrap_or(usize::MAX),
    };
    let limit = ctx
        .peer
        .map_or(crate::policy::Limits::default().subscribers, |p| {
            p.policy.limits.subscribers
        });
    let ack = ctx.daemon().bus().with_hub(|hub, now| {
        if hub.others(sid, ctx.conn) >= limit {
            return Err(ProtoError::msg("subscriber_limit"));
        }
        hub.subscribe(params, token, now)
    })?;
    ctx.dmesg().log(
        ctx.now(),
        "info",
        "events subscribed",
        json!({"session_id": sid, "token": ack.handle.token, "pid": a.pids, "categories": a.categories}),
    );
    Ok(Outcome::reply(Reply::with("events", ack.to_json()))
        .then(PostAction::Subscribed(ack.handle)))
}

pub(crate) fn ack(ctx: &Ctx<'_>, seq: u64) -> Result<Outcome, ProtoError> {
    let sid = ctx.session.ok_or(ProtoError::SessionRequired)?;
    let metrics = ctx
        .daemon()
        .bus()
        .with_hub(|hub, _| hub.ack(sid, seq))
        .ok_or(ProtoError::SessionRequired)?;
    Ok(Reply::with("events", metrics.to_json()).into())
}

pub(crate) fn unsubscribe(ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
    let sid = ctx.session.ok_or(ProtoError::SessionRequired)?;
    let removed = ctx
        .daemon()
        .bus()
        .with_hub(|hub, _| hub.unsubscribe_session(sid, CloseReason::Unsubscribed, Some(ctx.conn)));
    Ok(Reply::with("unsubscribed", json!(removed)).into())
}
