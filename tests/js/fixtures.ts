/** Test helpers: tree payloads built from a compact spec, and a fake anywidget model. */
import type { NodeColumns, TreeNode, TreePayload } from '@tw/widgets/tree/types';

/** What the kernel sends, plus the decoded `nodes` the tests look names up in. */
export type TestPayload = TreePayload & { nodes: TreeNode[] };

export function columnsOf(nodes: TreeNode[]): NodeColumns {
  return {
    parent: nodes.map(n => n.parent),
    path: nodes.map(n => n.path),
    name: nodes.map(n => n.name),
    cls: nodes.map(n => n.cls),
    kind: nodes.map(n => n.kind),
    shape: nodes.map(n => n.shape),
    params: nodes.map(n => n.params),
    bn: nodes.map(n => n.bn)
  };
}

export interface Spec {
  name: string;
  cls?: string;
  kind?: 'model' | 'block' | 'layer';
  bn?: boolean;
  params?: number;
  state?: number;
  children?: Spec[];
}

/** Pre-order payload; leaf state defaults to trainable, containers derive theirs. */
export function payload(spec: Spec): TestPayload {
  const nodes: TreeNode[] = [];
  const state: number[] = [];
  const tp: number[] = [];
  const walk = (s: Spec, parent: number, depth: number, path: string): number => {
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
      children: []
    };
    nodes.push(node);
    state.push(0);
    tp.push(0);
    if (s.children) {
      for (const c of s.children) node.children.push(walk(c, id, depth + 1, node.path));
      node.params = node.children.reduce((a, c) => a + nodes[c].params, 0);
      tp[id] = node.children.reduce((a, c) => a + tp[c], 0);
      const kids = new Set(node.children.map(c => state[c]));
      state[id] = kids.size === 1 ? [...kids][0] : 2;
    } else {
      node.params = s.params ?? 20;
      state[id] = s.state ?? 1;
      tp[id] = state[id] ? node.params : 0;
    }
    return id;
  };
  walk(spec, -1, 0, '');
  const total = nodes[0].params;
  return {
    model_name: spec.name,
    columns: columnsOf(nodes),
    nodes,
    state,
    trainable_params: tp,
    summary: { total, trainable: tp[0], non_trainable: total - tp[0] }
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

type Cb = (...args: any[]) => void;

export class FakeModel {
  attrs: Record<string, any>;
  sent: any[] = [];
  saves = 0;
  private handlers = new Map<string, Set<Cb>>();

  constructor(tree: TreePayload, extra: Record<string, any> = {}) {
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
    this.handlers.get(event)!.add(cb);
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

/** A full flags message from a payload (what the kernel answers `hello` with). */
export function fullFlags(p: TestPayload) {
  return {
    type: 'flags',
    full: true,
    ids: p.nodes.map(n => n.id),
    state: p.state,
    trainable_params: p.trainable_params,
    summary: p.summary
  };
}
