//! Test calls: from "identity, system, service, environment" to an explained result. Opens the
//! identity (the key stays in this process), builds the address from the catalog, signs the
//! request, schedules it within CAISO's rate limits, sends it over mutual TLS, reads and
//! explains the answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use caiso_shared::calls::{CallClass, CallEnvironment, CallReport, CallRequest, Exchange};
use caiso_shared::operations::Level;
use caiso_shared::protocol::Event;
use caiso_shared::{Catalog, Environment};
use caiso_soap::CaisoHeader;

use super::endpoint::{self, Target};
use super::explain::{self, Context, Explained, Retry};
use super::https;
use super::ledger::Ledger;
use super::prepared::{self, Prepared};
use super::request_document;
use super::scheduler::{self, Attempt, Job, Progress, Shared};
use crate::clock;
use crate::error::{HostError, HostResult};
use crate::store::Config;

/// How many calls of a batch run at once.
const WORKERS: usize = 6;

/// The call machinery of one host process: its one scheduler (with the user's rate-limit
/// ledger) and the opened identities.
#[derive(Default)]
pub struct Engine {
    scheduler: Shared,
    prepared: Mutex<HashMap<String, Arc<Prepared>>>,
    /// The configuration folder, where imported request schemas are kept (none in tests that
    /// count alone).
    dir: Option<std::path::PathBuf>,
}

/// What to call: the request and its resolved target.
struct Planned {
    request: CallRequest,
    target: HostResult<Target>,
}

/// The result of one attempt, and the attempt as it went over the wire (when asked for).
struct Outcome {
    report: CallReport,
    exchange: Option<Exchange>,
}

impl Engine {
    /// An engine that counts this process's calls alone (tests).
    pub fn new() -> Engine {
        Engine::default()
    }

    /// An engine whose rate limits count every call of this user, through the ledger in the
    /// configuration folder `dir`.
    pub fn with_ledger(dir: &std::path::Path) -> Engine {
        Engine {
            scheduler: Shared::with_ledger(Ledger::in_folder(dir)),
            prepared: Mutex::default(),
            dir: Some(dir.to_owned()),
        }
    }

    /// Cancels every call not started yet (the browser closed the connection); calls out end
    /// by themselves, within their time limit.
    pub fn cancel(&self) {
        self.scheduler.cancel();
    }

