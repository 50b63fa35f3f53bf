import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The module's Prometheus metrics, in a registry of its own (no global state), served
 * at /metrics. Components receive this object and count what they do.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly amiEvents = new Counter({ name: 'tgpbx_ami_events_total', help: 'AMI events received', registers: [this.registry] });
  readonly amiConnected = new Gauge({ name: 'tgpbx_ami_connected', help: '1 when logged in to AMI, else 0', registers: [this.registry] });
  readonly amiReconnects = new Counter({ name: 'tgpbx_ami_reconnects_total', help: 'AMI connection attempts after a loss', registers: [this.registry] });
  readonly calls = new Counter({ name: 'tgpbx_calls_total', help: 'Calls folded by the call tracker', labelNames: ['direction'], registers: [this.registry] });
  readonly callEventsIgnored = new Counter({
    name: 'tgpbx_call_events_ignored_total',
    help: 'AMI call events the call tracker could not use: missing_field, after_end (duplicates of a finished call)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly callsActive = new Gauge({ name: 'tgpbx_calls_active', help: 'Calls in progress', registers: [this.registry] });
  readonly outboxMessages = new Counter({
    name: 'tgpbx_outbox_messages_total',
    help: 'Telegram messages by outcome: queued, sent, failed, retried, rate_limited',
    labelNames: ['state'],
    registers: [this.registry],
  });
  readonly outboxPending = new Gauge({ name: 'tgpbx_outbox_pending', help: 'Messages waiting in the outbox', registers: [this.registry] });
  readonly fastAgiSessions = new Counter({
    name: 'tgpbx_fastagi_sessions_total',
    help: 'FastAGI conversations by handler and outcome (ok, hangup, timeout, protocol, closed, command, unknown-handler, error)',
    labelNames: ['handler', 'outcome'],
    registers: [this.registry],
  });

  readonly providerComponentLight = new Gauge({
    name: 'tgpbx_provider_component_light',
    help: 'Telegram provider component per line: 2 green (connected), 1 orange (connecting), 0 red (authorization needed)',
    labelNames: ['line', 'component'],
    registers: [this.registry],
  });
  readonly providerLinesConnected = new Gauge({ name: 'tgpbx_provider_lines_connected', help: '1 when every component of every Telegram number is green', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tgpbx_' });
    for (const state of ['queued', 'sent', 'failed', 'retried', 'rate_limited']) this.outboxMessages.inc({ state }, 0);
  }

  /** The Prometheus text exposition of every metric. */
  async render(): Promise<string> {
    return this.registry.metrics();
  }
}
