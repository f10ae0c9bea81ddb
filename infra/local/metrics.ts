/**
 * The local runtime's Prometheus/OpenMetrics endpoint (`GET /metrics`), where a process lives long enough to be
 * scraped. prom-client formats it (no hand-written exposition text). Invocations are counted as they happen; the
 * store-derived figures (deployments by state and the oldest's age, mini programs needing a new scan, webhook
 * deliveries waiting and given up) are read from the same summary as `GET /v1/platform/metrics/summary` at each
 * scrape. Labels are low-cardinality: function, trigger kind, outcome, state — never an appid, id or secret.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { openCollections } from '../../shared/app/context';
import { type MetricsSummary, metricsSummary } from '../../shared/app/metrics/summary';
import type { Logger } from '../../shared/runtime/logger';
import { METRICS, type MetricName, type MetricSample, observeMetrics, promNameOf, SECONDS_BUCKETS } from '../../shared/runtime/metrics';
import type { DocumentStore } from '../../shared/store/port';
import type { InvocationRecord } from './runtime';

/** The runtime's own invocation metrics, counted from its invocation records instead (below). */
const COUNTED_BY_THE_RUNTIME: ReadonlySet<MetricName> = new Set(['invocation_duration', 'invocation_errors']);

/**
 * One prom-client metric per entry of METRICS, fed every sample the functions record (the same samples that make
 * each invocation's EMF record), under the same name with Prometheus' prefix and suffixes (`promNameOf`).
 */
function recordedMetrics(registry: Registry): (sample: MetricSample) => void {
  const sinks = new Map<MetricName, (sample: MetricSample) => void>();
  for (const name of Object.keys(METRICS) as MetricName[]) {
    if (COUNTED_BY_THE_RUNTIME.has(name)) continue;
    const definition: { kind: string; labels: readonly string[]; help: string; buckets?: readonly number[] } = METRICS[name];
    const common = { name: promNameOf(name), help: definition.help, labelNames: [...definition.labels], registers: [registry] };
    if (definition.kind === 'counter') {
      const counter = new Counter(common);
      sinks.set(name, (s) => counter.inc(s.labels, s.value));
    } else if (definition.kind === 'gauge') {
      const gauge = new Gauge(common);
      sinks.set(name, (s) => gauge.set(s.labels, s.value));
    } else {
      const histogram = new Histogram({ ...common, ...(definition.buckets ? { buckets: [...definition.buckets] } : {}) });
      sinks.set(name, (s) => histogram.observe(s.labels, s.value));
    }
  }
  return (sample) => sinks.get(sample.name)?.(sample);
}

export function createLocalMetrics(openStore: () => Promise<DocumentStore>, log?: Logger) {
  const registry = new Registry();
  // The per-invocation records go to the debug log here: the scrape endpoint is how a local operator reads them.
  const stopObserving = observeMetrics({
    sample: recordedMetrics(registry),
    line: (line) => log?.debug('metrics record', { record: JSON.parse(line) as unknown }),
  });
  const invocations = new Counter({
    name: 'wxa_invocations_total',
    help: 'Function invocations by function, trigger kind and outcome',
    labelNames: ['fn', 'trigger', 'outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'wxa_invocation_duration_seconds',
    help: 'Function invocation duration',
    labelNames: ['fn', 'trigger'],
    buckets: [...SECONDS_BUCKETS],
    registers: [registry],
  });
  const read = async (): Promise<MetricsSummary> => {
    const store = await openStore();
    return metricsSummary({ clock: Date.now, db: openCollections(store), store }, null);
  };
  let latest: Promise<MetricsSummary> | null = null;
  const summary = () => (latest ??= read().finally(() => setTimeout(() => (latest = null), 1_000)));
  new Gauge({
    name: 'wxa_deployments',
    help: 'Deployments by state (counting stops at 1000)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      for (const [state, c] of Object.entries((await summary()).deployments)) this.set({ state }, c.count);
    },
  });
  new Gauge({
    name: 'wxa_deployment_oldest_age_seconds',
    help: 'How long the oldest deployment in each state has been in it',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      for (const [state, c] of Object.entries((await summary()).deployments))
        if (c.oldestAgeMs !== null) this.set({ state }, c.oldestAgeMs / 1000);
    },
  });
  new Gauge({
    name: 'wxa_mini_programs_needing_reauth',
    help: 'Mini programs whose refresh token WeChat refused: their admin must scan again',
    registers: [registry],
    async collect() {
      this.set((await summary()).miniProgramsNeedingReauth.count);
    },
  });
  new Gauge({
    name: 'wxa_webhook_deliveries',
    help: 'Webhook deliveries waiting (pending) or given up (failed)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const w = (await summary()).webhooks;
      this.set({ status: 'pending' }, w.pendingDeliveries.count);
      this.set({ status: 'failed' }, w.failedDeliveries.count);
    },
  });
  return {
    observe(entry: InvocationRecord) {
      const trigger = entry.trigger.split(' ')[0] ?? 'unknown';
      const outcome = entry.status === 'error' || (typeof entry.status === 'number' && entry.status >= 500) ? 'error' : 'ok';
      invocations.inc({ fn: entry.fn, trigger, outcome });
      duration.observe({ fn: entry.fn, trigger }, entry.durationMs / 1000);
    },
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
    close: stopObserving,
  };
}
