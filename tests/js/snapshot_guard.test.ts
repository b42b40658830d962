/** The snapshot guard of the ipywidgets composites (studio toolbar, training monitor). */

import { h } from '@tw/widgets/shared/dom';
import widget from '@tw/widgets/snapshot_guard';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeModel, must } from './fixtures';

afterEach(() => {
  document.body.textContent = '';
});

/** A studio-like composite: a toolbar, a nested panel with its own snapshot mode, the guard. */
function composite(manager: object) {
  const root = h('div', 'tw-studio');
  const toolbar = h('div', 'tw-studio-toolbar');
  toolbar.append(h('button', undefined, 'Train head'), h('input'), h('select'), h('textarea'));
  const panel = h('div', 'tw-widget tw-layer-tree');
  panel.append(h('button', undefined, 'Expand'));
  const el = h('div', 'tw-snapshot-guard');
  root.append(el, toolbar, panel);
  document.body.append(root);
  const model = Object.assign(new FakeModel(undefined, { root: 'tw-studio' }), { widget_manager: manager });
  const cleanup = widget.render({ model, el });
  return { root, toolbar, panel, el, cleanup };
}

const flush = () => new Promise(resolve => setTimeout(resolve, 0)); // MutationObserver callbacks

function controls(of: Element) {
  return Array.from(of.querySelectorAll<HTMLButtonElement | HTMLInputElement>('button, input, select, textarea'));
}

describe('snapshot guard', () => {
  it('live: shows nothing, takes no space, turns nothing off', async () => {
    const v = composite({ kernel: {} });
    expect(v.el.childNodes.length).toBe(0); // empty: snapshot_guard.css hides it (no box, no gap)
    v.toolbar.append(h('button', undefined, 'Stop'));
    await flush();
    expect(controls(v.root).some(c => c.disabled)).toBe(false);
    v.cleanup();
  });

  it('snapshot: the note, and every control of its root off, a nested widget left to itself', async () => {
    const v = composite({}); // html-manager: no kernel
    const note = must(v.el.querySelector('[role="note"]'));
    expect(note.className).toBe('tw-snapshot-note');
    expect(note.textContent).toContain('Snapshot: saved with this page, no kernel connected');
    expect(controls(v.toolbar).length).toBe(4);
    expect(controls(v.toolbar).every(c => c.disabled)).toBe(true);
    expect(must(v.panel.querySelector('button')).disabled).toBe(false); // the tree keeps expand on
    v.cleanup();
    expect(v.el.querySelector('[role="note"]')).toBeNull();
  });

  it('snapshot: controls rendered after it, or turned back on, are turned off', async () => {
    const v = composite({});
    const late = h('button', undefined, 'Stop');
    v.toolbar.append(late);
    await flush();
    expect(late.disabled).toBe(true);
    const first = must(v.toolbar.querySelector('button'));
    first.disabled = false; // a view re-rendering from its model
    await flush();
    expect(first.disabled).toBe(true);
    v.cleanup();
    const afterCleanup = h('button', undefined, 'Export');
    v.toolbar.append(afterCleanup);
    await flush();
    expect(afterCleanup.disabled).toBe(false); // the observer is gone
  });

  it('snapshot: a guard rendered before its box is on the page finds its root when it arrives', async () => {
    const root = h('div', 'tw-training-monitor tw-widget');
    const el = h('div', 'tw-snapshot-guard');
    const model = Object.assign(new FakeModel(undefined, { root: 'tw-training-monitor' }), { widget_manager: {} });
    const cleanup = widget.render({ model, el }); // ipywidgets renders a child, then inserts it
    const train = h('button', undefined, 'Train');
    root.append(train);
    await flush();
    expect(train.disabled).toBe(false); // not the guard's: it is not in this root yet
    root.prepend(el);
    document.body.append(root);
    await flush();
    expect(train.disabled).toBe(true); // the monitor's own buttons are its root's, not nested
    cleanup();
  });
});
