/**
 * What the kernel sends in the `state` trait (see transfer_widgets/widgets/head_designer.py).
 * The messages both ways are the Python side's, from ../shared/contract.ts.
 */
import type { HeadKernelMessage, HeadViewMessage, Section, Value } from '../shared/contract';

export type { Section, Value };

export interface Row {
  id: number;
  type: string;
  units?: Value;
  activation?: string | null;
  kernel_l1?: Value;
  kernel_l2?: Value;
  rate?: Value;
  factor?: Value;
  mode?: string | null;
}

export interface PreviewRow {
  name: string;
  shape: string;
  params: number;
  trainable: number;
}

export interface Totals {
  total: number;
  trainable: number;
}

export interface Preset {
  name: string;
  label: string;
  description: string;
}

export interface HeadState {
  base: { name: string; input_shape: string; output_shape: string; params: number; trainable: number };
  layers: Row[];
  augmentation: Row[];
  task: string;
  num_classes: Value;
  class_names: string[] | string | null;
  optimizer: string;
  learning_rate: Value;
  loss: string | null;
  metrics: string[] | string | null;
  defaults: { loss: string | null; metrics: string[] };
  /** Recipe settings the form shows beside the fields they change ('' when unset). */
  recipe: { optimizer_args: string; lr_schedule: string; class_weight: string; loss_args: string };
  output: { units: number; activation: string } | null;
  preview: PreviewRow[] | null;
  head_totals: Totals | null;
  model_totals: Totals | null;
  errors: Record<string, string>;
  problems: string[];
  applied: boolean;
  controller: boolean;
  options: {
    layers: string[];
    augmentation: string[];
    tasks: string[];
    activations: string[];
    optimizers: string[];
    losses: string[];
    presets: Preset[];
  };
}

/** Intents the view sends to the kernel. */
export type ViewMessage = HeadViewMessage;
/** The kernel's answer to each intent. */
export type KernelMessage = HeadKernelMessage;
