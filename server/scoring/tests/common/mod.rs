//! Three scripted candidates for the demo job, driven through the real interview engine.
//! Each answer is chosen by keywords of the question the engine just asked, so the engine's
//! own decisions (follow-ups, probes) shape the transcript. Answers get synthetic word times so
//! the report's quotes carry audio timestamps.

#![allow(dead_code)]

use viva_interview::demo_job;
use viva_interview::engine::{Action, EngineConfig, Event, Interview};
use viva_interview::transcript::{Transcript, Word};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Candidate {
    Strong,
    Mixed,
    Weak,
}

type Script = &'static [(&'static [&'static str], &'static str)];

/// Keys are matched (any of them, lower-case substring) against the question, first row wins.
const STRONG: Script = &[
    (&["any questions", "questions for me", "questions about"], "No, that's all. Thank you!"),
    (&["ready"], "Yes, I'm ready."),
    (&["how many years"], "I have about eight years of professional backend development, mostly Go and Java services."),
    (&["how soon"], "I could start in three weeks."),
    (&["challenging api"], "At my last company I designed the public REST API for our invoicing product, used by about forty customer integrations. We versioned it in the path and inside a version we only made additive changes, with deprecation headers and per-key usage tracking before we removed v1. I pushed for idempotency keys on every POST because clients retried on timeouts and we had created duplicate invoices. The trade-off was extra storage and a lookup on every write, which cost about 3 ms."),
    (&["retry from one", "error"], "Every error had a JSON body with a stable machine-readable code and a retryable flag. 4xx validation errors were never retryable, 503 and 429 were, with a Retry-After header, and the request id let support find the trace."),
    (&["paginat"], "I moved the invoice list to cursor-based pagination: the cursor encoded the created_at and id of the last row, so new invoices did not shift the pages. Deep pages went from about two seconds to 40 ms."),
    (&["retired", "breaking"], "We tracked usage per API key, announced the deprecation with a Sunset header six months ahead, and contract tests against the OpenAPI spec in CI caught breaking changes before they shipped."),
    (&["debugging a performance"], "Last spring our invoice export endpoint went from 300 ms to 4 seconds at p95 right after a release. The Datadog latency alert fired, so I rolled the release back first, but it stayed slow. In the APM traces ninety percent of the time was in one Postgres query, and EXPLAIN ANALYZE showed a sequential scan because a migration had dropped an index. I recreated it concurrently and p95 went back to 280 ms, and I added a CI check so it cannot happen again."),
    (&["optimized a database query"], "At my last job a tenant dashboard query took 12 seconds for our largest customers. I found it in pg_stat_statements, ran EXPLAIN ANALYZE and saw a nested loop over a sequential scan on the events table. I added a composite index on tenant_id and created_at, built concurrently, and the query dropped to 180 milliseconds under production load."),
    (&["observability"], "In my current team I set up Prometheus metrics for rate, errors and duration on every endpoint, alerts on p99 latency and error rate against our SLOs, and structured JSON logs with trace ids. I rolled out OpenTelemetry distributed tracing with context propagated across HTTP and Kafka headers into Tempo, with tail sampling that keeps every slow or failed trace. During an incident last year a trace showed one consumer retrying a poisoned message, and we fixed it in twenty minutes."),
    (&["trace follow", "sample", "tracing"], "The producer writes the trace context into the Kafka message headers and the consumer starts a child span from it, so one trace covers the HTTP call and the asynchronous work. We keep all error traces and ten percent of the rest, and we lost some rare slow paths, which tail sampling later fixed."),
    (&["alerts", "latency targets", "percentile"], "We alert on symptoms users feel: p99 latency above 800 ms for five minutes and error rate above one percent against the SLO, never on CPU alone. We watched p99 because our biggest tenants lived in the tail."),
    (&["microservices architecture"], "I'd split by business domain with team ownership, an API gateway and a load balancer in front, keep the services stateless so they scale horizontally, put Redis in front of the read-heavy endpoints, and use Kafka for the asynchronous work between services. Each service owns its data, and circuit breakers and timeouts contain failures. For a company of seventy people I'd start with a modular monolith."),
    (&["monolith"], "A monolith is simpler to run and change while the domain is still moving. Microservices pay off when teams need to deploy independently, but you pay in network failures, operations and debugging across services, so I'd start with a modular monolith and split along the boundaries that hurt."),
    (&["consistency", "consistent"], "Each service owns its data. The order service writes the order and an outbox row in one transaction, a relay publishes the event to Kafka, and the consumers are idempotent. Payment uses a saga with a compensating refund, so the system is eventually consistent."),
    (&["monitoring microservices", "tools do you use"], "Prometheus and Grafana for metrics, Loki for logs, and OpenTelemetry with Tempo so a trace can follow a request across services and queues."),
    (&["boundary", "boundaries"], "I'd draw the first boundary around billing, because a separate team owns it and it changes on its own schedule. I would not split when two parts always change together, since that gives you a distributed monolith."),
    (&["asynchronous", "async"], "Sending invoices and webhooks would be asynchronous through Kafka with idempotent consumers and a partition key per tenant to keep ordering. The user sees an accepted status instead of the final result, which costs them a little immediacy."),
    (&["schema design"], "I start from how the feature will read and write the data and which invariants must always hold. I model it in third normal form with primary and foreign keys and constraints for those invariants, add indexes for the queries we know we will run, and ship it as a backward-compatible migration."),
    (&["sql and nosql", "nosql"], "Relational by default, because our data is relational and we need transactions. I'd pick DynamoDB only when access is always by a known key at very high scale and eventual consistency is fine."),
    (&["denormali"], "Denormalised copies drift: every write has to update them, so you need a job or triggers to keep them in sync, and you pay in write amplification. We denormalised a daily rollup table for charts because the raw table had hundreds of millions of rows."),
    (&["schema changes", "rename a column"], "Expand and contract: add the new column, write to both, backfill in batches with a lock timeout, switch the reads, and drop the old column in a later release."),
    (&["index", "which columns"], "From the WHERE clauses and sort orders of the real queries: equality columns first, then the range column, so tenant_id before created_at. I check selectivity with EXPLAIN and avoid extra indexes on write-heavy tables."),
    (&["query plan", "measure the improvement"], "The plan showed a nested loop with a sequential scan on events that read four million rows to return two hundred. I measured with pg_stat_statements before and after over a full day of production load."),
    (&["hypothesis", "same class of problem", "again"], "My first hypothesis was lock contention, but pg_locks showed nothing waiting, so the plan was the next suspect. Afterwards we added a CI step that fails a migration if it drops an index used by a hot query."),
    (&["outside engineering"], "We build the billing platform that turns our customers' usage into invoices, so their finance teams can bill their own clients without spreadsheets. In short, we make sure every business gets paid correctly and on time."),
    (&["disagreement"], "Last year a colleague wanted to move all reporting to a separate analytics database. I disagreed because keeping it in sync would cost us a lot, but after we compared the real read load we agreed on a read replica as a middle ground, and it has worked well."),
    (&["new colleague", "documentation", "written design"], "I'd tell them that I like written design notes before big changes, small pull requests with quick reviews, and that asking questions early is always welcome."),
];