    /// The configuration folder whose imported request schemas the calls follow, if any.
    pub fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_deref()
    }

    /// Whether [`Self::cancel`] was called: long commands (diagnostics, reports) stop at their
    /// next step.
    pub fn cancelled(&self) -> bool {
        self.scheduler.cancelled()
    }

    /// The identity `label` ready to call `target`, prepared once per process.
    fn prepare(&self, config: &Config, label: &str, target: &Target) -> HostResult<Arc<Prepared>> {
        let key = prepared::cache_key(config, label, target)
            .ok_or_else(|| HostError::UnknownIdentity(label.to_owned()))?;
        if let Some(prepared) = self.prepared.lock().ok().and_then(|p| p.get(&key).cloned()) {
            return Ok(prepared);
        }
        let prepared = Arc::new(prepared::prepare(config, label, target)?);
        if let Ok(mut cache) = self.prepared.lock() {
            cache.insert(key, Arc::clone(&prepared));
        }
        Ok(prepared)
    }

    /// Runs `requests` within the limits, reporting progress as `(request index, event)`;
    /// returns one report per request, or the reason a request was refused outright. As named
    /// steps: each request's target resolved (`Self::plan`), the ones that can be called
    /// (`runnable`) made the scheduler's jobs (`jobs`) and run within the limits
    /// (`scheduler::run`), each attempt on a worker (`Self::attempt_call`) and each progress
    /// step worded (`Kept::event`), and the reports put in request order with their exchanges
    /// (`reports`).
    pub fn run(
        &self,
        config: &Config,
        requests: Vec<CallRequest>,
        mut progress: impl FnMut(usize, Event),
    ) -> Vec<HostResult<CallReport>> {
        let planned = self.plan(config, requests);
        let runnable = runnable(&planned);
        let jobs = jobs(&planned, &runnable);
        let kept = Kept::new();
        let outcomes = scheduler::run(
            &self.scheduler,
            jobs,
            WORKERS,
            hold(config),
            |&(index, target)| {
                self.attempt_call(config, &planned[index].request, target, index, &kept)
            },
            |job, p| {
                let index = runnable[job];
                progress(index, kept.event(index, p));
            },
        );
        reports(planned, &runnable, outcomes, &kept)
    }

    /// Each request with its target: the endpoint the catalog and the configuration allow, the
    /// identity known, the request document the user's schema or the built-in one.
    fn plan(&self, config: &Config, requests: Vec<CallRequest>) -> Vec<Planned> {
        requests
            .into_iter()
            .map(|request| {
                let target = endpoint::resolve(
                    &request.system,
                    &request.service,
                    request.environment,
                    &config.calls,
                )
                .and_then(|mut t| {
                    if config.identity(&request.identity).is_none() {
                        return Err(HostError::UnknownIdentity(request.identity.clone()));
                    }
                    t.request = request_document::source_for(self.dir.as_deref(), &t.operation);
                    Ok(t)
                });
                Planned { request, target }
            })
            .collect()
    }

    /// One attempt of the call `index` on a worker: counted ([`Kept::begin`]), made
    /// ([`Self::attempt`]), and what the next attempt and the report need kept
    /// ([`Kept::keep`]).
    fn attempt_call(
        &self,
        config: &Config,
        request: &CallRequest,
        target: &Target,
        index: usize,
        kept: &Kept,
    ) -> Attempt<Outcome> {
        let (attempts, waited, fresh) = kept.begin(index);
        let mut attempt = self.attempt(config, request, target, attempts, waited, fresh);
        kept.keep(index, &mut attempt);
        attempt
    }

    /// One attempt of a call, as named steps: the blank report and the words' context, the
    /// identity made ready ([`Self::prepare`]), the request written and signed
    /// ([`signed_request`]), sent ([`send`]), and the outcome explained: a transport failure
    /// ([`failed`]) or an answer ([`answered`]).
    fn attempt(
        &self,
        config: &Config,
        request: &CallRequest,
        target: &Target,
        attempts: u32,
        waited: Duration,
        fresh: bool,
    ) -> Attempt<Outcome> {
        let system_name = system_name(target);
        let parameters = config
            .identity(&request.identity)
            .map(|i| i.call_parameters.clone())
            .unwrap_or_default();
        let request_evidence = request_document::evidence(&target.request, &target.operation).level;
        let mut report = blank_report(request, target, attempts, waited, request_evidence);
        let prepared = match self.prepare(config, &request.identity, target) {
            Ok(p) => p,
            Err(e) => return done(report, unavailable(&e), None),
        };
        report.signature = prepared.signer.algorithm().id().to_owned();
        let cx = Context {
            system: &system_name,
            environment: environment_name(target.environment),
            host: &target.host,
            sc_id_given: parameters.contains_key("sc_id"),
            request_inferred: request_evidence == Level::Inferred,
            proxy: None,
            chain_complete: prepared.chain_complete,
        };
        let started = Instant::now();
        let (message, soap_action) = match signed_request(target, &prepared, &parameters) {
            Ok(signed) => signed,
            Err(refused) => return done(report, *refused, None),
        };
        report.message_id = Some(message.message_id.clone());
        let sending = Sending {
            target,
            soap_action: &soap_action,
            attempt: attempts,
            keep_exchange: request.keep_exchange,
            fresh,
        };
        let (answer, exchange) = send(&prepared, &sending, message);
        report.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        match answer {
            Err(failure) => failed(report, &failure, target, cx, exchange),
            Ok(answer) => answered(report, &answer, &cx, attempts, exchange),
        }
    }
}

