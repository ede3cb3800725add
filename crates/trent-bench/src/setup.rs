//! Setup before a run: find or create the keys, make the ciphertexts and signatures that
//! decrypt, re-encrypt and verify replay, and build the request bodies.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use bytes::Bytes;
use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::client::{error_code, Connection, Endpoint, Signer};
use crate::load::{Plan, PlannedOp};
use crate::ops::{self, KeyKind, KeyMaterial, Op, MIX_SCHEDULE};
use crate::{BenchArgs, BenchError};

/// Bytes a Trent symmetric ciphertext adds to the plaintext (docs/ciphertext-format.md); used
/// only to size the baseline's synthetic ciphertexts and response.
pub(crate) const CIPHERTEXT_OVERHEAD: usize = 118;

/// How many DescribeKey calls `--reuse-keys` makes per batch while looking for usable keys.
const DESCRIBE_BATCH: usize = 4096;

/// Everything setup needs to talk to the server.
pub(crate) struct Ctx {
    pub(crate) endpoint: Endpoint,
    pub(crate) signer: Signer,
    pub(crate) concurrency: usize,
    pub(crate) progress: bool,
}

/// Creates or finds the keys for `args.op` and builds the plan.
pub(crate) async fn prepare(ctx: &Ctx, args: &BenchArgs) -> Result<Plan, BenchError> {
    let message = ops::payload(args.payload_bytes, 1);
    let Some(kind) = args.op.key_kind() else {
        return Ok(build_plan(args.op, &[], &message));
    };
    let mut key_ids = if args.reuse_keys {
        find_existing_keys(ctx, kind, args.keys).await?
    } else {
        Vec::new()
    };
    let missing = args.keys.saturating_sub(key_ids.len());
    if args.reuse_keys {
        note(
            ctx,
            &format!(
                "setup: reusing {} existing keys, creating {missing}",
                key_ids.len()
            ),
        );
    }
    let body = ops::create_key_body(kind);
    let created = parallel(
        ctx,
        "CreateKey",
        missing,
        move |_| ("TrentService.CreateKey", body.clone()),
        |v| string_at(v, &["KeyMetadata", "KeyId"]),
    )
    .await
    .map_err(|e| unsupported_key(e, args.op, kind))?;
    key_ids.extend(created);
    let mut keys: Vec<KeyMaterial> = key_ids
        .into_iter()
        .map(|key_id| KeyMaterial {
            key_id,
            ..KeyMaterial::default()
        })
        .collect();

    let members = args.op.members();
    if members
        .iter()
        .any(|op| matches!(op, Op::Decrypt | Op::ReEncrypt))
    {
        let ciphertexts = per_key_call(
            ctx,
            &keys,
            "Encrypt",
            "TrentService.Encrypt",
            json!({"Plaintext": B64.encode(&message)}),
            "CiphertextBlob",
        )
        .await?;
        for (key, ciphertext) in keys.iter_mut().zip(ciphertexts) {
            key.ciphertext = Some(ciphertext);
        }
    }
    if members.contains(&Op::Verify) {
        let signatures = per_key_call(
            ctx,
            &keys,
            "Sign",
            "TrentService.Sign",
            json!({
                "Message": B64.encode(&message),
                "MessageType": "RAW",
                "SigningAlgorithm": crate::ops::signing().1,
            }),
            "Signature",
        )
        .await
        .map_err(|e| unsupported_key(e, args.op, kind))?;
        for (key, signature) in keys.iter_mut().zip(signatures) {
            key.signature = Some(signature);
        }
    }
    Ok(build_plan(args.op, &keys, &message))
}

