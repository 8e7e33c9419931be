//! Test calls: from "identity, system, service, environment" to an explained result. Opens the
//! identity (the key stays in this process), builds the address from the catalog, signs the
//! request, schedules it within CAISO's rate limits, sends it over mutual TLS, reads and
//! explains the answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use caiso_shared::calls::{
    CallClass, CallEnvironment, CallIdentity, CallReport, CallRequest, TestCatalog, TestOperation,
};
use caiso_shared::limits::LimitTable;
use caiso_shared::operations::OperationCatalog;
use caiso_shared::protocol::{ErrorCode, Event, ProtocolError};
use caiso_shared::{Catalog, Environment};
use caiso_soap::{CaisoHeader, SignatureAlgorithm, Signer};

use crate::config::Config;
use crate::endpoint::{self, Target};
use crate::explain::{self, Context, Explained};
use crate::https::{self, Client};
use crate::scheduler::{self, Attempt, Job, Progress, Scheduler};
use crate::{clock, custody, trust};

/// How many calls of a batch run at once.
const WORKERS: usize = 6;

/// An identity ready to call: its TLS client and its signer.
struct Prepared {
    client: Client,
    signer: Signer,
    username: String,
}

/// The call machinery of one host process: the rate-limit history and the opened identities.
#[derive(Default)]
pub struct Engine {
    scheduler: Mutex<Scheduler>,
    prepared: Mutex<HashMap<String, Arc<Prepared>>>,
}

/// What to call: the request and its resolved target.
struct Planned {
    request: CallRequest,
    target: Result<Target, ProtocolError>,
}

/// The result of one attempt.
struct Outcome {
    report: CallReport,
}

impl Engine {
    /// A fresh engine.
    pub fn new() -> Engine {
        Engine::default()
    }

    fn prepare(
        &self,
        config: &Config,
        label: &str,
        target: &Target,
    ) -> Result<Arc<Prepared>, Explained> {
        let identity = config
            .identity(label)
            .ok_or_else(|| unavailable("no identity has this label"))?;
        let key = format!(
            "{label}\u{0}{}\u{0}{}",
            target.environment.id(),
            identity.imported_at
        );
        if let Some(prepared) = self.prepared.lock().ok().and_then(|p| p.get(&key).cloned()) {
            return Ok(prepared);
        }
        let opened = open_identity(config, label).map_err(|e| unavailable(&e))?;
        let leaf = opened.chain.first().cloned().unwrap_or_default();
        let username = caiso_soap::username::of_certificate(&leaf)
            .ok_or_else(|| unavailable("the certificate cannot be read"))?;
        let algorithm = config
            .calls
            .signature
            .as_deref()
            .and_then(SignatureAlgorithm::from_id)
            .unwrap_or_default();
        let key_der = match &opened.key {
            rustls::pki_types::PrivateKeyDer::Pkcs8(k) => k.secret_pkcs8_der().to_vec(),
            rustls::pki_types::PrivateKeyDer::Pkcs1(k) => k.secret_pkcs1_der().to_vec(),
            _ => {
                return Err(unavailable(
                    "CAISO signs messages with RSA keys; this key is not RSA",
                ));
            }
        };
        let key_der = zeroize::Zeroizing::new(key_der);
        let signer = Signer::new(&key_der, leaf, algorithm).map_err(|e| unavailable(&e.0))?;
        let store = trust::load(&config.calls, target.environment);
        let timeout = config
            .calls
            .timeout_seconds
            .map(Duration::from_secs)
            .unwrap_or(https::DEFAULT_TIMEOUT);
        let connect_to = target
            .connect_to
            .map(|address| (target.host.as_str(), address));
        let client = Client::new(opened.chain, opened.key, &store, connect_to, timeout)
            .map_err(|e| unavailable(&e))?;
        let prepared = Arc::new(Prepared {
            client,
            signer,
            username,
        });
        if let Ok(mut cache) = self.prepared.lock() {
            cache.insert(key, Arc::clone(&prepared));
        }
        Ok(prepared)
    }

