/**
 * The layer tree's data. The wire types (the `tree` trait, the messages both ways, the
 * flag codes) are the Python side's, from ../shared/contract.ts; this module decodes them.
 */
import { at } from '../shared/array';
import type {
  NodeColumns,
  NodeKind,
  Summary,
  TreeFlags,
  TreeKernelMessage,
  TreePayload,
  TreeViewMessage
} from '../shared/contract';

export type { ErrorMessage } from '../shared/contract';
export { FlagCode } from '../shared/contract';
export type { NodeColumns, NodeKind, Summary, TreeFlags, TreePayload };
/** What the kernel sends the view besides its traits: a refused intent. */
export type KernelMessage = TreeKernelMessage;
/** Intents the view sends the kernel. */
export type ViewMessage = TreeViewMessage;

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
  /** The model's InputLayer: no weights, no flag; shown without a checkbox. */
  input: boolean;
  children: number[];
}

/**
 * Nodes from their columns; throws unless every column has one entry per node and every
 * parent comes before its children (pre-order).
 */
export function decodeNodes(columns: NodeColumns | undefined): TreeNode[] {
  if (!columns) return [];
  const n = columns.parent.length;
  const all: Record<keyof NodeColumns, readonly unknown[]> = columns;
  for (const [name, values] of Object.entries(all)) {
    if (values.length !== n) throw new Error(`layer tree: column ${name} has ${values.length} entries for ${n} nodes`);
  }
  const nodes: TreeNode[] = [];
  for (let id = 0; id < n; id++) {
    const parent = at(columns.parent, id);
    if (!(parent < id) || (id > 0 && parent < 0)) {
      throw new Error(`layer tree: node ${id} has parent ${parent}; nodes must be in pre-order`);
    }
    // parent < id, so it is decoded already
    const up = parent < 0 ? null : at(nodes, parent, 'parent');
    const node: TreeNode = {
      id,
      parent,
      depth: up ? up.depth + 1 : 0,
      path: at(columns.path, id),
      name: at(columns.name, id),
      cls: at(columns.cls, id),
      kind: at(columns.kind, id),
      shape: at(columns.shape, id),
      params: at(columns.params, id),
      bn: at(columns.bn, id),
      input: at(columns.input, id),
      children: []
    };
    up?.children.push(id);
    nodes.push(node);
  }
  return nodes;
}