const MIXED: Script = &[
    (&["any questions", "questions for me", "questions about"], "No, thank you."),
    (&["ready"], "Yes, ready."),
    (&["how many years"], "Around five years of backend work, mostly Python and some Go."),
    (&["how soon"], "In about a month."),
    (&["challenging api"], "I designed the REST API for our booking app, used by our iOS and Android clients and two partner integrations. We versioned it in the URL and kept changes backward compatible inside a version, documented with OpenAPI. For payments I added an idempotency key on the POST because the mobile clients retried on timeouts. The trade-off was that the URL versioning made us duplicate some handlers."),
    (&["retry from one", "error"], "We returned HTTP status codes, 400 for bad input and 500 for server errors, with a message."),
    (&["paginat"], "We used offset and limit at first, then switched the big lists to a cursor on the id because rows shifted when new bookings came in."),
    (&["retired", "breaking"], "I'm not sure, we never really removed an old version."),
    (&["debugging a performance"], "Once an endpoint got slow and I looked at the logs, saw it was the database, and added an index on the user id column. After that it was much faster."),
    (&["optimized a database query"], "Our monthly report query took about eight seconds. I ran EXPLAIN ANALYZE and saw a sequential scan on the bookings table, so I added a composite index on clinic_id and created_at, and it went down to about 300 milliseconds."),
    (&["observability"], "We had logs in Kibana and some Grafana dashboards for CPU and memory. I have not used tracing much, mostly logs."),
    (&["trace follow", "sample", "tracing"], "I don't know, we didn't have tracing."),
    (&["alerts", "latency targets", "percentile"], "We had alerts when the CPU was high or the service was down."),
    (&["microservices architecture"], "I would split the app into services, put a load balancer in front and use a queue like RabbitMQ for some background jobs. Maybe a cache for reads."),
    (&["monolith"], "Microservices scale better but are more complex to run, a monolith is easier at the start."),
    (&["consistency", "consistent"], "I would use transactions where possible, and maybe events between services."),
    (&["monitoring microservices", "tools do you use"], "Grafana and Kibana mostly."),
    (&["boundary", "boundaries"], "Probably by feature, like users, orders and payments."),
    (&["asynchronous", "async"], "Things like sending emails can go to a queue so the user doesn't wait."),
    (&["schema design"], "I start from the queries the feature needs, model the entities in normalized tables with primary keys, foreign keys and constraints, and add indexes for the common queries. Then I write a migration that is backward compatible."),
    (&["sql and nosql", "nosql"], "SQL when the data is relational, NoSQL like MongoDB when it is more flexible documents."),
    (&["denormali"], "Data can get duplicated and out of sync."),
    (&["schema changes", "rename a column"], "We use migrations with Alembic and run them during deploys."),
    (&["index", "which columns"], "The columns in the WHERE clause, equality columns first and then the range column, and I check the plan with EXPLAIN."),
    (&["query plan", "measure the improvement"], "It said sequential scan, and I compared the time before and after in the logs."),
    (&["hypothesis", "same class of problem", "again"], "I looked at the logs first. Afterwards we added more logging."),
    (&["outside engineering"], "We build an app that helps people book appointments with doctors, and my team does the backend for it."),
    (&["disagreement"], "A colleague wanted to use a new framework and I preferred the old one, we talked with the lead and kept the old one."),
    (&["new colleague", "documentation", "written design"], "That we do code reviews and they can ask me anything."),
];

