/**
 * TreeState: the tree structure plus the flags, with the derived indexes every
 * other module needs (subtree ends, leaf order). Pure data, no DOM.
 */

import type { FlagsMessage, Summary, TreeNode, TreePayload } from './types';
import { decodeNodes } from './types';

export class TreeState {
  readonly modelName: string;
  readonly nodes: TreeNode[];
  /** Flag state per node (0 frozen, 1 trainable, 2 mixed). */
  readonly state: Uint8Array;
  readonly trainableParams: Float64Array;
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
    for (let i = 0; i < n; i++) {
      this.state[i] = payload.state?.[i] ?? 1;
      this.trainableParams[i] = payload.trainable_params?.[i] ?? 0;
    }
    this.summary = { ...(payload.summary ?? { total: 0, trainable: 0, non_trainable: 0 }) };
    this.end = new Int32Array(n);
    this.leafCount = new Int32Array(n);
    this.leafIndex = new Int32Array(n).fill(-1);
    const leaves: number[] = [];
    for (let i = 0; i < n; i++) {
      if (nodes[i].children.length === 0) {
        this.leafIndex[i] = leaves.length;
        leaves.push(i);
      }
    }
    this.leaves = Int32Array.from(leaves);
    for (let i = n - 1; i >= 0; i--) {
      const kids = nodes[i].children;
      this.end[i] = kids.length ? this.end[kids[kids.length - 1]] : i;
      this.leafCount[i] = kids.length ? kids.reduce((s, c) => s + this.leafCount[c], 0) : 1;
    }
  }

  get size(): number {
    return this.nodes.length;
  }

  isContainer(id: number): boolean {
    return this.nodes[id].children.length > 0;
  }

  /** First leaf (in leaf order) of i's subtree. */
  firstLeafPosition(id: number): number {
    // pre-order: the first leaf at or after id lies inside id's subtree
    for (let i = id; i <= this.end[id]; i++) if (this.leafIndex[i] >= 0) return this.leafIndex[i];
    return -1;
  }

  /** Checkbox value a node shows / a range copies: mixed counts as true. */
  isOn(id: number): boolean {
    return this.state[id] !== 0;
  }

  /**
   * Apply a `flags` message; returns the ids whose state or trainable count
   * actually changed (ids outside the tree are ignored).
   */
  applyFlags(msg: FlagsMessage): number[] {
    const changed: number[] = [];
    const ids = msg.ids ?? [];
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k];
      if (!(id >= 0 && id < this.size)) continue;
      const s = msg.state?.[k] ?? this.state[id];
      const tp = msg.trainable_params?.[k] ?? this.trainableParams[id];
      if (this.state[id] !== s || this.trainableParams[id] !== tp) {
        this.state[id] = s;
        this.trainableParams[id] = tp;
        changed.push(id);
      }
    }
    if (msg.summary) this.summary = { ...msg.summary };
    return changed;
  }
}
