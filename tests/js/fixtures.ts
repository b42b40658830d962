/** Test helpers: tree payloads built from a compact spec, and a fake anywidget model. */
import type { WidgetModel } from '@tw/widgets/shared/dom';
import {
  FlagCode,
  type NodeColumns,
  type Summary,
  type TreeFlags,
  type TreeNode,
  type TreePayload
} from '@tw/widgets/tree/types';

/** `value`, or a failed test when it is null or undefined (an element that is not there). */
export function must<T>(value: T | null | undefined, what = 'a value'): T {
  if (value === null || value === undefined) throw new Error(`expected ${what}, got ${value}`);
  return value;
}

/** What the kernel sends, plus the decoded `nodes` the tests look names up in. */
export type TestPayload = TreePayload & { nodes: TreeNode[] };

/** `full`: each node's trainable count while trainable throughout (the `full_trainable` column). */
export function columnsOf(nodes: TreeNode[], full: number[]): NodeColumns {
  return {
    parent: nodes.map(n => n.parent),
    path: nodes.map(n => n.path),
    name: nodes.map(n => n.name),
    cls: nodes.map(n => n.cls),
    kind: nodes.map(n => n.kind),
    shape: nodes.map(n => n.shape),
    params: nodes.map(n => n.params),
    bn: nodes.map(n => n.bn),
    input: nodes.map(n => n.input),
    full_trainable: full
  };
}

export interface Spec {
  name: string;
  cls?: string;
  kind?: 'model' | 'block' | 'layer';
  bn?: boolean;
  input?: boolean;
  params?: number;
  state?: FlagCode;
  children?: Spec[];
}

/** Pre-order payload; leaf state defaults to trainable, containers derive theirs. */
export function payload(spec: Spec): TestPayload {
  const nodes: TreeNode[] = [];
  const state: FlagCode[] = [];
  const tp: number[] = [];
  const full: number[] = [];
  /** Add `s` and its subtree; returns its node, state and trainable parameter count. */
  const walk = (
    s: Spec,
    parent: number,
    depth: number,
    path: string
  ): { node: TreeNode; state: FlagCode; tp: number } => {
    const id = nodes.length;
    const kind = s.kind ?? (s.children ? 'block' : 'layer');
    const node: TreeNode = {
      id,
      parent,
      depth,
      path: path ? `${path}/${s.name}` : s.name,
      name: s.name,
      cls:
        s.cls ?? (kind === 'model' ? 'Functional' : kind === 'block' ? 'Block' : s.bn ? 'BatchNormalization' : 'Dense'),
      kind,
      shape: kind === 'layer' ? '(None, 4)' : null,
      params: 0,
      bn: !!s.bn,
      input: !!s.input,
      children: []
    };
    nodes.push(node);
    state.push(FlagCode.FROZEN);
    tp.push(0);
    full.push(0);
    let own: FlagCode;
    let ownTp: number;
    if (s.children) {
      const kids = s.children.map(c => walk(c, id, depth + 1, node.path));
      node.children = kids.map(k => k.node.id);
      node.params = kids.reduce((a, k) => a + k.node.params, 0);
      ownTp = kids.reduce((a, k) => a + k.tp, 0);
      full[id] = kids.reduce((a, k) => a + (full[k.node.id] ?? 0), 0);
      const [first, ...rest] = kids.map(k => k.state);
      own = first !== undefined && rest.every(x => x === first) ? first : FlagCode.MIXED;
    } else {
      node.params = s.params ?? 20;
      own = s.state ?? FlagCode.TRAINABLE;
      ownTp = own ? node.params : 0;
      full[id] = node.params;
    }
    state[id] = own;
    tp[id] = ownTp;
    return { node, state: own, tp: ownTp };
  };
  const root = walk(spec, -1, 0, '');
  const total = root.node.params;
  return {
    model_name: spec.name,
    columns: columnsOf(nodes, full),
    nodes,
    state,
    trainable_params: tp,
    summary: { total, trainable: root.tp, non_trainable: total - root.tp }
  };
}

/** root 'flat' with layers d0..d{n-1} */
export function flatSpec(n = 8): Spec {
  return {
    name: 'flat',
    kind: 'model',
    cls: 'Sequential',
    children: Array.from({ length: n }, (_, i) => ({ name: `d${i}` }))
  };
}