const WEAK: Script = &[
    (&["any questions", "questions for me", "questions about"], "No."),
    (&["ready"], "Yes."),
    (&["how many years"], "About four years I think."),
    (&["how soon"], "Maybe in a month."),
    (&["challenging api"], "I worked on some APIs, it was normal, we just made the endpoints that were needed and it worked fine."),
    (&["observability"], "We had some logs I guess."),
    (&["debugging a performance"], "I would look at the code and try to find what is slow and fix it."),
    (&["optimized a database query"], "I don't really remember doing that, the database was usually fast enough."),
    (&["microservices architecture"], "I would use microservices because they scale, and maybe Docker."),
    (&["schema design"], "I make the tables that the feature needs."),
    (&["outside engineering"], "We make software for companies."),
    (&["disagreement"], "I don't really have disagreements."),
    (&["new colleague", "documentation", "written design"], "That they can ask me."),
];

const STRONG_DEFAULT: &str = "In my last role I owned that end to end: we measured it first with Prometheus and traces, changed one thing at a time, and cut p99 latency from 900 ms to 120 ms over two releases.";
const MIXED_DEFAULT: &str =
    "I think it depends, we did something like that but I don't remember the details.";
const WEAK_DEFAULT: &str = "I'm not sure, I don't know.";

fn answer_for(candidate: Candidate, question: &str) -> &'static str {
    let (script, default) = match candidate {
        Candidate::Strong => (STRONG, STRONG_DEFAULT),
        Candidate::Mixed => (MIXED, MIXED_DEFAULT),
        Candidate::Weak => (WEAK, WEAK_DEFAULT),
    };
    let q = question.to_lowercase();
    script
        .iter()
        .find(|(keys, _)| keys.iter().any(|k| q.contains(k)))
        .map(|(_, a)| *a)
        .unwrap_or(default)
}

/// Words with times as a recogniser would give them: 380 ms a word after a 1.5 s pause.
fn timed_words(text: &str, from_ms: u64) -> (Vec<Word>, u64) {
    let mut t = from_ms + 1500;
    let words = text
        .split_whitespace()
        .map(|w| {
            let word = Word {
                text: w.to_string(),
                start_ms: t,
                end_ms: t + 330,
            };
            t += 380;
            word
        })
        .collect();
    (words, t + 600)
}

/// Runs one whole interview of the demo job and returns its transcript.
pub fn interview(candidate: Candidate) -> Transcript {
    let mut engine = Interview::new(demo_job(), EngineConfig::default());
    let mut now = 0u64;
    let mut actions = engine.handle(now, Event::Start);
    for _ in 0..120 {
        if engine.is_ended() {
            break;
        }
        let question = actions
            .iter()
            .rev()
            .find_map(|a| match a {
                Action::Say {
                    text,
                    awaits_answer: true,
                    ..
                } => Some(text.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let text = answer_for(candidate, &question);
        let (words, end) = timed_words(text, now);
        now = end;
        actions = engine.handle(
            now,
            Event::CandidateAnswered {
                text: text.to_string(),
                words: Some(words),
            },
        );
    }
    if !engine.is_ended() {
        engine.handle(now, Event::CandidateLeft);
    }
    engine.into_transcript()
}