/// The requests that can be called: their indexes among `planned`.
fn runnable(planned: &[Planned]) -> Vec<usize> {
    (0..planned.len())
        .filter(|&i| planned[i].target.is_ok())
        .collect()
}

/// The scheduler's jobs for the `runnable` requests: each call's lanes, its index and its
/// target.
fn jobs<'a>(planned: &'a [Planned], runnable: &[usize]) -> Vec<Job<(usize, &'a Target)>> {
    runnable
        .iter()
        .filter_map(|&i| {
            planned[i].target.as_ref().ok().map(|t| Job {
                lanes: t.lanes.clone(),
                call: (i, t),
            })
        })
        .collect()
}

/// How long a call not answered counts against its lanes: its time limit and the time to
/// connect.
fn hold(config: &Config) -> Duration {
    config
        .calls
        .timeout_seconds
        .map(Duration::from_secs)
        .unwrap_or(https::DEFAULT_TIMEOUT)
        + https::CONNECT_TIMEOUT
}

/// The reports in request order: a refused request's reason, a call's last report with its
/// exchanges, or [`HostError::Cancelled`] for a call that never ran.
fn reports(
    planned: Vec<Planned>,
    runnable: &[usize],
    outcomes: Vec<Option<Outcome>>,
    kept: &Kept,
) -> Vec<HostResult<CallReport>> {
    let mut by_index: HashMap<usize, CallReport> = runnable
        .iter()
        .copied()
        .zip(outcomes)
        .filter_map(|(i, o)| o.map(|o| (i, o.report)))
        .collect();
    kept.attach_exchanges(&mut by_index);
    planned
        .into_iter()
        .enumerate()
        .map(|(i, plan)| match plan.target {
            Err(e) => Err(e),
            Ok(_) => by_index.remove(&i).ok_or(HostError::Cancelled),
        })
        .collect()
}

/// What a batch keeps of each call across its attempts, shared by the workers.
struct Kept {
    queued_at: Instant,
    /// Per call: when it first started, its attempts, and whether the next goes on a fresh
    /// connection (after the gateway's logout page).
    started: Mutex<HashMap<usize, (Instant, u32, bool)>>,
    /// Per call: its attempts as they went over the wire, when asked for.
    exchanges: Mutex<HashMap<usize, Vec<Exchange>>>,
}

