/** The head designer view in jsdom with a fake anywidget model. */

import type { HeadState } from '@tw/widgets/head/types';
import widget from '@tw/widgets/head_designer';
import { at } from '@tw/widgets/shared/array';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeModel, must } from './fixtures';
import { headState, invalidState } from './head_fixtures';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) must(cleanups.pop())();
  document.body.textContent = '';
});

function mount(state: HeadState = headState(), extra: Record<string, unknown> = {}) {
  const model = new FakeModel(undefined, { state, read_only: false, ...extra });
  const el = document.createElement('div');
  document.body.append(el);
  const cleanup = widget.render({ model, el });
  cleanups.push(cleanup);
  const list = (name: string) => must(el.querySelector<HTMLElement>(`ol[aria-label="${name}"]`));
  const rows = (name = 'Head layers') => Array.from(list(name).querySelectorAll<HTMLElement>(':scope > li'));
  const row = (name: string, listName = 'Head layers') =>
    must(rows(listName).find(r => r.getAttribute('aria-label') === name));
  const labelled = (root: ParentNode, label: string) => {
    const lab = must(Array.from(root.querySelectorAll('label')).find(l => l.textContent === label));
    return must(el.querySelector<HTMLInputElement | HTMLSelectElement>(`#${lab.getAttribute('for')}`));
  };
  const button = (name: string, root: ParentNode = el) =>
    Array.from(root.querySelectorAll('button')).find(
      b => b.getAttribute('aria-label') === name || b.textContent === name
    ) as HTMLButtonElement;
  const commit = (input: HTMLInputElement, value: string) => {
    input.value = value;
    input.dispatchEvent(new Event('change', { bubbles: true }));
  };
  const choose = (sel: HTMLSelectElement, value: string) => {
    sel.value = value;
    sel.dispatchEvent(new Event('change', { bubbles: true }));
  };
  const last = () => model.sent[model.sent.length - 1];
  return { model, el, list, rows, row, labelled, button, commit, choose, last, cleanup };
}

