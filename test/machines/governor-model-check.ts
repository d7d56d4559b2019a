/**
 * An explicit-state model checker for the governor statechart: explores every reachable
 * (state, abstract context) with `xstate/graph` over the full event alphabet (including the
 * done/error events of invoked actors and every `after` event) and checks S1–S10 on every edge.
 */
import type { AnyEventObject, AnyMachineSnapshot, AnyStateMachine, AnyStateNode } from 'xstate';
import { type AdjacencyMap, getAdjacencyMap, getStateNodes } from 'xstate/graph';
import {
  type GovernorContext,
  type GovernorInput,
  SHUTDOWN_TRIGGERS,
  type ShutdownLatch,
} from '../../machines/index.js';
import { brokenInvariant, type SnapshotView } from './governor-invariants.js';

export const PROPERTIES = {
  S1: 'no edge leaves SHUTDOWN',
  S2: 'every edge into AGGRESSIVE comes from CHECKING on a report that passed in that visit',
  S3: 'failsafe.triggered and operator.shutdown lead to SHUTDOWN from every non-final state',
  S4: 'heartbeat.lost, integrity.violated and authority.lost never lead to AGGRESSIVE',
  S5: 'from OBSERVE_ONLY only CHECKING (by operator.resume) or SHUTDOWN are reachable in one step',
  S6: 'every state is reachable, and only SHUTDOWN has no way out',
  S7: 'a failure in CHECKING or AGGRESSIVE (heartbeat lost, integrity violated, authority lost, checks failed) leads to OBSERVE_ONLY with the failure held',
  S8: "a capital mismatch found by this visit's checks leads to SHUTDOWN (CAPITAL_INCONSISTENT)",
  S9: 'AGGRESSIVE is entered only with AGGRESSIVE configured and desired and no failure held',
  S10: 'a heartbeat, authority or integrity loss in STARTING or OBSERVE_ONLY changes neither state nor context',
  INV: 'every reachable snapshot satisfies the state invariants',
} as const;
export type PropertyName = keyof typeof PROPERTIES;

export interface AlphabetEntry {
  readonly label: string;
  readonly event: AnyEventObject;
}

export interface Vertex {
  readonly key: string;
  readonly view: SnapshotView;
  /** True for the STARTING snapshots made up to ask "what if an event arrived here?". */
  readonly synthetic: boolean;
}

export interface Edge {
  readonly from: Vertex;
  readonly to: Vertex;
  readonly label: string;
  readonly event: AnyEventObject;
}

export interface Violation {
  readonly property: PropertyName;
  /** The offending edge (or state) in words: `FROM --event--> TO`. */
  readonly where: string;
  readonly detail: string;
}

export interface ModelCheckResult {
  readonly vertices: readonly Vertex[];
  readonly edges: readonly Edge[];
  readonly alphabetSize: number;
  readonly violations: readonly Violation[];
}

const LIFECYCLE_ID = 'lifecycle-model';
const AT = '2026-01-01T00:00:00.000Z';
const OPERATOR = { operator: 'alice', reason: 'model check', at: AT } as const;
const HOLD = {
  cause: 'HEARTBEAT_LOST',
  reason: 'no heartbeat for 2m (previous process)',
  at: AT,
} as const;
const LATCH: ShutdownLatch = {
  trigger: 'MARKET_DATA_STALL',
  reason: 'no market data for 10 min',
  at: '2026-01-01T00:00:00.000Z',
};

