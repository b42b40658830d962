/** Learning rates keep their exponent: the shared formatter and the head designer's field. */

import { parseNumber, showLearningRate } from '@tw/widgets/head/format';
import widget from '@tw/widgets/head_designer';
import { formatLearningRate } from '@tw/widgets/shared/format';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeModel, must } from './fixtures';
import { headState } from './head_fixtures';

describe('formatLearningRate', () => {
  it("writes what Python's format(lr, '.3g') writes", () => {
    const cases: [number, string][] = [
      [3.0538555088e-8, '3.05e-08'],
      [0.001, '0.001'],
      [1e-5, '1e-05'],
      [0.0003, '0.0003'],
      [0.00012345, '0.000123'],
      [2.5e-4, '0.00025'],
      [0.01, '0.01'],
      [1, '1'],
      [10, '10'],
      [1e-7, '1e-07'],
      [1000, '1e+03'],
      [9.999e-5, '0.0001'], // rounding carries into the next decade
      [0, '0'],
      [Number.NaN, 'nan'],
      [Number.POSITIVE_INFINITY, 'inf']
    ];
    for (const [lr, text] of cases) expect([lr, formatLearningRate(lr)]).toEqual([lr, text]);
  });

  it('takes a number of significant digits', () => {
    expect(formatLearningRate(3.0538555088e-8, 2)).toBe('3.1e-08');
    expect(formatLearningRate(1.23456e-3, 5)).toBe('0.0012346');
    expect(formatLearningRate(0.5, 1)).toBe('0.5');
  });

  it('reads back as a number close to the rate', () => {
    for (const lr of [3.0538555088e-8, 1e-5, 0.001, 0.3, 7.5e-12]) {
      const back = parseNumber(formatLearningRate(lr));
      expect(typeof back).toBe('number');
      expect(Math.abs((back as number) - lr)).toBeLessThanOrEqual(0.005 * lr);
    }
  });

  it("the field's text: numbers formatted, refused text as typed", () => {
    expect(showLearningRate(3.0538555088e-8)).toBe('3.05e-08');
    expect(showLearningRate('abc')).toBe('abc');
    expect(showLearningRate(null)).toBe('');
  });
});

describe("head designer's learning-rate field", () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    while (cleanups.length) must(cleanups.pop())();
    document.body.textContent = '';
  });

  function mount(learningRate: number) {
    const model = new FakeModel(undefined, { state: headState({ learning_rate: learningRate }), read_only: false });
    const el = document.createElement('div');
    document.body.append(el);
    cleanups.push(widget.render({ model, el }));
    const lab = must(Array.from(el.querySelectorAll('label')).find(l => l.textContent === 'Learning rate'));
    const input = () => must(el.querySelector<HTMLInputElement>(`#${lab.getAttribute('for')}`));
    return { model, input };
  }

  it("shows the kernel's value with its exponent and stays editable", () => {
    const { model, input } = mount(3.0538555088e-8);
    expect(input().value).toBe('3.05e-08');
    // Enter on the text as shown sends nothing: the rounding never replaces the exact value
    input().dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    input().dispatchEvent(new Event('change', { bubbles: true }));
    expect(model.sent).toEqual([{ type: 'hello' }]);
    input().value = '1e-05';
    input().dispatchEvent(new Event('change', { bubbles: true }));
    expect(model.sent[model.sent.length - 1]).toEqual({ type: 'field', field: 'learning_rate', value: 1e-5 });
    model.set('state', headState({ learning_rate: 1e-5 }));
    expect(input().value).toBe('1e-05');
    model.set('state', headState({ learning_rate: 0.001 }));
    expect(input().value).toBe('0.001');
  });
});
