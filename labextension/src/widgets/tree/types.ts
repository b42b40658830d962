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

export interface TreePayload {
  model_name: string;
  nodes: TreeNode[];
  state: number[];
  trainable_params: number[];
  summary: Summary;
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