function stateValueOf(snapshot: AnyMachineSnapshot): string {
  const value: unknown = snapshot.value;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function viewOf(snapshot: AnyMachineSnapshot): SnapshotView {
  const context: GovernorContext = snapshot.context;
  return { value: stateValueOf(snapshot), status: snapshot.status, context };
}

type ReportClass =
  | 'none'
  | 'passed-this-visit'
  | 'failed'
  | 'capital-mismatch'
  | 'stale-or-foreign';

function reportClass(context: GovernorContext): ReportClass {
  const report = context.report;
  if (report === null) return 'none';
  if (!report.passed) {
    const capital = report.results.find((r) => r.name === 'capital_reconciliation');
    return capital?.outcome === 'failed' ? 'capital-mismatch' : 'failed';
  }
  const current = report.visit === context.visit && report.lifecycleId === context.lifecycleId;
  return current ? 'passed-this-visit' : 'stale-or-foreign';
}

/**
 * The abstraction: state, status and the context fields that decide behaviour. The visit
 * number is unbounded, so only the report's relation to the current visit is kept.
 */
export function abstractKey(snapshot: AnyMachineSnapshot): string {
  const { value, status, context } = viewOf(snapshot);
  return JSON.stringify({
    value,
    status,
    configuredMode: context.configuredMode,
    desiredMode: context.desiredMode,
    latch: context.latch !== null,
    hold: context.hold?.cause ?? null,
    report: reportClass(context),
    observeCause: context.observeCause,
    causeHeld: context.causeHeld,
    shutdown: context.shutdown?.trigger ?? null,
  });
}

/** A short reading of a vertex for violation messages. */
export function describeVertex(vertex: Vertex): string {
  const { value, context } = vertex.view;
  const parts = [
    `configured ${context.configuredMode}`,
    `desired ${context.desiredMode}`,
    `report ${reportClass(context)}`,
  ];
  if (context.hold !== null) parts.push(`held ${context.hold.cause}`);
  if (context.observeCause !== null) parts.push(`cause ${context.observeCause}`);
  if (context.shutdown !== null) parts.push(`trigger ${context.shutdown.trigger}`);
  if (context.latch !== null) parts.push('latch set');
  return `${value}(${parts.join(', ')})`;
}

export function describeEdge(edge: Edge): string {
  return `${describeVertex(edge.from)} --${edge.label}--> ${describeVertex(edge.to)}`;
}

function allNodes(machine: AnyStateMachine): AnyStateNode[] {
  return [machine.root, ...getStateNodes(machine.root)];
}

/** The invoke ids and `after` event types that the machine defines anywhere. */
function internalEventSources(machine: AnyStateMachine): {
  invokeIds: string[];
  afterEventTypes: string[];
} {
  const invokeIds = new Set<string>();
  const afterEventTypes = new Set<string>();
  for (const node of allNodes(machine)) {
    for (const invoke of node.invoke) invokeIds.add(invoke.id);
    for (const transition of node.after) afterEventTypes.add(transition.eventType);
  }
  return { invokeIds: [...invokeIds].sort(), afterEventTypes: [...afterEventTypes].sort() };
}

/** Every event type some state node of the machine handles (excluding eventless ones). */
export function handledEventTypes(machine: AnyStateMachine): string[] {
  const types = new Set<string>();
  for (const node of allNodes(machine)) {
    for (const type of node.transitions.keys()) types.add(type);
  }
  return [...types].sort();
}

const passingCheck = {
  name: 'event_log_integrity',
  outcome: 'passed',
  passed: true,
  details: 'ok',
  rootCause: '',
  recommendedAction: '',
};
const failingCheck = {
  name: 'adapters_reachable',
  outcome: 'failed',
  passed: false,
  details: 'exchange: no answer',
  rootCause: 'adapter unreachable',
  recommendedAction: 'check the exchange',
};
const capitalMismatch = {
  name: 'capital_reconciliation',
  outcome: 'failed',
  passed: false,
  details: 'pool p: total 100 != accounts 99',
  rootCause: 'mismatch',
  recommendedAction: 'reconcile',
};
const capitalUnreadable = { ...capitalMismatch, outcome: 'unreadable', details: 'malformed' };

/**
 * The full alphabet, relative to `context`: every external event with representative
 * payloads, and for every invoked actor its done event (passing, failing, stale, future,
 * foreign and malformed reports) and error event, and every `after` event.
 */
export function alphabetFor(machine: AnyStateMachine, context: GovernorContext): AlphabetEntry[] {
  const entries: AlphabetEntry[] = [
    { label: 'lifecycle.start', event: { type: 'lifecycle.start', at: AT } },
    {
      label: 'heartbeat.lost',
      event: { type: 'heartbeat.lost', reason: 'no heartbeat', at: AT },
    },
    {
      label: 'integrity.violated',
      event: { type: 'integrity.violated', reason: 'duplicate event id', at: AT },
    },
    {
      label: 'authority.lost',
      event: { type: 'authority.lost', reason: 'no lease renewal for 120 s', at: AT },
    },
    { label: 'operator.observe', event: { type: 'operator.observe', ...OPERATOR } },
    { label: 'operator.resume', event: { type: 'operator.resume', ...OPERATOR } },
    { label: 'operator.shutdown', event: { type: 'operator.shutdown', ...OPERATOR } },
    ...SHUTDOWN_TRIGGERS.map((trigger) => ({
      label: `failsafe.triggered(${trigger})`,
      event: { type: 'failsafe.triggered', trigger, reason: `model: ${trigger}`, at: AT },
    })),
  ];
  const { invokeIds, afterEventTypes } = internalEventSources(machine);
  const here = { lifecycleId: context.lifecycleId, visit: context.visit, completedAt: AT };
  const outputs: ReadonlyArray<readonly [string, unknown]> = [
    ['passed this visit', { ...here, passed: true, results: [passingCheck] }],
    ['failed this visit', { ...here, passed: false, results: [passingCheck, failingCheck] }],
    ['capital mismatch this visit', { ...here, passed: false, results: [capitalMismatch] }],
    ['capital unreadable this visit', { ...here, passed: false, results: [capitalUnreadable] }],
    [
      'capital mismatch, stale visit',
      { ...here, visit: context.visit - 1, passed: false, results: [capitalMismatch] },
    ],
    ['passed, stale visit', { ...here, visit: context.visit - 1, passed: true, results: [] }],
    ['passed, future visit', { ...here, visit: context.visit + 1, passed: true, results: [] }],
    [
      'passed, other lifecycle',
      { ...here, lifecycleId: 'lifecycle-other', passed: true, results: [] },
    ],
    ['malformed output', { passed: true }],
  ];
  for (const id of invokeIds) {
    for (const [what, output] of outputs) {
      entries.push({
        label: `done.${id}(${what})`,
        event: { type: `xstate.done.actor.${id}`, output },
      });
    }
    entries.push({
      label: `error.${id}`,
      event: { type: `xstate.error.actor.${id}`, error: new Error('adapter unreachable') },
    });
  }
  for (const type of afterEventTypes) {
    entries.push({ label: type.replace(/^xstate\./, ''), event: { type } });
  }
  return entries;
}

/**
 * An invoked actor's error event can only arrive while that actor lives (XState stops the
 * child when its state exits, and would turn an unhandled child error into an actor error).
 * Done and `after` events are delivered everywhere: where unhandled they must be ignored.
 */
function childErrorOnlyWhileChildLives(
  snapshot: AnyMachineSnapshot,
  event: AnyEventObject,
): boolean {
  const prefix = 'xstate.error.actor.';
  if (!event.type.startsWith(prefix)) return true;
  const children: Record<string, unknown> = snapshot.children;
  return event.type.slice(prefix.length) in children;
}

function inputFor(
  configuredMode: GovernorInput['configuredMode'],
  desiredMode: GovernorInput['desiredMode'],
  latch: ShutdownLatch | null,
  hold: GovernorInput['hold'],
): GovernorInput {
  return {
    lifecycleId: LIFECYCLE_ID,
    configuredMode,
    desiredMode,
    latch,
    hold,
    startupChecksTimeoutMs: 30_000,
  };
}

function startingContext(input: GovernorInput): GovernorContext {
  return {
    ...input,
    hold: input.hold === null ? null : { cause: input.hold.cause, reason: input.hold.reason },
    visit: 0,
    report: null,
    observeCause: null,
    causeReason: null,
    causeHeld: false,
    shutdown: null,
  };
}

/** Explores the machine from every start (both desired modes, with and without a latch). */
export function explore(machine: AnyStateMachine): {
  vertices: Map<string, Vertex>;
  edges: Edge[];
  roots: string[];
  alphabetSize: number;
} {
  const vertices = new Map<string, Vertex>();
  const edges: Edge[] = [];
  const roots: string[] = [];
  const labels = new WeakMap<AnyEventObject, string>();
  let alphabetSize = 0;
  const events = (snapshot: AnyMachineSnapshot): AnyEventObject[] => {
    const entries = alphabetFor(machine, viewOf(snapshot).context);
    alphabetSize = Math.max(alphabetSize, entries.length);
    for (const entry of entries) labels.set(entry.event, entry.label);
    return entries.map((entry) => entry.event);
  };
  const options = {
    events,
    filterEvents: childErrorOnlyWhileChildLives,
    serializeState: abstractKey,
    serializeEvent: (event: AnyEventObject) => labels.get(event) ?? event.type,
  };
  /** The vertex of this concrete snapshot (edges keep the concrete source they came from). */
  const vertexOf = (snapshot: AnyMachineSnapshot, synthetic: boolean): Vertex => {
    const vertex = { key: abstractKey(snapshot), view: viewOf(snapshot), synthetic };
    if (!vertices.has(vertex.key)) vertices.set(vertex.key, vertex);
    return vertex;
  };
  const starts: Array<{ input: GovernorInput; synthetic: boolean }> = [];
  for (const configuredMode of ['AGGRESSIVE', 'OBSERVE_ONLY'] as const) {
    for (const desiredMode of ['AGGRESSIVE', 'OBSERVE_ONLY'] as const) {
      for (const latch of [null, LATCH]) {
        for (const hold of [null, HOLD]) {
          // STARTING now waits for lifecycle.start, so its events are explored from the real
          // initial snapshot; a made-up STARTING with a latch could not exist (it is SHUTDOWN).
          starts.push({
            input: inputFor(configuredMode, desiredMode, latch, hold),
            synthetic: false,
          });
        }
      }
    }
  }
  for (const start of starts) {
    const fromState = start.synthetic
      ? machine.resolveState({ value: 'STARTING', context: startingContext(start.input) })
      : undefined;
    const adjacency: AdjacencyMap<AnyMachineSnapshot, AnyEventObject> = getAdjacencyMap(machine, {
      ...options,
      input: start.input,
      ...(fromState === undefined ? {} : { fromState }),
    });
    let first = true;
    for (const { state, transitions } of Object.values(adjacency)) {
      const from = vertexOf(state, start.synthetic && first);
      if (first) roots.push(from.key);
      first = false;
      for (const { event, state: next } of Object.values<Step>(transitions)) {
        const to = vertexOf(next, false);
        edges.push({ from, to, event, label: labels.get(event) ?? event.type });
      }
    }
  }
  return { vertices, edges, roots, alphabetSize };
}

type Step = { readonly event: AnyEventObject; readonly state: AnyMachineSnapshot };

function unique<T>(items: Iterable<T>, keyOf: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(keyOf(item))) seen.set(keyOf(item), item);
  return [...seen.values()];
}

