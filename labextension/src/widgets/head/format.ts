/** Labels, numbers and form-value parsing for the head designer (pure). */
import type { Augmentation, HeadLayerType, Task } from '../shared/contract';
import { formatInt, formatLearningRate } from '../shared/format';
import type { HeadState, Row, Value } from './types';

/** A label for every layer type the kernel offers (the type checker names a missing one). */
const LAYER_LABELS: Record<HeadLayerType | Augmentation, string> = {
  global_average_pooling: 'Global average pooling',
  global_max_pooling: 'Global max pooling',
  flatten: 'Flatten',
  dropout: 'Dropout',
  dense: 'Dense',
  batch_norm: 'Batch normalization',
  random_flip: 'Random flip',
  random_rotation: 'Random rotation',
  random_zoom: 'Random zoom',
  random_contrast: 'Random contrast'
};

const TASK_LABELS: Record<Task, string> = {
  multiclass: 'Multiclass (one label)',
  binary: 'Binary',
  multilabel: 'Multilabel',
  regression: 'Regression'
};

// Looked up through Maps: the keys come from the kernel, and a plain object would also
// answer 'constructor' or 'toString'.
const layerLabels = new Map<string, string>(Object.entries(LAYER_LABELS));
const taskLabels = new Map<string, string>(Object.entries(TASK_LABELS));

export function layerLabel(type: string): string {
  return layerLabels.get(type) ?? type;
}

export function taskLabel(task: string): string {
  return taskLabels.get(task) ?? task;
}

export { formatInt };

export function plural(n: number, word: string): string {
  return `${formatInt(n)} ${word}${n === 1 ? '' : 's'}`;
}

/** A form value as typed: '' -> null, a plain number -> number, anything else stays text
 * (the kernel's validation names what is wrong with it). */
export function parseNumber(text: string): Value {
  const t = text.trim();
  if (t === '') return null;
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return Number(t);
  return t;
}

/** 'a, b ,c' -> ['a', 'b', 'c']; blank -> null (use the default). */
export function parseList(text: string): string[] | null {
  const items = text.split(',').map(s => s.trim());
  if (items.every(s => s === '')) return null;
  return items;
}

export function showValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.join(', ');
  return String(v);
}

/** The learning-rate field's text: a number keeps its exponent (`3.05e-08`, not
 * `0.0000000305` or `3.0538555088e-8` cut to the field's width); text the kernel
 * refused is shown as typed. */
export function showLearningRate(v: unknown): string {
  return typeof v === 'number' ? formatLearningRate(v) : showValue(v);
}

/** A row's settings: every field of Row but its id and type. */
export type RowField = Exclude<keyof Row, 'id' | 'type'>;

/** Fields each layer type has, in order: [name, label, kind]. */
export function fieldsOf(type: string): [RowField, string, 'number' | 'activation' | 'flip'][] {
  switch (type) {
    case 'dense':
      return [
        ['units', 'Units', 'number'],
        ['activation', 'Activation', 'activation'],
        ['kernel_l1', 'L1', 'number'],
        ['kernel_l2', 'L2', 'number']
      ];
    case 'dropout':
      return [['rate', 'Rate', 'number']];
    case 'random_flip':
      return [['mode', 'Mode', 'flip']];
    case 'random_rotation':
    case 'random_zoom':
    case 'random_contrast':
      return [['factor', 'Factor', 'number']];
    default:
      return [];
  }
}

/** One line describing a row's settings, for its accessible name and summaries. */
export function rowSummary(row: Row): string {
  const parts = fieldsOf(row.type).map(([name]) => showValue(row[name]));
  return parts.filter(p => p !== '').join(', ');
}

/** The config's name for a field of row `index` (`head.layers[2].units`). */
export function fieldKey(section: 'layers' | 'augmentation', index: number, field?: string): string {
  const base = section === 'layers' ? `head.layers[${index}]` : `preprocessing.augmentation[${index}]`;
  return field ? `${base}.${field}` : base;
}

/** Problems for a row as a whole (not tied to one of its fields). */
export function rowError(state: HeadState, section: 'layers' | 'augmentation', index: number): string | null {
  const key = fieldKey(section, index);
  const msgs = [state.errors[key], state.errors[`${key}.type`]].filter(Boolean);
  return msgs.length ? msgs.join('; ') : null;
}

export function outputText(state: HeadState): string {
  if (!state.output) return 'Output layer: set the number of classes';
  const { units, activation } = state.output;
  return `Output · Dense ${units}, ${activation}`;
}

export function statusText(state: HeadState, locked: string | null): string {
  if (locked) return locked;
  const n = state.problems.length;
  if (n === 0) return state.controller ? 'Applied to the model' : 'Head is valid';
  return `Not applied: ${plural(n, 'problem')} to fix`;
}

export function totalsText(state: HeadState): string {
  if (!state.head_totals || !state.model_totals) return 'Head: fix the problems to see parameter counts';
  const h = state.head_totals;
  const m = state.model_totals;
  return `Head: ${plural(h.total, 'param')} · Model: ${plural(m.total, 'param')}, ${formatInt(m.trainable)} trainable`;
}

/** The hint under the loss: its arguments and the class weights, when the config has them. */
export function lossHint(recipe: HeadState['recipe']): string | undefined {
  const parts: string[] = [];
  if (recipe.loss_args) parts.push(`with ${recipe.loss_args}`);
  if (recipe.class_weight) parts.push(`class weights ${recipe.class_weight}`);
  return parts.length ? parts.join('; ') : undefined;
}