    /// Runs `requests` within the limits, reporting progress as `(request index, event)`;
    /// returns one report per request, or the reason a request was refused outright.
    pub fn run(
        &self,
        config: &Config,
        requests: Vec<CallRequest>,
        mut progress: impl FnMut(usize, Event),
    ) -> Vec<Result<CallReport, ProtocolError>> {
        let planned: Vec<Planned> = requests
            .into_iter()
            .map(|request| {
                let target = endpoint::resolve(
                    &request.system,
                    &request.service,
                    request.environment,
                    &config.calls,
                )
                .and_then(|t| {
                    if config.identity(&request.identity).is_none() {
                        Err(ProtocolError::new(
                            ErrorCode::UnknownIdentity,
                            "no identity has this label",
                        ))
                    } else {
                        Ok(t)
                    }
                });
                Planned { request, target }
            })
            .collect();
        let runnable: Vec<usize> = (0..planned.len())
            .filter(|&i| planned[i].target.is_ok())
            .collect();
        let jobs: Vec<Job<(usize, &Target)>> = runnable
            .iter()
            .filter_map(|&i| {
                planned[i].target.as_ref().ok().map(|t| Job {
                    lanes: t.lanes.clone(),
                    call: (i, t),
                })
            })
            .collect();
        let queued_at = Instant::now();
        let started: Mutex<HashMap<usize, (Instant, u32)>> = Mutex::new(HashMap::new());
        let outcomes = scheduler::run(
            &self.scheduler,
            jobs,
            WORKERS,
            |&(index, target)| {
                let plan = &planned[index];
                let attempt_started = Instant::now();
                let attempts = started
                    .lock()
                    .map(|mut s| {
                        let entry = s.entry(index).or_insert((attempt_started, 0));
                        entry.1 += 1;
                        entry.1
                    })
                    .unwrap_or(1);
                let waited = attempt_started.duration_since(queued_at);
                self.attempt(config, &plan.request, target, attempts, waited)
            },
            |job, p| {
                let index = runnable[job];
                progress(index, event(p));
            },
        );
        let mut by_index: HashMap<usize, CallReport> = runnable
            .iter()
            .copied()
            .zip(outcomes)
            .filter_map(|(i, o)| o.map(|o| (i, o.report)))
            .collect();
        planned
            .into_iter()
            .enumerate()
            .map(|(i, plan)| match plan.target {
                Err(e) => Err(e),
                Ok(_) => by_index.remove(&i).ok_or_else(|| {
                    ProtocolError::new(ErrorCode::Internal, "the call did not finish")
                }),
            })
            .collect()
    }

    fn attempt(
        &self,
        config: &Config,
        request: &CallRequest,
        target: &Target,
        attempts: u32,
        waited: Duration,
    ) -> Attempt<Outcome> {
        let system_name = Catalog::builtin()
            .system(&target.operation.system)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| target.operation.system.to_uppercase());
        let environment_name = match target.environment {
            CallEnvironment::Production => Environment::Production.display_name(),
            CallEnvironment::MapStage => Environment::MapStage.display_name(),
            CallEnvironment::Sandbox => "the sandbox",
        };
        let cx = Context {
            system: &system_name,
            environment: environment_name,
            host: &target.host,
        };
        let mut report = CallReport {
            identity: request.identity.clone(),
            system: request.system.clone(),
            service: request.service.clone(),
            environment: request.environment,
            url: target.url.clone(),
            ok: false,
            class: CallClass::Unexpected,
            title: String::new(),
            explanation: String::new(),
            next_step: String::new(),
            http_status: None,
            fault: None,
            events: Vec::new(),
            attachment_bytes: None,
            attempts,
            waited_ms: waited.as_millis() as u64,
            elapsed_ms: 0.0,
            message_id: None,
            signature: String::new(),
            response: None,
        };
        let prepared = match self.prepare(config, &request.identity, target) {
            Ok(p) => p,
            Err(e) => {
                return Attempt::Done(Outcome {
                    report: fill(report, e),
                });
            }
        };
        report.signature = prepared.signer.algorithm().id().to_owned();
        let started = Instant::now();
        let today = clock::today();
        let tomorrow = today.next_day().unwrap_or(today);
        let yesterday = today.previous_day().unwrap_or(today);
        let body = target.operation.request_body(&[
            ("trade_date", &tomorrow.to_string()),
            ("yesterday", &yesterday.to_string()),
        ]);
        let header = CaisoHeader::new(&prepared.username, clock::now());
        let message = match caiso_soap::sign(&header, &body, &prepared.signer) {
            Ok(m) => m,
            Err(e) => {
                return Attempt::Done(Outcome {
                    report: fill(report, unavailable(&e.0)),
                });
            }
        };
        report.message_id = Some(message.message_id.clone());
        let answer =
            prepared
                .client
                .post_soap(&target.url, &target.operation.soap_action, message.xml);
        match answer {
            Err(failure) => {
                report.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
                Attempt::Done(Outcome {
                    report: fill(report, explain::failure(&failure, &cx)),
                })
            }
            Ok(answer) => {
                report.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
                report.http_status = Some(answer.status);
                report.response = Some(
                    answer
                        .body
                        .chars()
                        .take(caiso_shared::calls::MAX_RESPONSE_CHARS)
                        .collect(),
                );
                let response = caiso_soap::response::parse(&answer.body).ok();
                if let Some(r) = &response {
                    report.fault = r.fault.as_ref().map(|f| f.string.clone());
                    report.events = r.events.iter().map(|e| e.description.clone()).collect();
                    report.attachment_bytes = r.attachment.as_ref().map(|a| a.len() as u64);
                }
                let retry = report
                    .fault
                    .as_deref()
                    .and_then(caiso_soap::response::aup_retry_after);
                let explained = explain::answer(&answer, response.as_ref(), &cx);
                let report = fill(report, explained);
                match retry {
                    Some(seconds) => {
                        Attempt::RetryAfter(Duration::from_secs(seconds), Outcome { report })
                    }
                    None => Attempt::Done(Outcome { report }),
                }
            }
        }
    }
}