function contextUnchanged(edge: Edge): boolean {
  return JSON.stringify(edge.from.view.context) === JSON.stringify(edge.to.view.context);
}

/** Whether `edge` delivers, in CHECKING, a well-formed report that passed in that very visit. */
function deliversReportPassedThisVisit(edge: Edge): boolean {
  const { event } = edge;
  if (edge.from.view.value !== 'CHECKING' || !event.type.startsWith('xstate.done.actor.')) {
    return false;
  }
  const output: unknown = event.output;
  if (typeof output !== 'object' || output === null) return false;
  const report = output as Record<string, unknown>;
  const context = edge.from.view.context;
  return (
    report.passed === true &&
    report.visit === context.visit &&
    report.lifecycleId === context.lifecycleId
  );
}

/** Whether `edge` delivers, in CHECKING, a report of this visit whose capital check failed. */
function deliversCapitalMismatchThisVisit(edge: Edge): boolean {
  const { event } = edge;
  if (edge.from.view.value !== 'CHECKING' || !event.type.startsWith('xstate.done.actor.')) {
    return false;
  }
  const output = event.output as Record<string, unknown> | null;
  if (typeof output !== 'object' || output === null || !Array.isArray(output.results)) {
    return false;
  }
  const context = edge.from.view.context;
  return (
    output.visit === context.visit &&
    output.lifecycleId === context.lifecycleId &&
    (output.results as Array<Record<string, unknown>>).some(
      (r) => r.name === 'capital_reconciliation' && r.outcome === 'failed',
    )
  );
}