describe('head designer view', () => {
  it('renders rows with labels, previews, the fixed output row and totals, and says hello', () => {
    const v = mount();
    expect(v.model.sent).toEqual([{ type: 'hello' }]);
    expect(v.rows().map(r => r.getAttribute('aria-label'))).toEqual([
      '1. Global average pooling',
      '2. Dense',
      '3. Dropout'
    ]);
    const dense = v.row('2. Dense');
    expect(must(dense.querySelector('.tw-hd-shape')).textContent).toBe('→ (None, 16)');
    expect(must(dense.querySelector('.tw-hd-params')).textContent).toBe('112 params');
    expect((v.labelled(dense, 'Units') as HTMLInputElement).value).toBe('16');
    expect((v.labelled(dense, 'Activation') as HTMLSelectElement).value).toBe('relu');
    expect(v.labelled(dense, 'Units').getAttribute('aria-label')).toBe('Units, 2. Dense');
    const output = must(v.el.querySelector('[aria-label="Output layer"]'));
    expect(must(output.querySelector('.tw-hd-type')).textContent).toBe('Output · Dense 3, softmax');
    expect(must(output.querySelector('.tw-hd-shape')).textContent).toBe('→ (None, 3)');
    expect(output.querySelector('button')).toBeNull(); // the output layer cannot be removed
    expect(must(v.el.querySelector('.tw-hd-totals')).textContent).toBe(
      'Head: 163 params · Model: 331 params, 331 trainable'
    );
    expect(must(v.el.querySelector('[role="status"]')).textContent).toBe('Applied to the model');
    expect(v.rows('Augmentation layers').map(r => r.getAttribute('aria-label'))).toEqual(['1. Random flip']);
    // every form control has a label
    for (const c of Array.from(v.el.querySelectorAll('input, select'))) {
      expect(v.el.querySelector(`label[for="${c.id}"]`)).not.toBeNull();
    }
  });

  it('shows the recipe settings beside the fields they change, as text', () => {
    const hostile = '<img src=x onerror=alert(1)>';
    const v = mount(
      headState({
        optimizer: 'SGD',
        recipe: {
          optimizer_args: 'momentum=0.9, nesterov=True',
          lr_schedule: 'CosineDecay(decay_steps=40)',
          class_weight: `0: 1.0, 1: 2.0`,
          loss_args: `label_smoothing=0.1, name='${hostile}'`
        }
      })
    );
    const hint = (label: string) =>
      must(v.el.querySelector(`#${v.labelled(v.el, label).getAttribute('aria-describedby')?.split(' ')[0]}`))
        .textContent;
    expect((v.labelled(v.el, 'Optimizer') as HTMLSelectElement).value).toBe('SGD');
    expect(hint('Optimizer')).toBe('with momentum=0.9, nesterov=True');
    expect(hint('Learning rate')).toBe('start of CosineDecay(decay_steps=40)');
    expect(hint('Loss')).toBe(`with label_smoothing=0.1, name='${hostile}'; class weights 0: 1.0, 1: 2.0`);
    expect(v.el.querySelector('img')).toBeNull();
  });

  it('shows no hint where the config has no recipe setting', () => {
    const v = mount();
    expect(v.labelled(v.el, 'Optimizer').getAttribute('aria-describedby')).toBeNull();
    expect(v.labelled(v.el, 'Loss').getAttribute('aria-describedby')).toBeNull();
  });

  it('sends add / remove / move / set intents by row id', () => {
    const v = mount();
    v.button('Add Dense layer').click();
    expect(v.last()).toEqual({ type: 'add', section: 'layers', layer: 'dense' });
    v.button('Add Random zoom augmentation').click();
    expect(v.last()).toEqual({ type: 'add', section: 'augmentation', layer: 'random_zoom' });
    v.button('Remove 3. Dropout').click();
    expect(v.last()).toEqual({ type: 'remove', section: 'layers', id: 2 });
    v.button('Move 2. Dense up').click();
    expect(v.last()).toEqual({ type: 'move', section: 'layers', id: 3, to: 0 });
    v.button('Move 2. Dense down').click();
    expect(v.last()).toEqual({ type: 'move', section: 'layers', id: 3, to: 2 });
    expect(v.button('Move 1. Global average pooling up').disabled).toBe(true);
    expect(v.button('Move 3. Dropout down').disabled).toBe(true);
    const dense = v.row('2. Dense');
    v.commit(v.labelled(dense, 'Units') as HTMLInputElement, '64');
    expect(v.last()).toEqual({ type: 'set', section: 'layers', id: 3, field: 'units', value: 64 });
    v.commit(v.labelled(dense, 'Units') as HTMLInputElement, 'lots');
    expect(v.last()).toEqual({ type: 'set', section: 'layers', id: 3, field: 'units', value: 'lots' });
    v.choose(v.labelled(dense, 'Activation') as HTMLSelectElement, '');
    expect(v.last()).toEqual({ type: 'set', section: 'layers', id: 3, field: 'activation', value: null });
    v.commit(v.labelled(v.row('3. Dropout'), 'Rate') as HTMLInputElement, '0.5');
    expect(v.last()).toEqual({ type: 'set', section: 'layers', id: 2, field: 'rate', value: 0.5 });
    v.choose(v.labelled(v.row('1. Random flip', 'Augmentation layers'), 'Mode') as HTMLSelectElement, 'vertical');
    expect(v.last()).toEqual({ type: 'set', section: 'augmentation', id: 4, field: 'mode', value: 'vertical' });
  });

  it('sends task, classes, compile fields and presets', () => {
    const v = mount();
    v.choose(v.labelled(v.el, 'Task') as HTMLSelectElement, 'binary');
    expect(v.last()).toEqual({ type: 'field', field: 'task', value: 'binary' });
    v.commit(v.labelled(v.el, 'Classes') as HTMLInputElement, '5');
    expect(v.last()).toEqual({ type: 'field', field: 'num_classes', value: 5 });
    v.commit(v.labelled(v.el, 'Class names') as HTMLInputElement, 'a, b');
    expect(v.last()).toEqual({ type: 'field', field: 'class_names', value: ['a', 'b'] });
    v.choose(v.labelled(v.el, 'Optimizer') as HTMLSelectElement, 'sgd');
    expect(v.last()).toEqual({ type: 'field', field: 'optimizer', value: 'sgd' });
    v.commit(v.labelled(v.el, 'Learning rate') as HTMLInputElement, '3e-4');
    expect(v.last()).toEqual({ type: 'field', field: 'learning_rate', value: 0.0003 });
    const loss = v.labelled(v.el, 'Loss') as HTMLSelectElement;
    expect(must(loss.options[0]).textContent).toBe('auto: sparse_categorical_crossentropy');
    v.choose(loss, 'mse');
    expect(v.last()).toEqual({ type: 'field', field: 'loss', value: 'mse' });
    v.choose(loss, '');
    expect(v.last()).toEqual({ type: 'field', field: 'loss', value: null });
    v.commit(v.labelled(v.el, 'Metrics') as HTMLInputElement, '');
    expect(v.last()).toEqual({ type: 'field', field: 'metrics', value: null });
    v.button('Teachable Machine').click();
    expect(v.last()).toEqual({ type: 'preset', name: 'teachable_machine' });
  });

  it('shows each problem inline next to its field and hides previews until valid', () => {
    const v = mount(invalidState());
    const units = v.labelled(v.row('2. Dense'), 'Units') as HTMLInputElement;
    expect(units.value).toBe('abc');
    expect(units.getAttribute('aria-invalid')).toBe('true');
    const err = must(document.getElementById(must(units.getAttribute('aria-describedby'))));
    expect(err.textContent).toBe("must be a positive integer, got 'abc'");
    expect(err.closest('li')).toBe(v.row('2. Dense'));
    expect(must(v.el.querySelector('[role="status"]')).textContent).toBe('Not applied: 1 problem to fix');
    expect(v.el.querySelectorAll('.tw-hd-shape').length).toBe(0);
    // compile and head-level errors land next to their fields too
    const s = invalidState();
    s.errors = {
      'training.learning_rate': 'must be a positive number, got 0',
      'head.metrics[1]': "must be a Keras metric name, got 'x'",
      'head.layers': "must reduce the base's output to a vector"
    };
    v.model.set('state', s);
    const lr = v.labelled(v.el, 'Learning rate');
    expect(lr.getAttribute('aria-invalid')).toBe('true');
    expect(must(must(lr.closest('.tw-hd-field')).querySelector('.tw-hd-error')).textContent).toBe(
      'must be a positive number, got 0'
    );
    expect(must(v.labelled(v.el, 'Metrics').closest('.tw-hd-field')).textContent).toContain("got 'x'");
    expect(must(v.el.querySelector('.tw-hd-head > .tw-hd-row-error')).textContent).toBe(
      "must reduce the base's output to a vector"
    );
  });

  it('drags a row by its handle to a new place', () => {
    const v = mount();
    // jsdom has no layout: give each row a box.
    v.rows().forEach((r, i) => {
      r.getBoundingClientRect = () =>
        ({
          top: i * 30,
          bottom: i * 30 + 30,
          left: 0,
          right: 100,
          height: 30,
          width: 100,
          x: 0,
          y: i * 30,
          toJSON() {}
        }) as DOMRect;
    });
    const Pointer: typeof MouseEvent = globalThis.PointerEvent ?? MouseEvent; // jsdom has no PointerEvent
    const handle = v.button('Drag 3. Dropout to reorder (Alt+Arrow keys move it)');
    handle.dispatchEvent(new Pointer('pointerdown', { bubbles: true, cancelable: true, clientY: 75, button: 0 }));
    document.dispatchEvent(new Pointer('pointermove', { bubbles: true, clientY: 33 }));
    expect(v.el.querySelector('.tw-hd-drop')).not.toBeNull();
    document.dispatchEvent(new Pointer('pointerup', { bubbles: true, clientY: 33 }));
    expect(v.last()).toEqual({ type: 'move', section: 'layers', id: 2, to: 1 });
    expect(v.el.querySelector('.tw-hd-drop')).toBeNull();
    // a drop where it started sends nothing
    const n = v.model.sent.length;
    handle.dispatchEvent(new Pointer('pointerdown', { bubbles: true, cancelable: true, clientY: 75, button: 0 }));
    document.dispatchEvent(new Pointer('pointerup', { bubbles: true, clientY: 80 }));
    expect(v.model.sent.length).toBe(n);
  });

  it('moves a row with Alt+Arrow keys on its handle and keeps focus there', () => {
    const v = mount();
    const handle = v.button('Drag 2. Dense to reorder (Alt+Arrow keys move it)');
    handle.focus();
    handle.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowUp', altKey: true, bubbles: true }));
    expect(v.last()).toEqual({ type: 'move', section: 'layers', id: 3, to: 0 });
    const s = headState();
    s.layers = [1, 0, 2].map(i => at(s.layers, i));
    v.model.set('state', s);
    expect(must(document.activeElement).getAttribute('aria-label')).toBe(
      'Drag 1. Dense to reorder (Alt+Arrow keys move it)'
    );
  });

  it('is read-only or disabled while training: every control is disabled', () => {
    const v = mount(headState(), { read_only: true });
    const controls = Array.from(v.el.querySelectorAll<HTMLInputElement>('input, select, button'));
    expect(controls.length).toBeGreaterThan(20);
    expect(controls.every(c => c.disabled)).toBe(true);
    expect(must(v.el.querySelector('.tw-badge')).textContent).toBe('Read-only');
    v.model.set('read_only', false);
    expect(v.button('Add Dense layer').disabled).toBe(false);
    v.model.set('disabled', true);
    expect(v.button('Add Dense layer').disabled).toBe(true);
    expect(must(v.el.querySelector('[role="status"]')).textContent).toBe('Editing is disabled while the model trains');
  });

  it('renders model-supplied and user strings as text only', () => {
    const s = headState();
    s.base.name = '<img src=x onerror="window.__pwned=1">';
    s.class_names = ['<b>cat</b>', 'dog', 'bird'];
    s.errors = { 'head.class_names': '<script>alert(1)</script>' };
    const v = mount(s);
    expect(v.el.querySelector('img, b, script')).toBeNull();
    expect(must(v.el.querySelector('.tw-hd-base')).textContent).toContain('<img src=x');
    expect((v.labelled(v.el, 'Class names') as HTMLInputElement).value).toBe('<b>cat</b>, dog, bird');
  });

  it('shows kernel errors in an alert and clears them on the next ok', () => {
    const v = mount();
    const alert = must(v.el.querySelector<HTMLElement>('[role="alert"]'));
    expect(alert.hidden).toBe(true);
    v.model.receive({ type: 'error', message: 'Unknown preset' });
    expect(alert.hidden).toBe(false);
    expect(alert.textContent).toBe('Unknown preset');
    v.model.receive({ type: 'ok' });
    expect(alert.hidden).toBe(true);
  });

  it('cleans up its listeners', () => {
    const v = mount();
    v.cleanup();
    cleanups.pop();
    expect(v.model.listenerCount()).toBe(0);
    expect(v.el.querySelector('.tw-head-designer')).toBeNull();
  });
});