/// Opens the identity `label` with its kept passphrase, for making calls.
pub fn open_identity(config: &Config, label: &str) -> Result<custody::ForUse, String> {
    let identity = config
        .identity(label)
        .ok_or_else(|| format!("no identity is labelled {label}"))?;
    let passphrase = custody::stored_passphrase(label, &identity.passphrase)?;
    custody::open_for_use(&identity.source, passphrase.as_deref().map(|p| p.as_str()))
        .map_err(|e| e.to_string())
}

/// The call diagnostics and support reports make: the first offered retrieve that counts only
/// against its namespace's limit (no slow service lane to wait for).
pub fn probe_call(
    engine: &Engine,
    config: &Config,
    identity: &str,
    environment: CallEnvironment,
) -> Result<(caiso_shared::operations::Operation, CallReport), ProtocolError> {
    let limits = LimitTable::builtin();
    let operation = OperationCatalog::builtin()
        .operations
        .into_iter()
        .find(|op| {
            limits
                .lanes(op, "ws.prod.caiso.com")
                .is_ok_and(|lanes| lanes.len() == 1)
        })
        .ok_or_else(|| ProtocolError::new(ErrorCode::Internal, "no test call is offered"))?;
    let request = CallRequest {
        identity: identity.to_owned(),
        system: operation.system.clone(),
        service: operation.service.clone(),
        environment,
    };
    let report = engine
        .run(config, vec![request], |_, _| {})
        .pop()
        .unwrap_or_else(|| Err(ProtocolError::new(ErrorCode::Internal, "no result")))?;
    Ok((operation, report))
}

/// What can be tested here.
pub fn test_catalog(config: &Config) -> TestCatalog {
    let limits = LimitTable::builtin();
    let operations = OperationCatalog::builtin();
    let mut environments = vec![CallEnvironment::Production, CallEnvironment::MapStage];
    if config.calls.sandbox.is_some() {
        environments.push(CallEnvironment::Sandbox);
    }
    let catalog = Catalog::builtin();
    TestCatalog {
        environments,
        identities: config
            .identities
            .iter()
            .map(|i| CallIdentity {
                label: i.label.clone(),
                environment: i.environment.id().to_owned(),
            })
            .collect(),
        operations: operations
            .operations
            .iter()
            .map(|op| {
                let host = op
                    .url(catalog, Environment::Production)
                    .and_then(|u| url::Url::parse(&u).ok())
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_default();
                let limits = limits
                    .lanes(op, &host)
                    .unwrap_or_default()
                    .iter()
                    .map(|lane| {
                        limits
                            .namespaces
                            .iter()
                            .map(|n| (&n.id, &n.title, n.requests, n.per_seconds))
                            .chain(
                                limits
                                    .services
                                    .iter()
                                    .map(|s| (&s.id, &s.title, s.requests, s.per_seconds)),
                            )
                            .find(|(id, ..)| **id == lane.id)
                            .map(|(_, title, requests, seconds)| {
                                format!("{title}: {requests} per {seconds} s")
                            })
                            .unwrap_or_else(|| lane.id.clone())
                    })
                    .collect();
                TestOperation {
                    system: op.system.clone(),
                    service: op.service.clone(),
                    title: op.title.clone(),
                    doc_attach: op.doc_attach,
                    limits,
                }
            })
            .collect(),
    }
}

fn unavailable(message: &str) -> Explained {
    Explained {
        class: CallClass::IdentityUnavailable,
        title: "The certificate could not be used".to_owned(),
        explanation: message.to_owned(),
        next_step: "Run `caiso-access verify <label>`, or import the certificate again.".to_owned(),
    }
}

fn fill(mut report: CallReport, explained: Explained) -> CallReport {
    report.ok = matches!(
        explained.class,
        CallClass::Success | CallClass::BusinessError
    );
    report.class = explained.class;
    report.title = explained.title;
    report.explanation = explained.explanation;
    report.next_step = explained.next_step;
    report
}

fn event(progress: Progress) -> Event {
    let at = |instant: Instant| {
        let from_now = instant.saturating_duration_since(Instant::now());
        caiso_soap::message::timestamp(clock::now() + from_now)
    };
    match progress {
        Progress::Queued(start) => Event {
            stage: "queued".into(),
            message: "queued behind CAISO's rate limits".into(),
            expected_at: Some(at(start)),
        },
        Progress::Waiting(until) => Event {
            stage: "waiting".into(),
            message: "waiting for CAISO's rate limit".into(),
            expected_at: Some(at(until)),
        },
        Progress::Running(attempt) => Event {
            stage: "running".into(),
            message: if attempt == 1 {
                "calling".into()
            } else {
                format!("calling again (attempt {attempt})")
            },
            expected_at: None,
        },
        Progress::Retrying(until) => Event {
            stage: "retrying".into(),
            message: "CAISO's Acceptable Use Policy asked to wait; retrying".into(),
            expected_at: Some(at(until)),
        },
    }
}