/** Whether `edge` is a failure that must be held: in CHECKING or AGGRESSIVE. */
function isFailure(edge: Edge): boolean {
  const from = edge.from.view.value;
  if (from !== 'CHECKING' && from !== 'AGGRESSIVE') return false;
  const type = edge.event.type;
  if (type === 'heartbeat.lost' || type === 'integrity.violated' || type === 'authority.lost') {
    return true;
  }
  if (from !== 'CHECKING') return false;
  if (type.startsWith('xstate.error.actor.') || type.startsWith('xstate.after.')) return true;
  if (!type.startsWith('xstate.done.actor.')) return false;
  return !deliversReportPassedThisVisit(edge) && !deliversCapitalMismatchThisVisit(edge);
}

function checkEdge(edge: Edge): Violation[] {
  const violations: Violation[] = [];
  const fail = (property: PropertyName, detail: string) =>
    violations.push({ property, where: describeEdge(edge), detail });
  const from = edge.from.view.value;
  const to = edge.to.view.value;
  const type = edge.event.type;
  if (from === 'SHUTDOWN' && (to !== 'SHUTDOWN' || !contextUnchanged(edge))) {
    fail('S1', `${edge.label} changed a SHUTDOWN snapshot`);
  }
  const entersAggressive =
    to === 'AGGRESSIVE' && (from !== 'AGGRESSIVE' || !contextUnchanged(edge));
  if (entersAggressive && !deliversReportPassedThisVisit(edge)) {
    fail('S2', `entered AGGRESSIVE on ${edge.label}`);
  }
  if (from !== 'SHUTDOWN' && (type === 'failsafe.triggered' || type === 'operator.shutdown')) {
    const expected = type === 'operator.shutdown' ? 'OPERATOR_KILL' : edge.event.trigger;
    if (to !== 'SHUTDOWN') fail('S3', `${edge.label} did not shut down`);
    else if (edge.to.view.context.shutdown?.trigger !== expected) {
      fail('S3', `${edge.label} recorded trigger ${edge.to.view.context.shutdown?.trigger}`);
    }
  }
  if (
    (type === 'heartbeat.lost' || type === 'integrity.violated' || type === 'authority.lost') &&
    to === 'AGGRESSIVE'
  ) {
    fail('S4', `${edge.label} led to AGGRESSIVE`);
  }
  if (from === 'OBSERVE_ONLY') {
    const allowed =
      to === 'OBSERVE_ONLY' ||
      to === 'SHUTDOWN' ||
      (to === 'CHECKING' && type === 'operator.resume');
    if (!allowed) fail('S5', `${edge.label} reached ${to} from OBSERVE_ONLY`);
  }
  if (isFailure(edge)) {
    if (to !== 'OBSERVE_ONLY') fail('S7', `${edge.label} reached ${to}`);
    else if (edge.to.view.context.hold === null) fail('S7', `${edge.label} held nothing`);
  }
  const isLoss =
    type === 'heartbeat.lost' || type === 'integrity.violated' || type === 'authority.lost';
  if (isLoss && (from === 'STARTING' || from === 'OBSERVE_ONLY')) {
    if (to !== from || !contextUnchanged(edge)) fail('S10', `${edge.label} changed ${from}`);
  }
  if (deliversCapitalMismatchThisVisit(edge)) {
    if (to !== 'SHUTDOWN' || edge.to.view.context.shutdown?.trigger !== 'CAPITAL_INCONSISTENT') {
      fail('S8', `${edge.label} reached ${to}`);
    }
  }
  if (entersAggressive) {
    const context = edge.to.view.context;
    if (
      context.configuredMode !== 'AGGRESSIVE' ||
      context.desiredMode !== 'AGGRESSIVE' ||
      context.hold !== null
    ) {
      fail('S9', `${edge.label} entered AGGRESSIVE`);
    }
  }
  return violations;
}

