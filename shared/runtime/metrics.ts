/**
 * Metrics, the way a serverless function emits them cheaply: recorded into a collector made for one invocation
 * and written as ONE structured JSON line when the invocation ends (even when it throws), in CloudWatch's Embedded
 * Metric Format — what Powertools for AWS Lambda's `Metrics` does (`addMetric` stores, `publishStoredMetrics`
 * prints one EMF object to stdout; its middy `logMetrics` flushes after the handler). CloudWatch reads EMF as is;
 * SCF's CLS and FC's SLS index JSON log lines, where a query or metric rule over them is the operator's to set up.
 * Either way no agent and no API call sits on the request path.
 *
 * EMF gives a record one value per dimension, so a record cannot say "3 calls to commit, 1 to submit" as
 * dimensions. The record therefore carries each metric's invocation total under the EMF directive (dimensions
 * `service` and `function`) and the break-down by labels (operation, errcode, template, …) in `series`, a plain
 * field any log query reads. Labels are few and bounded by construction (METRICS lists them): never an appid, a
 * deployment or account id, a URL or a token. In the local runtime the same samples also feed prom-client (see
 * infra/local/metrics.ts), under the same names.
 *
 * Services are built once per cold start and, in the local runtime, shared by concurrent invocations, so the
 * collector of the invocation under way is found through AsyncLocalStorage: `invocationMetrics` (on the service
 * bag as `metrics`) records into whichever invocation is running the code that calls it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { writeStdoutLine } from './stdout';

export const METRICS_NAMESPACE = 'wxa-deploy';

type Kind = 'counter' | 'histogram' | 'gauge';
type Unit = 'Count' | 'Seconds' | 'Milliseconds';

interface MetricDefinition {
  readonly kind: Kind;
  readonly unit: Unit;
  readonly labels: readonly string[];
  readonly help: string;
  readonly buckets?: readonly number[];
}

/** Durations and lags in seconds: the functions' histograms and the local runtime's invocation duration. */
export const SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Audits take 1–7 days: buckets from an hour to two weeks. */
const AUDIT_BUCKETS = [3_600, 6 * 3_600, 86_400, 2 * 86_400, 3 * 86_400, 5 * 86_400, 7 * 86_400, 14 * 86_400];

