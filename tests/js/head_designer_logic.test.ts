/** Pure logic of the head designer: parsing form values, labels, reordering. */

import {
  fieldKey,
  fieldsOf,
  formatInt,
  layerLabel,
  outputText,
  parseList,
  parseNumber,
  rowError,
  rowSummary,
  statusText,
  totalsText
} from '@tw/widgets/head/format';
import { gapAt, moveTarget, stepTarget } from '@tw/widgets/head/reorder';
import { describe, expect, it } from 'vitest';
import { headState, invalidState } from './head_fixtures';

describe('form values', () => {
  it('parses numbers and keeps anything else as typed, for the kernel to name', () => {
    expect(parseNumber('64')).toBe(64);
    expect(parseNumber(' 0.25 ')).toBe(0.25);
    expect(parseNumber('1e-3')).toBe(0.001);
    expect(parseNumber('-5')).toBe(-5);
    expect(parseNumber('.5')).toBe(0.5);
    expect(parseNumber('')).toBeNull();
    expect(parseNumber('   ')).toBeNull();
    expect(parseNumber('abc')).toBe('abc');
    expect(parseNumber('12px')).toBe('12px');
    expect(parseNumber('0x10')).toBe('0x10');
  });

  it('splits comma-separated lists; blank means "use the default"', () => {
    expect(parseList('cat, dog ,bird')).toEqual(['cat', 'dog', 'bird']);
    expect(parseList('')).toBeNull();
    expect(parseList(' , ')).toBeNull();
    expect(parseList('a,,b')).toEqual(['a', '', 'b']); // the kernel reports the empty name
  });
});

describe('labels and text', () => {
  it('names layer types and their fields', () => {
    expect(layerLabel('global_average_pooling')).toBe('Global average pooling');
    expect(layerLabel('batch_norm')).toBe('Batch normalization');
    expect(layerLabel('something_new')).toBe('something_new');
    expect(fieldsOf('dense').map(f => f[0])).toEqual(['units', 'activation', 'kernel_l1', 'kernel_l2']);
    expect(fieldsOf('dropout').map(f => f[0])).toEqual(['rate']);
    expect(fieldsOf('random_flip').map(f => f[0])).toEqual(['mode']);
    expect(fieldsOf('random_zoom').map(f => f[0])).toEqual(['factor']);
    expect(fieldsOf('flatten')).toEqual([]);
    expect(rowSummary({ id: 1, type: 'dense', units: 8, activation: 'relu' })).toBe('8, relu');
  });

  it('uses the config field names for errors', () => {
    expect(fieldKey('layers', 2, 'units')).toBe('head.layers[2].units');
    expect(fieldKey('augmentation', 0)).toBe('preprocessing.augmentation[0]');
    const s = headState({ errors: { 'head.layers[0]': '(dense) gets a 4-D feature map', 'head.layers[0].type': 'x' } });
    expect(rowError(s, 'layers', 0)).toBe('(dense) gets a 4-D feature map; x');
    expect(rowError(s, 'layers', 1)).toBeNull();
  });

  it('summarises totals, status and the output layer', () => {
    expect(formatInt(1234567)).toBe('1,234,567');
    expect(totalsText(headState())).toBe('Head: 163 params · Model: 331 params, 331 trainable');
    expect(totalsText(invalidState())).toBe('Head: fix the problems to see parameter counts');
    expect(statusText(headState(), null)).toBe('Applied to the model');
    expect(statusText(headState({ controller: false }), null)).toBe('Head is valid');
    expect(statusText(invalidState(), null)).toBe('Not applied: 1 problem to fix');
    expect(statusText(headState(), 'Read-only')).toBe('Read-only');
    expect(outputText(headState())).toBe('Output · Dense 3, softmax');
    expect(outputText(headState({ output: null }))).toBe('Output layer: set the number of classes');
  });
});

describe('reordering', () => {
  const rows: [number, number][] = [
    [0, 20],
    [20, 40],
    [40, 60]
  ];
  it('finds the gap nearest the pointer', () => {
    expect(gapAt(rows, -5)).toBe(0);
    expect(gapAt(rows, 9)).toBe(0);
    expect(gapAt(rows, 11)).toBe(1);
    expect(gapAt(rows, 45)).toBe(2);
    expect(gapAt(rows, 55)).toBe(3);
    expect(gapAt([], 10)).toBe(0);
  });

  it('turns a drop gap into the final index, or null when nothing moves', () => {
    expect(moveTarget(2, 1, 3)).toBe(1); // third row above the second
    expect(moveTarget(0, 3, 3)).toBe(2); // first row to the end
    expect(moveTarget(0, 2, 3)).toBe(1);
    expect(moveTarget(1, 1, 3)).toBeNull();
    expect(moveTarget(1, 2, 3)).toBeNull(); // just below itself
    expect(moveTarget(5, 0, 3)).toBeNull();
  });

  it('moves one step by keyboard, not past the ends', () => {
    expect(stepTarget(1, -1, 3)).toBe(0);
    expect(stepTarget(1, 1, 3)).toBe(2);
    expect(stepTarget(0, -1, 3)).toBeNull();
    expect(stepTarget(2, 1, 3)).toBeNull();
  });
});