function checkReachability(
  machine: AnyStateMachine,
  vertices: Map<string, Vertex>,
  edges: readonly Edge[],
  roots: readonly string[],
): Violation[] {
  const violations: Violation[] = [];
  const successors = new Map<string, Edge[]>();
  for (const edge of edges) {
    const list = successors.get(edge.from.key) ?? [];
    list.push(edge);
    successors.set(edge.from.key, list);
  }
  const realRoots = roots.filter((key) => vertices.get(key)?.synthetic === false);
  const reached = new Set<string>(realRoots);
  const queue = [...realRoots];
  for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
    for (const edge of successors.get(key) ?? []) {
      if (!reached.has(edge.to.key)) {
        reached.add(edge.to.key);
        queue.push(edge.to.key);
      }
    }
  }
  const reachedValues = new Set([...reached].map((key) => vertices.get(key)?.view.value));
  const initial = machine.root.initial?.target[0]?.key;
  for (const name of Object.keys(machine.root.states)) {
    if (name !== initial && !reachedValues.has(name)) {
      violations.push({ property: 'S6', where: name, detail: `${name} is unreachable` });
    }
  }
  for (const key of reached) {
    const vertex = vertices.get(key);
    if (vertex === undefined) continue;
    const exits = (successors.get(key) ?? []).filter(
      (edge) => edge.to.view.value !== vertex.view.value,
    );
    const isShutdown = vertex.view.value === 'SHUTDOWN';
    if (!isShutdown && exits.length === 0) {
      violations.push({ property: 'S6', where: describeVertex(vertex), detail: 'no way out' });
    }
    const firstExit = exits[0];
    if (isShutdown && firstExit !== undefined) {
      violations.push({
        property: 'S6',
        where: describeEdge(firstExit),
        detail: 'SHUTDOWN has a way out',
      });
    }
  }
  return violations;
}