/** Every metric the functions record: the README's "Metrics" section lists the same. */
export const METRICS = {
  invocation_duration: { kind: 'histogram', unit: 'Milliseconds', labels: [], help: 'How long the invocation took' },
  invocation_errors: { kind: 'counter', unit: 'Count', labels: [], help: 'Invocations that threw or answered 5xx' },
  wechat_calls: {
    kind: 'counter',
    unit: 'Count',
    labels: ['operation', 'errcode'],
    help: 'HTTP attempts at WeChat by API path and errcode (0 = success; timeout, connect, connection, http-status, bad-response when WeChat gave none)',
  },
  wechat_errors: { kind: 'counter', unit: 'Count', labels: ['operation', 'errcode'], help: 'The wechat_calls that failed' },
  token_refreshes: {
    kind: 'counter',
    unit: 'Count',
    labels: ['kind', 'outcome'],
    help: 'Access token refreshes by kind (component, authorizer) and outcome (ok, error)',
  },
  needs_reauth_marks: {
    kind: 'counter',
    unit: 'Count',
    labels: [],
    help: 'Mini programs marked needs-reauth (WeChat refused the refresh token)',
  },
  audit_decisions: {
    kind: 'counter',
    unit: 'Count',
    labels: ['template', 'decision'],
    help: 'Audit decisions recorded, by template id and decision',
  },
  audit_latency: {
    kind: 'histogram',
    unit: 'Seconds',
    labels: ['decision'],
    help: 'From the audit submit to its decision',
    buckets: AUDIT_BUCKETS,
  },
  audits_reconciled_by_poller: {
    kind: 'counter',
    unit: 'Count',
    labels: [],
    help: 'Audit decisions the poller found before any push told of them',
  },
  audit_quota_left: { kind: 'gauge', unit: 'Count', labels: [], help: "The platform's audit quota left this month, as last read" },
  push_lag: {
    kind: 'histogram',
    unit: 'Seconds',
    labels: ['source'],
    help: "From WeChat's CreateTime to the push's arrival, by URL (component, authorizer)",
    buckets: SECONDS_BUCKETS,
  },
  poller_tick_duration: { kind: 'histogram', unit: 'Seconds', labels: [], help: 'How long a poller tick took', buckets: SECONDS_BUCKETS },
  poller_tick_budget: { kind: 'gauge', unit: 'Seconds', labels: [], help: 'The time budget of the last poller tick' },
  poller_ticks_stopped_by_budget: {
    kind: 'counter',
    unit: 'Count',
    labels: [],
    help: 'Poller ticks that ran out of budget with work left',
  },
  webhook_deliveries: {
    kind: 'counter',
    unit: 'Count',
    labels: ['outcome'],
    help: 'Webhook delivery attempts by outcome (delivered, failed, gave-up)',
  },
  webhook_delivery_lag: {
    kind: 'histogram',
    unit: 'Seconds',
    labels: [],
    help: 'From an event to its successful delivery',
    buckets: SECONDS_BUCKETS,
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRICS;

/** Its name in Prometheus text: prefixed, with the unit and `_total` suffixes Prometheus' naming rules ask for. */
export const promNameOf = (name: MetricName): string => {
  const { kind, unit } = METRICS[name];
  return `wxa_${name}${unit === 'Seconds' ? '_seconds' : unit === 'Milliseconds' ? '_milliseconds' : ''}${kind === 'counter' ? '_total' : ''}`;
};
export type LabelsOf<N extends MetricName> = { readonly [L in (typeof METRICS)[N]['labels'][number]]: string };

/** What app and WeChat code record into (`Services.metrics`). */
export interface MetricsRecorder {
  /** A counter's increment, a histogram's observation or a gauge's value. */
  record<N extends MetricName>(name: N, value: number, labels: LabelsOf<N>): void;
}

export interface MetricSample {
  name: MetricName;
  value: number;
  labels: Readonly<Record<string, string>>;
}

export interface InvocationInfo {
  /** The function's name in serverless.yml: `api`, `review-poller`, … */
  function: string;
  trigger: 'http' | 'schedule';
}

interface Series {
  metric: MetricName;
  labels: Readonly<Record<string, string>>;
  values: number[];
}

/** EMF keeps at most 100 values per metric in one record (Powertools' MAX_METRIC_VALUES_SIZE). */
const MAX_VALUES = 100;

/** Label values are short identifiers; anything else is cut, so no long text rides in on a label by mistake. */
const labelValue = (value: string): string => (/^[\w./:-]{1,80}$/.test(value) ? value : 'other');

/** The metrics of one invocation, flushed once as one EMF record. */
export class InvocationMetrics {
  private readonly series = new Map<string, Series>();
  private flushed = false;

  constructor(private readonly invocation: InvocationInfo) {}

  record(sample: MetricSample): void {
    if (this.flushed) return;
    const labels = Object.fromEntries(Object.entries(sample.labels).map(([k, v]) => [k, labelValue(v)]));
    const key = `${sample.name}${JSON.stringify(labels)}`;
    const found = this.series.get(key);
    if (found) found.values.push(sample.value);
    else this.series.set(key, { metric: sample.name, labels, values: [sample.value] });
  }

  /** The one record of the invocation; null the second time (an invocation writes exactly one). */
  flush(at: number): Record<string, unknown> | null {
    if (this.flushed) return null;
    this.flushed = true;
    const byMetric = new Map<MetricName, number[]>();
    const series: Record<string, unknown>[] = [];
    for (const s of this.series.values()) {
      // Appended in place: a poller tick can record thousands of values over dozens of series of one metric.
      const all = byMetric.get(s.metric);
      if (all) for (const value of s.values) all.push(value);
      else byMetric.set(s.metric, s.values.slice());
      if (Object.keys(s.labels).length === 0) continue;
      const value = reduce(s.metric, s.values);
      series.push({ metric: s.metric, labels: s.labels, ...(Array.isArray(value) ? { values: value } : { value }) });
    }
    const values = Object.fromEntries([...byMetric].map(([name, all]) => [name, reduce(name, all)]));
    return {
      _aws: {
        Timestamp: at,
        CloudWatchMetrics: [
          {
            Namespace: METRICS_NAMESPACE,
            Dimensions: [['service', 'function']],
            Metrics: [...byMetric.keys()].map((name) => ({ Name: name, Unit: METRICS[name].unit })),
          },
        ],
      },
      service: METRICS_NAMESPACE,
      function: this.invocation.function,
      trigger: this.invocation.trigger,
      ...values,
      series,
    };
  }
}

/** A series' value in the record: a counter's sum, a gauge's last value, a histogram's observations. */
function reduce(metric: MetricName, values: number[]): number | number[] {
  switch (METRICS[metric].kind) {
    case 'counter':
      return values.reduce((a, b) => a + b, 0);
    case 'gauge':
      return values.at(-1) ?? 0;
    case 'histogram':
      return values.slice(-MAX_VALUES);
  }
}

/** Told of every sample as it is recorded and of every invocation's record line (the local runtime's prom-client). */
export interface MetricsObserver {
  sample?(sample: MetricSample): void;
  /** Given the line instead of stdout: while any observer takes lines, they are not printed. */
  line?(line: string): void;
}

const observers = new Set<MetricsObserver>();

/** Adds an observer; returns its removal. */
export function observeMetrics(observer: MetricsObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

const current = new AsyncLocalStorage<InvocationMetrics>();

/**
 * The invocation under way (its collector, as an opaque key), or undefined outside any: what a value that may be
 * reused only within the invocation that read it is kept under (the token manager's `remembered`). Overlapping
 * invocations (the local runtime) each see their own.
 */
export const currentInvocation = (): object | undefined => current.getStore();

/** Records into the invocation under way (and tells observers); outside any invocation, only observers hear it. */
export const invocationMetrics: MetricsRecorder = {
  record(name, value, labels) {
    if (!Number.isFinite(value)) return;
    const sample: MetricSample = { name, value, labels };
    current.getStore()?.record(sample);
    for (const o of observers) o.sample?.(sample);
  },
};

function writeLine(line: string): void {
  const takers = [...observers].filter((o) => o.line);
  if (takers.length === 0) {
    // Straight to stdout, whatever LOG_LEVEL says: a metric is not a log line one may turn off (Powertools does the same).
    writeStdoutLine(line);
    return;
  }
  for (const o of takers) o.line?.(line);
}

/**
 * Runs one invocation with its own collector and writes its one record when it ends, thrown or not. `failed`
 * says whether a result that did not throw still counts as an error (an HTTP 5xx).
 */
export async function withInvocationMetrics<T>(
  invocation: InvocationInfo,
  run: () => Promise<T>,
  failed: (result: T) => boolean = () => false,
  clock: () => number = Date.now,
): Promise<T> {
  const collector = new InvocationMetrics(invocation);
  const started = clock();
  let error = true;
  try {
    const result = await current.run(collector, run);
    error = failed(result);
    return result;
  } finally {
    collector.record({ name: 'invocation_duration', value: clock() - started, labels: {} });
    collector.record({ name: 'invocation_errors', value: error ? 1 : 0, labels: {} });
    const record = collector.flush(clock());
    if (record) writeLine(JSON.stringify(record));
  }
}