/// The baseline's plan: the same request shapes and sizes with made-up key ids, ciphertexts and
/// signatures, and no calls.
pub(crate) fn synthetic(args: &BenchArgs) -> Plan {
    let message = ops::payload(args.payload_bytes, 1);
    let keys: Vec<KeyMaterial> = if args.op.key_kind().is_some() {
        (0..args.keys)
            .map(|i| KeyMaterial {
                key_id: synthetic_key_id(i),
                ciphertext: Some(ops::payload(
                    args.payload_bytes + CIPHERTEXT_OVERHEAD,
                    i as u64 + 2,
                )),
                signature: Some(ops::payload(72, i as u64 + 3)),
            })
            .collect()
    } else {
        Vec::new()
    };
    build_plan(args.op, &keys, &message)
}

/// A key id in UUID form, for the baseline.
pub(crate) fn synthetic_key_id(i: usize) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", i & 0xffff_ffff, i)
}

fn build_plan(op: Op, keys: &[KeyMaterial], message: &[u8]) -> Plan {
    let members = op.members();
    let ops = members
        .iter()
        .map(|&member| {
            let bodies = if keys.is_empty() {
                ops::body(
                    member,
                    &KeyMaterial::default(),
                    &KeyMaterial::default(),
                    message,
                )
                .into_iter()
                .collect()
            } else {
                keys.iter()
                    .enumerate()
                    .filter_map(|(i, key)| {
                        ops::body(member, key, &keys[(i + 1) % keys.len()], message)
                    })
                    .collect()
            };
            PlannedOp {
                target: member.target(),
                bodies,
            }
        })
        .collect();
    let schedule = if op == Op::Mix {
        MIX_SCHEDULE
            .iter()
            .filter_map(|s| members.iter().position(|m| m == s))
            .collect()
    } else {
        vec![0]
    };
    Plan { ops, schedule }
}

/// A call failed during setup.
fn setup_error(call: &'static str, code: String, message: String) -> BenchError {
    BenchError::Setup {
        call,
        code,
        message,
    }
}

/// Turns "the server cannot make or use this kind of key" into a clear error.
fn unsupported_key(error: BenchError, op: Op, kind: KeyKind) -> BenchError {
    match error {
        BenchError::Setup { code, message, .. } if code == "UnsupportedOperationException" => {
            BenchError::Unsupported {
                op: op.name(),
                key_spec: kind.key_spec(),
                key_usage: kind.key_usage(),
                message,
            }
        }
        other => other,
    }
}

fn note(ctx: &Ctx, text: &str) {
    if ctx.progress {
        eprintln!("{text}");
    }
}

fn string_at(value: &Value, path: &[&str]) -> Result<String, String> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("response has no {}", path.join(".")))
}

/// One call per key with `template` plus `KeyId`, returning the base64 field `field` decoded.
async fn per_key_call(
    ctx: &Ctx,
    keys: &[KeyMaterial],
    label: &'static str,
    target: &'static str,
    template: Value,
    field: &'static str,
) -> Result<Vec<Vec<u8>>, BenchError> {
    let bodies: Arc<Vec<Bytes>> = Arc::new(
        keys.iter()
            .map(|key| {
                let mut body = template.clone();
                body["KeyId"] = Value::String(key.key_id.clone());
                Bytes::from(body.to_string())
            })
            .collect(),
    );
    parallel(
        ctx,
        label,
        keys.len(),
        move |i| (target, bodies[i].clone()),
        move |v| {
            let text = string_at(v, &[field])?;
            B64.decode(text)
                .map_err(|e| format!("{field} is not base64: {e}"))
        },
    )
    .await
}

