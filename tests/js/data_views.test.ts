/** The data view and the mistakes panel in jsdom: names as text, lazy thumbnail requests, cell clicks. */

import dataView from '@tw/widgets/data_view';
import mistakes from '@tw/widgets/mistakes';
import { matrixMove, titleFor } from '@tw/widgets/mistakes/view';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeModel, must } from './fixtures';

const HOSTILE = '<img src=x onerror=alert(1)>';
const cleanups: (() => void)[] = [];
let urls = 0;
beforeEach(() => {
  urls = 0;
  URL.createObjectURL = vi.fn(() => `blob:${++urls}`);
  URL.revokeObjectURL = vi.fn();
});
afterEach(() => {
  while (cleanups.length) must(cleanups.pop())();
  document.body.replaceChildren();
});

function mount(widget: typeof dataView, model: FakeModel): HTMLElement {
  const el = document.createElement('div');
  document.body.append(el);
  cleanups.push(widget.render({ model, el }));
  return el;
}

const SUMMARY = {
  classes: ['cat', HOSTILE],
  train: [30, 5],
  validation: [6, 0],
  warnings: [`Class '${HOSTILE}' has no validation examples: its accuracy cannot be measured.`],
  image_shape: [16, 16, 3],
  folder: null
};
const CHECKS = { state: 'done', problems: [], problem_count: 0, duplicates: [], duplicate_count: 0, message: '' };

describe('data view', () => {
  it('shows counts and warnings as text and asks for thumbnails of classes with images', () => {
    const model = new FakeModel(undefined, { summary: SUMMARY, checks: CHECKS, page_size: 4 });
    const el = mount(dataView, model);
    expect(el.querySelector('img')).toBeNull();
    const rows = [...el.querySelectorAll('.tw-dv-counts tbody tr')];
    expect(rows.map(r => r.querySelector('th')?.textContent)).toEqual(['cat', HOSTILE]);
    expect(el.querySelector('.tw-dv-warning')?.textContent).toContain(HOSTILE);
    // jsdom has no IntersectionObserver: every class with images asks for its first page at once
    expect(model.sent).toEqual([
      { type: 'thumbs', split: 'train', cls: 0, page: 0 },
      { type: 'thumbs', split: 'train', cls: 1, page: 0 }
    ]);
    model.emit(
      'msg:custom',
      {
        type: 'thumbs',
        split: 'train',
        cls: 1,
        page: 0,
        items: [
          { index: 3, path: '/d/x/a.png', error: null },
          { index: 4, path: '/d/x/b.png', error: 'cannot be read' }
        ],
        total: 5,
        has_more: true
      },
      [new Uint8Array([137, 80, 78, 71]).buffer]
    );
    const row = must(el.querySelectorAll('.tw-dv-class-row')[1]);
    expect(row.querySelectorAll('img')).toHaveLength(1);
    expect(row.querySelector('.tw-thumb-bad')?.textContent).toContain('b.png');
    const more = must(row.querySelector<HTMLButtonElement>('.tw-dv-more'));
    expect(more.hidden).toBe(false);
    more.click();
    expect(model.last()).toEqual({ type: 'thumbs', split: 'train', cls: 1, page: 1 });
  });

  it('lists folder problems with their paths as text', () => {
    const model = new FakeModel(undefined, {
      summary: { ...SUMMARY, folder: '/data' },
      checks: { ...CHECKS, problems: [{ path: `/data/${HOSTILE}.png`, problem: 'unreadable image' }], problem_count: 1 }
    });
    const el = mount(dataView, model);
    expect(el.querySelector('.tw-dv-path')?.textContent).toBe(`/data/${HOSTILE}.png`);
    expect(el.querySelectorAll('.tw-dv-problems img')).toHaveLength(0);
  });
});

