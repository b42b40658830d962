/** The data protocol shared with the Python side (transfer_widgets/widgets/layer_tree.py). */

export type NodeKind = 'model' | 'block' | 'layer';

/** 0 = frozen, 1 = trainable, 2 = mixed (a container whose descendants differ). */
export type FlagState = 0 | 1 | 2;
export const FROZEN = 0;
export const TRAINABLE = 1;
export const MIXED = 2;

export interface TreeNode {
  id: number;
  parent: number;
  depth: number;
  path: string;
  name: string;
  cls: string;
  kind: NodeKind;
  shape: string | null;
  params: number;
  bn: boolean;
  children: number[];
}

export interface Summary {
  total: number;
  trainable: number;
  non_trainable: number;
}

/**
 * The structure as parallel arrays, one entry per node in pre-order (node id =
 * index): about half the bytes of a list of objects, and cheap for the kernel
 * to send. Depth and children follow from `parent`.
 */
export interface NodeColumns {
  parent: number[];
  path: string[];
  name: string[];
  cls: string[];
  kind: NodeKind[];
  shape: (string | null)[];
  params: number[];
  bn: boolean[];
}

export interface TreePayload {
  model_name: string;
  columns: NodeColumns;
  state: number[];
  trainable_params: number[];
  summary: Summary;
}

/** Nodes from their columns; throws unless every parent comes before its children. */
export function decodeNodes(columns: NodeColumns | undefined): TreeNode[] {
  const parents = columns?.parent ?? [];
  const nodes: TreeNode[] = [];
  for (let id = 0; id < parents.length; id++) {
    const parent = parents[id];
    if (!(parent < id) || (id > 0 && parent < 0)) {
      throw new Error(`layer tree: node ${id} has parent ${parent}; nodes must be in pre-order`);
    }
    const node: TreeNode = {
      id,
      parent,
      depth: parent < 0 ? 0 : nodes[parent].depth + 1,
      path: columns!.path[id],
      name: columns!.name[id],
      cls: columns!.cls[id],
      kind: columns!.kind[id],
      shape: columns!.shape[id],
      params: columns!.params[id],
      bn: columns!.bn[id],
      children: []
    };
    if (parent >= 0) nodes[parent].children.push(id);
    nodes.push(node);
  }
  return nodes;
}

export interface FlagsMessage {
  type: 'flags';
  full: boolean;
  ids: number[];
  state: number[];
  trainable_params: number[];
  summary: Summary;
}

export interface ErrorMessage {
  type: 'error';
  message: string;
}

export type KernelMessage = FlagsMessage | ErrorMessage;

export type ViewMessage =
  | { type: 'hello' }
  | { type: 'toggle'; id: number }
  | { type: 'set'; ids: number[]; value: boolean }
  | { type: 'boundary'; id: number }
  | { type: 'freeze_all' }
  | { type: 'unfreeze_all' };