impl Kept {
    fn new() -> Kept {
        Kept {
            queued_at: Instant::now(),
            started: Mutex::new(HashMap::new()),
            exchanges: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt of the call `index` starting now: its number, how long it waited
    /// since the batch was queued, and whether it goes on a fresh connection.
    fn begin(&self, index: usize) -> (u32, Duration, bool) {
        let attempt_started = Instant::now();
        let (attempts, fresh) = self
            .started
            .lock()
            .map(|mut s| {
                let entry = s.entry(index).or_insert((attempt_started, 0, false));
                entry.1 += 1;
                (entry.1, entry.2)
            })
            .unwrap_or((1, false));
        (
            attempts,
            attempt_started.duration_since(self.queued_at),
            fresh,
        )
    }

    /// Keeps what an attempt leaves for the next one and for the report: a fresh connection
    /// after the gateway's logout page, and the exchange (taken out of the attempt).
    fn keep(&self, index: usize, attempt: &mut Attempt<Outcome>) {
        if let Attempt::RetryAfter(_, outcome) = &attempt
            && outcome.report.class == CallClass::GatewayLogout
            && let Ok(mut s) = self.started.lock()
            && let Some(entry) = s.get_mut(&index)
        {
            entry.2 = true;
        }
        let (Attempt::Done(outcome) | Attempt::RetryAfter(_, outcome)) = attempt;
        if let Some(exchange) = outcome.exchange.take()
            && let Ok(mut exchanges) = self.exchanges.lock()
        {
            exchanges.entry(index).or_default().push(exchange);
        }
    }

    /// The event for a progress step of the call `index`: a retry after the gateway's logout
    /// page is no rate-limit wait.
    fn event(&self, index: usize, progress: Progress) -> Event {
        let reconnecting = matches!(progress, Progress::Retrying(_))
            && self
                .started
                .lock()
                .is_ok_and(|s| s.get(&index).is_some_and(|entry| entry.2));
        if reconnecting {
            Event {
                stage: "reconnecting".into(),
                message:
                    "CAISO's gateway answered its logout page; trying again on a new connection"
                        .into(),
                expected_at: None,
            }
        } else {
            event(progress)
        }
    }

    /// Gives each report the exchanges kept of its call.
    fn attach_exchanges(&self, by_index: &mut HashMap<usize, CallReport>) {
        if let Ok(mut exchanges) = self.exchanges.lock() {
            for (index, report) in by_index.iter_mut() {
                report.exchange = exchanges.remove(index).unwrap_or_default();
            }
        }
    }
}

fn unavailable(error: &HostError) -> Explained {
    Explained::new(
        CallClass::IdentityUnavailable,
        "The certificate could not be used",
        error.to_string(),
        "Run `caiso-access verify <label>`, or import the certificate again.".to_owned(),
    )
}

/// The system's name as people know it (`CMRI`).
fn system_name(target: &Target) -> String {
    Catalog::builtin()
        .system(&target.operation.system)
        .map(|s| s.name.to_string())
        .unwrap_or_else(|| target.operation.system.to_uppercase())
}

/// The environment's name as people know it.
fn environment_name(environment: CallEnvironment) -> &'static str {
    match environment {
        CallEnvironment::Production => Environment::Production.display_name(),
        CallEnvironment::MapStage => Environment::MapStage.display_name(),
        CallEnvironment::Sandbox => "the sandbox",
    }
}

/// The report of an attempt before anything is known of its outcome.
fn blank_report(
    request: &CallRequest,
    target: &Target,
    attempts: u32,
    waited: Duration,
    request_evidence: Level,
) -> CallReport {
    CallReport {
        identity: request.identity.clone(),
        system: request.system.clone(),
        service: request.service.clone(),
        environment: request.environment,
        url: target.url.clone(),
        ok: false,
        ladder: Vec::new(),
        records: None,
        record: None,
        request_evidence: Some(request_evidence),
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
        exchange: Vec::new(),
    }
}

/// An attempt that ends here, explained.
fn done(report: CallReport, explained: Explained, exchange: Option<Exchange>) -> Attempt<Outcome> {
    Attempt::Done(Outcome {
        report: fill(report, explained),
        exchange,
    })
}

/// The request written (built-in or from the user's schema) and signed, with its SOAPAction;
/// why it is not sent when it is not.
fn signed_request(
    target: &Target,
    prepared: &Prepared,
    parameters: &std::collections::BTreeMap<String, String>,
) -> Result<(caiso_soap::SignedMessage, String), Box<Explained>> {
    let now = clock::now();
    let (body, soap_action) =
        request_document::write(&target.request, &target.operation, now, parameters)?;
    let header = CaisoHeader::new(&prepared.username, now);
    let message = caiso_soap::sign(&header, &body, &prepared.signer).map_err(|e| {
        Box::new(unavailable(&HostError::Internal(format!(
            "signing failed: {}",
            e.0
        ))))
    })?;
    Ok((message, soap_action))
}

/// How one request goes out.
struct Sending<'a> {
    target: &'a Target,
    soap_action: &'a str,
    attempt: u32,
    keep_exchange: bool,
    fresh: bool,
}

