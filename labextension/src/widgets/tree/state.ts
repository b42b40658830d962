/**
 * TreeState: the tree structure plus the flags, with the derived indexes every
 * other module needs (subtree ends, leaf order). Pure data, no DOM.
 */
import { at } from '../shared/array';
import type { Summary, TreeFlags, TreeNode, TreePayload } from './types';
import { decodeNodes, FlagCode } from './types';

export class TreeState {
  readonly modelName: string;
  readonly nodes: TreeNode[];
  /** Flag state per node: a FlagCode (frozen, trainable, mixed). */
  readonly state: Uint8Array;
  readonly trainableParams: Float64Array;
  /** `fullTrainable[i]`: node i's trainable count while trainable throughout (what TRAINABLE implies). */
  readonly fullTrainable: Float64Array;
  summary: Summary;
  /** `end[i]`: the last id in i's subtree (nodes are in pre-order). */
  readonly end: Int32Array;
  /** Leaf ids in pre-order: the model's topological order. */
  readonly leaves: Int32Array;
  /** `leafIndex[i]`: position of leaf i in `leaves`, -1 for containers. */
  readonly leafIndex: Int32Array;
  /** `leafCount[i]`: number of leaves in i's subtree. */
  readonly leafCount: Int32Array;

  constructor(payload: TreePayload) {
    const nodes = decodeNodes(payload.columns);
    const n = nodes.length;
    this.modelName = String(payload.model_name ?? '');
    this.nodes = nodes;
    this.state = new Uint8Array(n);
    this.trainableParams = new Float64Array(n);
    this.fullTrainable = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.state[i] = payload.state?.[i] ?? FlagCode.TRAINABLE;
      this.trainableParams[i] = payload.trainable_params?.[i] ?? 0;
      this.fullTrainable[i] = payload.columns?.full_trainable?.[i] ?? 0;
    }
    this.summary = { ...(payload.summary ?? { total: 0, trainable: 0, non_trainable: 0 }) };
    this.end = new Int32Array(n);
    this.leafCount = new Int32Array(n);
    this.leafIndex = new Int32Array(n).fill(-1);
    const leaves: number[] = [];
    for (const node of nodes) {
      if (node.children.length === 0) {
        this.leafIndex[node.id] = leaves.length;
        leaves.push(node.id);
      }
    }
    this.leaves = Int32Array.from(leaves);
    // Children come after their parent: walking backwards, every child is done first.
    for (let i = n - 1; i >= 0; i--) {
      const kids = at(nodes, i).children;
      const last = kids[kids.length - 1];
      this.end[i] = last === undefined ? i : this.endOf(last);
      this.leafCount[i] = last === undefined ? 1 : kids.reduce((s, c) => s + at(this.leafCount, c), 0);
    }
  }

  get size(): number {
    return this.nodes.length;
  }

  /** Node `id`; throws a RangeError for an id outside the tree. */
  node(id: number): TreeNode {
    return at(this.nodes, id, 'node');
  }

  /** The last id in `id`'s subtree. */
  endOf(id: number): number {
    return at(this.end, id, 'node');
  }

  isContainer(id: number): boolean {
    return this.node(id).children.length > 0;
  }

  /** First leaf (in leaf order) of i's subtree. */
  firstLeafPosition(id: number): number {
    // pre-order: the first leaf at or after id lies inside id's subtree
    const end = this.endOf(id);
    for (let i = id; i <= end; i++) {
      const position = at(this.leafIndex, i, 'node');
      if (position >= 0) return position;
    }
    return -1;
  }

  /** Checkbox value a node shows / a range copies: mixed counts as true. */
  isOn(id: number): boolean {
    return at(this.state, id, 'node') !== FlagCode.FROZEN;
  }

  /** The trainable count state `code` implies for node `id` (none for a mixed node). */
  impliedTrainable(id: number, code: number): number | undefined {
    if (code === FlagCode.FROZEN) return 0;
    if (code === FlagCode.TRAINABLE) return at(this.fullTrainable, id, 'node');
    return undefined;
  }

  /**
   * Take every node's flag from the `flags` trait; returns the ids whose state or
   * trainable count actually changed (so only those rows are redrawn). `state` has a
   * digit per node (entries past the tree's size are ignored); a node's trainable count
   * is the one `trainable_params` lists for it, else the one its state implies (the
   * kernel lists every other; the view never works one out).
   */
  applyFlags(flags: TreeFlags): number[] {
    const changed: number[] = [];
    const listed = flags.trainable_params ?? {};
    const n = Math.min(this.size, flags.state?.length ?? 0);
    for (let id = 0; id < n; id++) {
      const oldState = at(this.state, id);
      const oldParams = at(this.trainableParams, id);
      const code = Number(flags.state[id]);
      const s = Number.isInteger(code) && code >= 0 && code <= FlagCode.MIXED ? code : oldState;
      const tp = listed[id] ?? this.impliedTrainable(id, s) ?? oldParams;
      if (oldState !== s || oldParams !== tp) {
        this.state[id] = s;
        this.trainableParams[id] = tp;
        changed.push(id);
      }
    }
    if (flags.summary) this.summary = { ...flags.summary };
    return changed;
  }
}