/** transfer -> input, backbone (model) -> block_0..2 (conv, bn, relu), classifier */
export function nestedSpec(): Spec {
  const block = (b: number): Spec => ({
    name: `block_${b}`,
    kind: 'block',
    children: [
      { name: `block_${b}_conv`, cls: 'Conv2D', params: 100 },
      { name: `block_${b}_bn`, cls: 'BatchNormalization', bn: true, params: 8 },
      { name: `block_${b}_relu`, cls: 'ReLU', params: 0 }
    ]
  });
  return {
    name: 'transfer',
    kind: 'model',
    children: [
      { name: 'input_layer', cls: 'InputLayer', params: 0 },
      { name: 'backbone', kind: 'model', children: [block(0), block(1), block(2)] },
      { name: 'classifier', cls: 'Dense', params: 30 }
    ]
  };
}

/** 1 + blocks * (1 + perBlock) nodes */
export function bigSpec(blocks = 100, perBlock = 19): Spec {
  return {
    name: 'big',
    kind: 'model',
    children: Array.from({ length: blocks }, (_, b) => ({
      name: `blk${b}`,
      kind: 'block' as const,
      children: Array.from({ length: perBlock }, (_, i) => ({ name: `l${b}_${i}` }))
    }))
  };
}

type Cb = (...args: unknown[]) => void;

/** An anywidget model in memory: traits in `attrs`, what the view sent in `sent`. */
export class FakeModel implements WidgetModel {
  attrs: Record<string, unknown>;
  sent: unknown[] = [];
  saves = 0;
  private handlers = new Map<string, Set<Cb>>();

  constructor(tree?: TreePayload, extra: Record<string, unknown> = {}) {
    this.attrs = { tree, disabled: false, keep_bn_frozen: true, ...extra };
  }
  get(name: string) {
    return this.attrs[name];
  }
  set(name: string, value: unknown) {
    this.attrs[name] = value;
    this.emit(`change:${name}`);
  }
  save_changes() {
    this.saves++;
  }
  send(msg: unknown) {
    this.sent.push(msg);
  }
  on(event: string, cb: Cb) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    must(this.handlers.get(event)).add(cb);
  }
  off(event?: string | null, cb?: Cb | null) {
    if (!event) this.handlers.clear();
    else if (!cb) this.handlers.delete(event);
    else this.handlers.get(event)?.delete(cb);
  }
  emit(event: string, ...args: unknown[]) {
    for (const cb of [...(this.handlers.get(event) ?? [])]) cb(...args);
  }
  /** A custom message from the kernel. */
  receive(msg: unknown) {
    this.emit('msg:custom', msg, []);
  }
  listenerCount() {
    let n = 0;
    for (const s of this.handlers.values()) n += s.size;
    return n;
  }
  last() {
    return this.sent[this.sent.length - 1];
  }
}

/**
 * The `flags` trait as the kernel writes it for these rows: a digit per row, and the
 * trainable counts the state does not imply (FROZEN: 0, TRAINABLE: `full_trainable`).
 */
export function compactFlags(p: TreePayload, state: FlagCode[], tp: number[], summary: Summary): TreeFlags {
  const listed: Record<string, number> = {};
  state.forEach((s, i) => {
    const implied = s === FlagCode.FROZEN ? 0 : s === FlagCode.TRAINABLE ? p.columns.full_trainable[i] : undefined;
    if (implied !== tp[i]) listed[String(i)] = must(tp[i]);
  });
  return { state: state.join(''), trainable_params: listed, summary };
}

/** Every row's flag and trainable count, last set by `setFlags` (the payload's before). */
const expanded = new WeakMap<FakeModel, { state: FlagCode[]; tp: number[]; summary: Summary }>();

/**
 * What the kernel does after an intent: sets the `flags` trait, every row as it was (as
 * `setFlags` last left it, else the payload's) except the rows in `ids`, which take
 * `state` and `trainable_params`.
 */
export function setFlags(
  model: FakeModel,
  p: TestPayload,
  change: { ids: number[]; state: FlagCode[]; trainable_params: number[]; summary?: Summary }
): void {
  const last = expanded.get(model) ?? { state: p.state, tp: p.trainable_params, summary: p.summary };
  const state = [...last.state];
  const tp = [...last.tp];
  change.ids.forEach((id, k) => {
    state[id] = must(change.state[k]);
    tp[id] = must(change.trainable_params[k]);
  });
  const summary = change.summary ?? last.summary;
  expanded.set(model, { state, tp, summary });
  model.set('flags', compactFlags(p, state, tp, summary));
}