/// Pages through ListKeys, then describes the listed keys in batches and keeps enabled keys the
/// benchmark created earlier for `kind`, until `wanted` are found.
async fn find_existing_keys(
    ctx: &Ctx,
    kind: KeyKind,
    wanted: usize,
) -> Result<Vec<String>, BenchError> {
    let mut listed = Vec::new();
    let mut marker: Option<String> = None;
    let mut connection = Connection::open(&ctx.endpoint)
        .await
        .map_err(|e| BenchError::Transport(e.0))?;
    loop {
        let mut body = json!({"Limit": 1000});
        if let Some(m) = &marker {
            body["Marker"] = Value::String(m.clone());
        }
        if !connection.is_reusable() {
            connection = Connection::open(&ctx.endpoint)
                .await
                .map_err(|e| BenchError::Transport(e.0))?;
        }
        let page = call(
            ctx,
            &mut connection,
            "TrentService.ListKeys",
            Bytes::from(body.to_string()),
        )
        .await
        .map_err(|(code, message)| setup_error("ListKeys", code, message))?;
        if let Some(keys) = page.get("Keys").and_then(Value::as_array) {
            listed.extend(
                keys.iter()
                    .filter_map(|k| k.get("KeyId").and_then(Value::as_str))
                    .map(str::to_owned),
            );
        }
        marker = page
            .get("NextMarker")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let truncated = page
            .get("Truncated")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !truncated || marker.is_none() {
            break;
        }
    }
    drop(connection);
    note(ctx, &format!("setup: ListKeys found {} keys", listed.len()));
    let description = kind.description();
    let mut found = Vec::new();
    for batch in listed.chunks(DESCRIBE_BATCH) {
        if found.len() >= wanted {
            break;
        }
        let ids: Arc<Vec<String>> = Arc::new(batch.to_vec());
        let bodies = ids.clone();
        let description = description.clone();
        let matches = parallel(
            ctx,
            "DescribeKey",
            batch.len(),
            move |i| {
                (
                    "TrentService.DescribeKey",
                    Bytes::from(json!({"KeyId": bodies[i]}).to_string()),
                )
            },
            move |v| {
                let meta = v.get("KeyMetadata");
                let field = |name: &str| {
                    meta.and_then(|m| m.get(name))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                let usable = field("KeySpec") == kind.key_spec()
                    && field("KeyUsage") == kind.key_usage()
                    && field("KeyState") == "Enabled"
                    && field("Description") == description;
                Ok(usable.then(|| field("KeyId")))
            },
        )
        .await?;
        found.extend(matches.into_iter().flatten());
    }
    found.truncate(wanted);
    Ok(found)
}

/// One signed call on `connection`; `Err((code, message))` for an error response or a broken
/// connection (code `TransportError`).
async fn call(
    ctx: &Ctx,
    connection: &mut Connection,
    target: &'static str,
    body: Bytes,
) -> Result<Value, (String, String)> {
    let request = ctx
        .signer
        .request(&ctx.endpoint, target, &body)
        .map_err(|e| ("SigningError".to_owned(), e.to_string()))?;
    let (status, response) = connection
        .send(request)
        .await
        .map_err(|e| ("TransportError".to_owned(), e.0))?;
    if status.is_success() {
        serde_json::from_slice(&response)
            .map_err(|e| ("InvalidResponse".to_owned(), format!("not JSON: {e}")))
    } else {
        let message = serde_json::from_slice::<Value>(&response)
            .ok()
            .and_then(|v| {
                v.get("message")
                    .or_else(|| v.get("Message"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| format!("HTTP {status}"));
        Err((error_code(status, &response), message))
    }
}

/// Makes `count` calls over `ctx.concurrency` keep-alive connections; `make(i)` gives call i's
/// target and body, `extract` what to keep of its response. Results come back in call order.
/// Throttling is retried with a pause and a broken connection is reopened (3 times per call);
/// any other error stops the setup.
async fn parallel<T, M, X>(
    ctx: &Ctx,
    label: &'static str,
    count: usize,
    make: M,
    extract: X,
) -> Result<Vec<T>, BenchError>
where
    T: Send + 'static,
    M: Fn(usize) -> (&'static str, Bytes) + Send + Sync + 'static,
    X: Fn(&Value) -> Result<T, String> + Send + Sync + 'static,
{
    if count == 0 {
        return Ok(Vec::new());
    }
    let make = Arc::new(make);
    let extract = Arc::new(extract);
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    let mut tasks = JoinSet::new();
    for _ in 0..ctx.concurrency.clamp(1, count) {
        let (make, extract, next, done, failed) = (
            make.clone(),
            extract.clone(),
            next.clone(),
            done.clone(),
            failed.clone(),
        );
        let worker_ctx = Ctx {
            endpoint: ctx.endpoint.clone(),
            signer: ctx.signer.clone(),
            concurrency: 1,
            progress: false,
        };
        tasks.spawn(async move {
            let ctx = worker_ctx;
            let mut out = Vec::new();
            let mut connection: Option<Connection> = None;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count || failed.load(Ordering::Relaxed) {
                    return Ok(out);
                }
                let (target, body) = make(i);
                let mut retries = 0;
                let value = loop {
                    if connection.as_ref().is_some_and(|c| !c.is_reusable()) {
                        connection = None;
                    }
                    let conn = match connection.as_mut() {
                        Some(c) => c,
                        None => connection.insert(
                            Connection::open(&ctx.endpoint)
                                .await
                                .map_err(|e| BenchError::Transport(e.0))?,
                        ),
                    };
                    match call(&ctx, conn, target, body.clone()).await {
                        Ok(value) => break value,
                        Err((code, message)) => {
                            let retry = retries < 3
                                && matches!(
                                    code.as_str(),
                                    "TransportError" | "ThrottlingException"
                                );
                            if !retry {
                                failed.store(true, Ordering::Relaxed);
                                return Err(setup_error(label, code, message));
                            }
                            if code == "TransportError" {
                                connection = None;
                            }
                            retries += 1;
                            tokio::time::sleep(Duration::from_millis(100 << retries)).await;
                        }
                    }
                };
                let kept = extract(&value).map_err(|message| {
                    failed.store(true, Ordering::Relaxed);
                    setup_error(label, "InvalidResponse".to_owned(), message)
                })?;
                out.push((i, kept));
                done.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    let ticker = (ctx.progress && count >= 1000).then(|| {
        let done = done.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_secs(5));
            interval.tick().await;
            loop {
                interval.tick().await;
                eprintln!("setup: {label} {}/{count}", done.load(Ordering::Relaxed));
            }
        })
    });
    let mut results: Vec<(usize, T)> = Vec::with_capacity(count);
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(part)) => results.extend(part),
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => {
                first_error.get_or_insert(BenchError::Transport(format!("setup task: {e}")));
            }
        }
    }
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    results.sort_unstable_by_key(|(i, _)| *i);
    Ok(results.into_iter().map(|(_, v)| v).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(op: Op, keys: usize) -> BenchArgs {
        crate::tests::parse(&["--baseline", "--op", op.name(), "--keys", &keys.to_string()])
    }

    #[test]
    fn synthetic_plans() {
        let plan = synthetic(&args(Op::Decrypt, 3));
        assert_eq!(plan.schedule, vec![0]);
        assert_eq!(plan.ops.len(), 1);
        assert_eq!(plan.ops[0].bodies.len(), 3);
        assert_eq!(plan.ops[0].target, "TrentService.Decrypt");

        let plan = synthetic(&args(Op::Mix, 2));
        assert_eq!(plan.ops.len(), 4);
        assert_eq!(plan.schedule.len(), 10);
        assert!(plan.ops.iter().all(|o| o.bodies.len() == 2));

        let plan = synthetic(&args(Op::CreateKey, 5));
        assert_eq!(plan.ops[0].bodies.len(), 1);

        let plan = synthetic(&args(Op::Verify, 2));
        assert_eq!(plan.ops[0].bodies.len(), 2);
    }

    #[test]
    fn synthetic_ids_look_like_uuids() {
        let id = synthetic_key_id(258);
        assert_eq!(id.len(), 36);
        assert_eq!(id, "00000102-0000-4000-8000-000000000102");
    }
}