/// Sends the signed message; the answer, and the exchange as it went over the wire when asked
/// for.
fn send(
    prepared: &Prepared,
    sending: &Sending<'_>,
    message: caiso_soap::SignedMessage,
) -> (Result<https::Answer, https::Failure>, Option<Exchange>) {
    let target = sending.target;
    let sent = sending.keep_exchange.then(|| message.xml.clone());
    let answer =
        prepared
            .client
            .post_soap(&target.url, sending.soap_action, message.xml, sending.fresh);
    let exchange = sent.map(|sent| Exchange {
        attempt: sending.attempt,
        url: target.url.clone(),
        soap_action: sending.soap_action.to_owned(),
        request: sent,
        status: answer.as_ref().ok().map(|a| a.status),
        content_type: answer
            .as_ref()
            .map(|a| a.content_type.clone())
            .unwrap_or_default(),
        answer: answer
            .as_ref()
            .map(|a| String::from_utf8_lossy(&a.body).into_owned())
            .unwrap_or_default(),
        answer_bytes: answer.as_ref().map_or(0, |a| a.body.len() as u64),
        cut: false,
    });
    (answer, exchange)
}

/// A transport failure explained. Only a failure's words depend on the proxy the call went
/// through, as reqwest chose it (never one for the sandbox): looked up here, off the answered
/// path.
fn failed(
    report: CallReport,
    failure: &https::Failure,
    target: &Target,
    cx: Context<'_>,
    exchange: Option<Exchange>,
) -> Attempt<Outcome> {
    let proxy = match target.environment {
        CallEnvironment::Sandbox => None,
        _ => super::proxy::for_host(&target.host).map(|p| p.shown),
    };
    let cx = Context {
        proxy: proxy.as_deref(),
        ..cx
    };
    done(report, explain::failure(failure, &cx), exchange)
}

/// An answer read and explained: the excerpt kept, the fault and events, the attachment's size;
/// a retry when the explanation asks for one (the AUP's wait; the gateway's logout page once,
/// on a new connection).
fn answered(
    mut report: CallReport,
    answer: &https::Answer,
    cx: &Context<'_>,
    attempts: u32,
    exchange: Option<Exchange>,
) -> Attempt<Outcome> {
    report.http_status = Some(answer.status);
    let reading = caiso_soap::response::read(&answer.content_type, &answer.body);
    // A character is 4 bytes at most: convert only what the excerpt can use.
    let max = caiso_shared::calls::MAX_RESPONSE_CHARS;
    let mut head = &answer.body[..answer.body.len().min(max * 4)];
    if let Err(e) = std::str::from_utf8(head)
        && e.error_len().is_none()
    {
        head = &head[..e.valid_up_to()]; // a character cut at the end
    }
    report.response = Some(String::from_utf8_lossy(head).chars().take(max).collect());
    if let Some(envelope) = &reading.envelope {
        report.fault = envelope.fault.as_ref().map(|f| f.string.clone());
        report.events = envelope
            .events
            .iter()
            .map(|e| e.description.clone())
            .collect();
    }
    report.attachment_bytes = reading.attachment().map(|a| a.bytes);
    let explained = explain::answer(answer, &reading, cx);
    let retry = explained.retry;
    let outcome = Outcome {
        report: fill(report, explained),
        exchange,
    };
    match retry {
        Some(Retry::After(wait)) => Attempt::RetryAfter(wait, outcome),
        Some(Retry::FreshConnection) if attempts == 1 => {
            Attempt::RetryAfter(Duration::ZERO, outcome)
        }
        _ => Attempt::Done(outcome),
    }
}

fn fill(mut report: CallReport, explained: Explained) -> CallReport {
    report.ok = matches!(explained.class, CallClass::Success | CallClass::NoData);
    report.class = explained.class;
    report.ladder = explained.ladder;
    if let Some((records, record)) = explained.records {
        report.records = Some(records);
        report.record = record;
    }
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
        Progress::Waiting {
            until,
            behind_other,
        } => Event {
            stage: "waiting".into(),
            message: if behind_other {
                "waiting behind another program's call to CAISO from this computer (CAISO's rate limit counts them together)".into()
            } else {
                "waiting for CAISO's rate limit".into()
            },
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
