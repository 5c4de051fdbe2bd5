// Prometheus metrics of one API server (GET /metrics), on a registry of its own so that
// several servers in one process (tests) do not collide.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { HubMetrics } from './subscriptions/hub.js';

/** query | mutation | subscription, or unknown when the request failed before parsing. */
export type OperationType = 'query' | 'mutation' | 'subscription' | 'unknown';

/**
 * success: answered without errors; rejected: refused before execution (malformed,
 * invalid, over a limit, bad variables); error: executed with errors; timeout;
 * unauthorized (no or bad API key); rate_limited.
 */
export type Outcome = 'success' | 'rejected' | 'error' | 'timeout' | 'unauthorized' | 'rate_limited';

export interface ChainPosition {
  block: number;
  head: number;
}

export class ApiMetrics implements HubMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'operation' | 'outcome' | 'transport'>;
  private readonly duration: Histogram<'operation' | 'outcome' | 'transport'>;
  private readonly subscribers: Gauge<'subscription'>;
  private readonly eventsDelivered: Counter<'subscription'>;
  private readonly eventsDropped: Counter<'subscription'>;
  private readonly connections: Gauge;

  /** `chain` reads the cursor at scrape time; null when nothing is ingested (or unreachable). */
  constructor(chain: () => Promise<ChainPosition | null>) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'pts_' });
    this.requests = new Counter({
      name: 'pts_api_requests_total',
      help: 'GraphQL operations handled, by operation type, outcome and transport (http, ws)',
      labelNames: ['operation', 'outcome', 'transport'],
      registers,
    });
    this.duration = new Histogram({
      name: 'pts_api_request_duration_seconds',
      help: 'GraphQL operation latency (subscriptions: until subscribed), by operation type, outcome and transport',
      labelNames: ['operation', 'outcome', 'transport'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.subscribers = new Gauge({
      name: 'pts_api_subscribers',
      help: 'Active GraphQL subscriptions, by subscription field',
      labelNames: ['subscription'],
      registers,
    });
    this.eventsDelivered = new Counter({
      name: 'pts_api_subscription_events_delivered_total',
      help: 'Subscription events handed to subscribers, by subscription field',
      labelNames: ['subscription'],
      registers,
    });
    this.eventsDropped = new Counter({
      name: 'pts_api_subscription_events_dropped_total',
      help: 'Subscription events dropped when a too-slow subscriber was disconnected, by subscription field',
      labelNames: ['subscription'],
      registers,
    });
    this.connections = new Gauge({
      name: 'pts_api_websocket_connections',
      help: 'Open WebSocket connections',
      registers,
    });
    // The three chain gauges share one cursor read per scrape.
    let scrape: Promise<ChainPosition | null> | null = null;
    const position = () => (scrape ??= chain().catch(() => null).finally(() => setImmediate(() => (scrape = null))));
    const chainGauge = (name: string, help: string, value: (p: ChainPosition) => number) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          const p = await position();
          if (p) this.set(value(p));
          else this.reset();
        },
      });
    chainGauge('pts_ingested_block', 'Last block committed by the ingester (the cursor)', (p) => p.block);
    chainGauge('pts_head_block', 'Chain head last seen by the ingester', (p) => p.head);
    chainGauge('pts_ingest_lag_blocks', 'Blocks between the head seen and the last committed block', (p) => Math.max(0, p.head - p.block));
  }

  observeRequest(operation: OperationType, outcome: Outcome, transport: 'http' | 'ws', seconds: number): void {
    this.requests.inc({ operation, outcome, transport });
    this.duration.observe({ operation, outcome, transport }, seconds);
  }

  connectionOpened(): void {
    this.connections.inc();
  }

  connectionClosed(): void {
    this.connections.dec();
  }

  subscribed(kind: string): void {
    this.subscribers.inc({ subscription: kind });
  }

  unsubscribed(kind: string): void {
    this.subscribers.dec({ subscription: kind });
  }

  delivered(kind: string, count = 1): void {
    this.eventsDelivered.inc({ subscription: kind }, count);
  }

  dropped(kind: string, count: number): void {
    this.eventsDropped.inc({ subscription: kind }, count);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