/** Explores `machine` and checks S1–S6 and the state invariants on every edge and vertex. */
export function checkGovernorModel(machine: AnyStateMachine): ModelCheckResult {
  const { vertices, edges, roots, alphabetSize } = explore(machine);
  const violations: Violation[] = [];
  for (const vertex of vertices.values()) {
    if (vertex.synthetic) continue;
    const broken = brokenInvariant(vertex.view);
    if (broken !== null) {
      violations.push({ property: 'INV', where: describeVertex(vertex), detail: broken });
    }
  }
  for (const edge of edges) violations.push(...checkEdge(edge));
  violations.push(...checkReachability(machine, vertices, edges, roots));
  const distinctEdges = unique(edges, (edge) => `${edge.from.key}|${edge.label}`);
  return {
    vertices: [...vertices.values()],
    edges: distinctEdges,
    alphabetSize,
    violations: unique(violations, (v) => `${v.property}|${v.where}|${v.detail}`),
  };
}

/** One line for the CI log: states, edges, properties held. */
export function summarise(result: ModelCheckResult): string {
  const lifecycleStates = new Set(result.vertices.map((vertex) => vertex.view.value)).size;
  const moving = result.edges.filter((edge) => edge.from.key !== edge.to.key).length;
  const broken = new Set(result.violations.map((violation) => violation.property));
  const held = (Object.keys(PROPERTIES) as PropertyName[]).filter((name) => !broken.has(name));
  return (
    `model check: ${result.vertices.length} (state, abstract context) vertices over ` +
    `${lifecycleStates} lifecycle states, ${result.edges.length} edges (${moving} change state) ` +
    `with a ${result.alphabetSize}-event alphabet; held: ${held.join(' ')}` +
    (broken.size > 0 ? `; BROKEN: ${[...broken].join(' ')}` : '')
  );
}
