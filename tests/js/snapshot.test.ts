/** Views with no kernel (a page rendered from saved state) say so and turn their controls off. */

import widget from '@tw/widgets/layer_tree';
import { h } from '@tw/widgets/shared/dom';
import { isSnapshot, snapshotAware } from '@tw/widgets/shared/snapshot';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeModel, flatSpec, must, payload } from './fixtures';

afterEach(() => {
  document.body.textContent = '';
  delete document.documentElement.dataset.twStatic;
});

function mountTree(manager: object | undefined) {
  const model = Object.assign(new FakeModel(payload(flatSpec())), { widget_manager: manager });
  const el = document.createElement('div');
  document.body.append(el);
  const cleanup = widget.render({ model, el });
  return { model, el, cleanup };
}

describe('snapshot views', () => {
  it('a widget manager without a kernel (html-manager) makes the tree a read-only snapshot', () => {
    const v = mountTree({});
    expect(must(v.el.querySelector('[role="note"]')).textContent).toContain('Snapshot');
    const boxes = Array.from(v.el.querySelectorAll<HTMLInputElement>('input[type="checkbox"][aria-label]'));
    expect(boxes.length).toBeGreaterThan(0);
    expect(boxes.every(b => b.disabled)).toBe(true);
    must(boxes[1]).click();
    expect(v.model.sent).toEqual([]); // nothing would answer
    expect(v.el.querySelectorAll('[role="treeitem"]').length).toBe(9); // still shows the layers
    v.cleanup();
    expect(v.el.querySelector('[role="note"]')).toBeNull();
  });

  it('a live kernel, or no widget manager at all, is not a snapshot', () => {
    const live = mountTree({ kernel: {} });
    expect(live.el.querySelector('[role="note"]')).toBeNull();
    expect(live.el.querySelector<HTMLInputElement>('input[type="checkbox"][aria-label]')?.disabled).toBe(false);
    expect(isSnapshot(new FakeModel())).toBe(false);
  });

  it('the embedder can say so, and views without a disabled trait get every control off', () => {
    document.documentElement.dataset.twStatic = 'true';
    const render = snapshotAware(({ el }) => {
      el.append(h('button', undefined, 'Export'), h('select'));
      return () => {};
    }, 'all');
    const el = document.createElement('div');
    render({ model: new FakeModel(), el });
    const controls = Array.from(el.querySelectorAll<HTMLButtonElement | HTMLSelectElement>('button, select'));
    expect(controls.length).toBe(2);
    expect(controls.every(c => c.disabled)).toBe(true);
  });
});