describe('mistakes panel', () => {
  const STATE = {
    classes: ['a', 'b'],
    running: false,
    weights: 'current',
    confusion: [
      [5, 2],
      [1, 4]
    ],
    most_confused: [{ true: 0, predicted: 1, count: 2 }],
    total: 12,
    errors: 3,
    message: ''
  };

  it('asks for the top losses, then for exactly a clicked cell, and toggles a heat map', () => {
    const model = new FakeModel(undefined, { state: STATE });
    const el = mount(mistakes, model);
    expect(model.last()).toEqual({ type: 'gallery', true: null, predicted: null, page: 0 });
    const cell = must(el.querySelector<HTMLButtonElement>('[aria-label="true a, predicted b: 2 images"]'));
    cell.click();
    expect(model.last()).toEqual({ type: 'gallery', true: 0, predicted: 1, page: 0 });
    model.emit(
      'msg:custom',
      {
        type: 'gallery',
        true: 0,
        predicted: 1,
        page: 0,
        items: [{ index: 7, label: 0, predicted: 1, probability: 0.9, loss: 2.3, path: null }],
        total: 2,
        has_more: false
      },
      [new ArrayBuffer(4)]
    );
    const card = must(el.querySelector('.tw-mi-card'));
    expect(card.textContent).toContain('true: a');
    expect(card.textContent).toContain('pred: b');
    const toggle = must(card.querySelector<HTMLButtonElement>('.tw-mi-heat'));
    toggle.focus();
    toggle.click();
    expect(model.last()).toEqual({ type: 'heatmap', index: 7 });
    toggle.click(); // busy: asked once, and still focused (a disabled button would lose the focus)
    expect(model.sent.filter(m => (m as { type: string }).type === 'heatmap')).toHaveLength(1);
    expect(toggle.disabled).toBe(false);
    expect(document.activeElement).toBe(toggle);
    const img = must(card.querySelector('img'));
    const plain = img.getAttribute('src');
    model.emit('msg:custom', { type: 'heatmap', index: 7, error: null }, [new ArrayBuffer(4)]);
    expect(toggle.getAttribute('aria-pressed')).toBe('true');
    expect(img.getAttribute('src')).not.toBe(plain);
    toggle.click();
    expect(toggle.getAttribute('aria-pressed')).toBe('false');
    expect(img.getAttribute('src')).toBe(plain);
  });

  it('says why there is nothing before training and disables label errors while running', () => {
    const model = new FakeModel(undefined, {
      state: { ...STATE, confusion: [], most_confused: [], running: true, message: 'Train for an epoch' }
    });
    const el = mount(mistakes, model);
    expect(el.querySelector('.tw-mi-message')?.textContent).toBe('Train for an epoch');
    expect(must(el.querySelector<HTMLButtonElement>('.tw-mi-find')).disabled).toBe(true);
    expect(model.sent).toEqual([]);
  });

  it('keeps one matrix cell in the Tab order and moves it with the arrow keys', () => {
    const model = new FakeModel(undefined, { state: STATE });
    const el = mount(mistakes, model);
    const cells = [...el.querySelectorAll<HTMLButtonElement>('.tw-mi-cell-btn')];
    expect(cells.map(c => c.tabIndex)).toEqual([0, -1, -1, -1]);
    cells[0]?.focus();
    must(cells[0]).dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
    expect(document.activeElement).toBe(cells[1]);
    must(cells[1]).dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
    expect(document.activeElement).toBe(cells[3]);
    expect(cells.map(c => c.tabIndex)).toEqual([-1, -1, -1, 0]);
    model.set('state', { ...STATE, total: 13 }); // a re-render keeps the Tab stop and the focus
    const again = [...el.querySelectorAll<HTMLButtonElement>('.tw-mi-cell-btn')];
    expect(again.map(c => c.tabIndex)).toEqual([-1, -1, -1, 0]);
    expect(document.activeElement).toBe(again[3]);
    expect(matrixMove('Home', 1, 1, 2)).toEqual([1, 0]);
    expect(matrixMove('ArrowUp', 0, 1, 2)).toEqual([0, 1]);
    expect(matrixMove('a', 0, 0, 2)).toBeNull();
  });

  it('names each heat-map toggle after its image', () => {
    const model = new FakeModel(undefined, { state: STATE });
    const el = mount(mistakes, model);
    model.emit(
      'msg:custom',
      {
        type: 'gallery',
        true: null,
        predicted: null,
        page: 0,
        items: [
          { index: 12, label: 0, predicted: 1, probability: 0.9, loss: 2.3, path: null },
          { index: 3, label: 1, predicted: 0, probability: 0.8, loss: 1.6, path: `/d/${HOSTILE}.png` }
        ],
        total: 2,
        has_more: false
      },
      [new ArrayBuffer(4), new ArrayBuffer(4)]
    );
    const toggles = [...el.querySelectorAll('.tw-mi-heat')];
    expect(toggles.map(t => t.getAttribute('aria-label'))).toEqual([
      'Heat map for image #12',
      `Heat map for image /d/${HOSTILE}.png`
    ]);
    expect(el.querySelector('.tw-mi-gallery img[src="x"]')).toBeNull();
  });

  it('keeps the focus on "Find likely label errors" while it works, and asks once', () => {
    const model = new FakeModel(undefined, { state: STATE });
    const el = mount(mistakes, model);
    const find = must(el.querySelector<HTMLButtonElement>('.tw-mi-find'));
    find.focus();
    find.click();
    find.click();
    expect(model.sent.filter(m => (m as { type: string }).type === 'label_issues')).toHaveLength(1);
    expect(document.activeElement).toBe(find);
    expect(find.getAttribute('aria-busy')).toBe('true');
    model.emit('msg:custom', { type: 'label_issues', items: [], count: 0, examples: 10, csv: 'index\n' }, []);
    expect(find.getAttribute('aria-busy')).toBeNull();
    expect(el.querySelector('.tw-mi-issues-head')?.textContent).toContain('0 of 10 training labels doubted');
  });

  it('titles the gallery by its filter', () => {
    expect(titleFor({ true: 0, predicted: null, total: 3 }, i => `c${i}`)).toBe('Top losses — true c0 (3 images)');
  });
});
